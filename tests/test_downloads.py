"""Downloads are named after the format found in the file's bytes, without control or bidi characters.

The class: every stored file reaches a person through ``core.storage.download`` (a test keeps it the
only ``send_file``), and every page shows a file by its ``display_name``; both use one naming rule.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from codev.core.filenames import clean_filename, download_name
from tests.factories_associations import PDF_BYTES, member_of, upload
from tests.factories_projects import ready_project
from tests.test_projects_files import send

CODEV = Path(__file__).parent.parent / "codev"

RLO = "\u202e"


@pytest.mark.parametrize(("typed", "extension", "expected"), [
    ("devis.html", "pdf", "devis.pdf"),
    ("devis.pdf", "pdf", "devis.pdf"),
    (f"rapport{RLO}fdp.exe", "pdf", "rapportfdp.pdf"),
    ("photo du chantier.JPEG", "jpg", "photo du chantier.jpg"),
    ("Statuts 2024", "pdf", "Statuts 2024.pdf"),
    ("Devis école – Kpalimé.docx", "docx", "Devis école – Kpalimé.docx"),
    ("../../etc/passwd", "pdf", "passwd.pdf"),
    ("C:\\Users\\afi\\budget.xlsx", "xlsx", "budget.xlsx"),
    ("a\x00b\x1f\u200fc\u2066.pdf", "pdf", "abc.pdf"),
    ('re"port<1>|?.pdf', "pdf", "re_port_1.pdf"),
    ("...", "pdf", "document.pdf"),
    ("", "png", "document.png"),
    (".htaccess", "pdf", "htaccess.pdf"),
    ("x" * 300 + ".pdf", "pdf", "x" * 120 + ".pdf"),
])
def test_download_name(typed, extension, expected):
    assert download_name(typed, extension) == expected


def test_clean_filename_keeps_letters_of_every_language():
    assert clean_filename("Ɖeviŋ Kabiyè ƒɔ.pdf") == "Ɖeviŋ Kabiyè ƒɔ.pdf"
    assert clean_filename(f"x{RLO}y\u202a\u202cz") == "xyz"


def test_send_file_is_called_only_by_the_download_helper():
    """Any other file response would escape the naming rule."""
    users = sorted(str(p.relative_to(CODEV)) for p in CODEV.rglob("*.py") if "send_file(" in p.read_text())
    assert users == ["core/storage.py"]


def test_templates_never_show_the_typed_name():
    shown = [str(p.relative_to(CODEV)) for p in (CODEV / "templates").rglob("*.html")
             if "original_name" in p.read_text()]
    assert shown == []


def disposition_name(response) -> str:
    header = response.headers["Content-Disposition"]
    match = re.search(r"filename\*=UTF-8''([^;]+)", header)
    return unquote(match.group(1)) if match else re.search(r'filename="?([^";]+)', header).group(1)


@pytest.mark.parametrize(("typed", "expected"), [("devis.html", "devis.pdf"), (f"devis{RLO}lmth.exe", "devislmth.pdf")])
def test_project_document_downloads_under_its_detected_format(client, db, users, login_as, typed, expected):
    member = login_as(users["association"])
    project = ready_project(member)
    db.session.commit()
    assert send(client, project, PDF_BYTES, typed).status_code == 302
    link = project.attachments[-1]
    assert link.file.original_name == typed.replace(RLO, "")  # what was typed, minus the hidden characters
    with client.get(f"/projects/{project.id}/files/{link.id}") as response:
        assert response.status_code == 200 and response.data == PDF_BYTES
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert disposition_name(response) == expected
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert expected in page and RLO not in page and typed not in page


def test_statutes_download_under_their_detected_format(client, db, login_as):
    from tests import factories

    association = factories.AssociationFactory()
    login_as(member_of(association))
    client.post(f"/associations/{association.id}/statutes",
                data={"statutes": upload(PDF_BYTES, f"statuts{RLO}lmth.html")}, content_type="multipart/form-data")
    with client.get(f"/associations/{association.id}/statutes/download") as response:
        assert response.status_code == 200
        assert disposition_name(response) == "statutslmth.pdf"
    page = client.get(f"/associations/{association.id}").get_data(as_text=True)
    assert "statutslmth.pdf" in page and RLO not in page
