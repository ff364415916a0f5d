"""Attachments (type by content, size limits, the draft kept), hostile text, and the project sheet PDF."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from codev.core.storage import storage
from codev.projects.models import Project
from tests.factories_projects import EXE_BYTES, PDF_BYTES, ready_project, submitted_project

SCRIPT = '<script>alert("x")</script>'


def english(user):
    user.locale = "en"
    return user


def reload(db, project):
    db.session.expire_all()
    return db.session.get(Project, project.id)


def pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def project(db, users, login_as):
    member = login_as(english(users["association"]))
    project = ready_project(member)
    db.session.commit()
    return project


def send(client, project, data: bytes, name: str = "devis.pdf", kind: str = "quote"):
    """Post the upload as a ready-made multipart body (the test client would spool a large file to an
    unclosed temporary file)."""
    boundary = "----codev-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return client.post(f"/projects/{project.id}/attachments", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def stored_files() -> set[str]:
    return set(storage().keys())


def test_upload_list_and_delete_while_editable(client, db, project):
    response = send(client, project, PDF_BYTES, "plan du forage.pdf", kind="technical_file")
    assert response.status_code == 302
    project = reload(db, project)
    assert [a.kind for a in project.attachments] == ["quote", "technical_file"]
    added = project.attachments[1]
    assert added.file.original_name == "plan du forage.pdf" and added.file.size == len(PDF_BYTES)
    page = client.get(f"/projects/{project.id}/attachments").get_data(as_text=True)
    assert "plan du forage.pdf" in page and "Technical file" in page
    stored_name = added.file.stored_name
    quote_id = project.attachments[0].id
    client.post(f"/projects/{project.id}/attachments/{added.id}/delete")
    assert stored_name not in stored_files()
    client.post(f"/projects/{project.id}/attachments/{quote_id}/delete")
    project = reload(db, project)
    assert project.attachments == [] and "attachments" not in project.steps_done  # the quote is missing again
    assert [e.action for e in project.events][-3:] == ["attachment_added", "attachment_deleted", "attachment_deleted"]


def test_a_renamed_executable_is_refused_and_the_draft_kept(client, db, project):
    before = stored_files()
    response = send(client, project, EXE_BYTES, "devis.pdf")
    assert response.status_code == 400
    assert "This file is not an accepted document." in response.get_data(as_text=True)
    assert len(reload(db, project).attachments) == 1 and stored_files() == before
    assert reload(db, project).title == "Forage équipé à Kpimé"


def test_a_file_over_the_limit_is_refused_in_words(app, client, db, project):
    app.config["PROJECT_FILE_MAX_BYTES"] = 1024 * 1024
    before = stored_files()
    response = send(client, project, PDF_BYTES + b"0" * (1024 * 1024))
    assert response.status_code == 400
    assert "The file is too large (at most 1 MB)." in response.get_data(as_text=True)
    assert len(reload(db, project).attachments) == 1 and stored_files() == before


def test_the_calls_total_per_project_is_enforced(client, db, project):
    project.call.max_project_files_bytes = 1024 * 1024
    db.session.commit()
    before = stored_files()
    response = send(client, project, PDF_BYTES + b"0" * (1024 * 1024 - 10))
    assert response.status_code == 400
    assert "may not exceed 1 MB in all" in response.get_data(as_text=True)
    assert stored_files() == before and len(reload(db, project).attachments) == 1


def test_a_request_above_the_server_limit_is_a_clear_413(app, client, db, project):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = send(client, project, PDF_BYTES + b"0" * 4096)
    assert response.status_code == 413 and "Nothing was saved" in response.get_data(as_text=True)
    assert len(reload(db, project).attachments) == 1


def test_an_upload_without_file_or_kind_says_what_to_fix(client, db, project):
    response = client.post(f"/projects/{project.id}/attachments", data={"kind": "quote"},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a file to send." in response.get_data(as_text=True)
    response = send(client, project, PDF_BYTES, kind="virus")
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)


def test_a_title_of_5000_characters_is_refused(client, db, project):
    response = client.post(f"/projects/{project.id}/general", data={
        "version": project.version, "title": "T" * 5000, "sector": "water", "summary": "Résumé"})
    assert response.status_code == 400 and "At most 200 characters." in response.get_data(as_text=True)
    assert reload(db, project).title == "Forage équipé à Kpimé"


TEXT_FIELDS = ("title", "summary", "village", "local_partner_name", "local_partner_commitment", "problem",
               "objectives", "activities")


def test_html_in_every_text_field_is_escaped_in_the_page_and_the_pdf(client, db, users, login_as):
    member = english(users["association"])
    hostile = {name: f"{SCRIPT} {name}" for name in TEXT_FIELDS}
    hostile["title"] = f"<b>gras</b>{SCRIPT}"[:200]
    project = ready_project(member, **hostile)
    project.budget_lines[0].description = f"<img src=x onerror=alert(1)>{SCRIPT}"
    project.financing_lines[0].description = "<iframe src=//evil></iframe>"
    project.attachments[0].file.original_name = "<svg onload=alert(1)>.pdf"
    db.session.commit()
    from codev.projects.services import return_project, submit_project

    submit_project(project, member)
    return_project(project, users["officer"], f"Message {SCRIPT}")
    db.session.commit()
    for who in (member, users["officer"]):
        login_as(who)
        page = client.get(f"/projects/{project.id}").get_data(as_text=True)
        for raw in ("<script>alert", "<b>gras</b>", "<img src=x", "<iframe", "<svg onload"):
            assert raw not in page, raw
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
        assert "&lt;b&gt;gras&lt;/b&gt;" in page
    login_as(member)
    page = client.get(f"/projects/{project.id}/general").get_data(as_text=True)
    assert "<script>alert" not in page and "<b>gras" not in page
    text = pdf_text(client.get(f"/projects/{project.id}/sheet.pdf").data)
    assert 'alert("x")' in text and "<script>" in text and "<b>gras</b>" in text  # printed as text
    assert "<iframe src=//evil></iframe>" in text and "Message <script>" in text


def test_the_sheet_has_the_title_figures_and_rules_in_the_associations_language(client, db, users, login_as):
    member = users["association"]
    member.association.locale = "en"
    project = submitted_project(member)
    login_as(member)
    response = client.get(f"/projects/{project.id}/sheet.pdf?lang=fr")  # members get the association's language
    assert response.headers["Content-Type"] == "application/pdf"
    text = pdf_text(response.data)
    for expected in ("Forage équipé à Kpimé", project.reference, "Kloto 1", "Project sheet", "Total budget",
                     "10,000,000", "4,000,000", "40%", "Grant allowed at most", "devis.pdf", "Met:"):
        assert expected in text, expected
    login_as(users["officer"])
    text = pdf_text(client.get(f"/projects/{project.id}/sheet.pdf?lang=fr").data)
    assert "Fiche projet" in text or "Project sheet" not in text
    assert "10 000 000" in text.replace("\u202f", " ").replace("\xa0", " ")
