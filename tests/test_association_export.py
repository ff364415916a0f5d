"""The association's export (issue 14): a member downloads a ZIP of everything codev holds about their
association — JSON of the profile, members, projects (budgets, plan, history), grants and letters, and every
file — from the association page; only their own (another association's member gets 404, staff 403), nothing
of other associations, no evaluators or staff who decided; audited; bounded in memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from sqlalchemy import select

from codev.core.models import AuditEvent
from codev.oversight import association_export
from codev.projects.models import ProjectEvent, ProjectStatus
from tests import factories
from tests.factories_grants import awarded_grant
from tests.factories_projects import PDF_BYTES, member_of, ready_project, stored_file

pytestmark = pytest.mark.backends


@pytest.fixture
def world(db):
    association = factories.AssociationFactory(verified=True, name="Ressortissants de Kpalimé", locale="fr",
                                               contact_phone="+33 6 12 34 56 78")
    association.statutes = stored_file(b"%PDF-1.4 statuts\n%%EOF\n", name="statuts.pdf", kind="statutes")
    member = member_of(association, name="Yawa Amegah", email="yawa@asso.example.org")
    draft = ready_project(member, title="Latrines de l'école de Kpimé")
    funded = ready_project(member, title="Forage de Tomégbé", status=ProjectStatus.APPROVED,
                           reference="CODEV-2026-0101")
    db.session.add(ProjectEvent(project_id=draft.id, action="returned", message="Ajoutez le devis du maçon.",
                                actor_id=member.id))
    grant = awarded_grant(funded)
    other = factories.AssociationFactory(verified=True, name="Autre association de Lomé",
                                         contact_email="secret@other.example.org")
    stranger = member_of(other, email="stranger@other.example.org")
    ready_project(stranger, title="Projet confidentiel de l'autre")
    db.session.commit()
    return {"association": association, "member": member, "draft": draft, "funded": funded, "grant": grant,
            "stranger": stranger, "other": other}


def download(client, association_id: int):
    return client.get(f"/associations/{association_id}/export")


def test_a_member_downloads_everything_about_their_association(client, db, login_as, world):
    login_as(world["member"])
    response = download(client, world["association"].id)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {"manifest.json", "association.json", "members.json", "projects.json", "retention.json"} <= names

    profile = json.loads(archive.read("association.json"))
    assert (profile["name"], profile["contact_phone"], profile["status"]) == (
        "Ressortissants de Kpalimé", "+33 6 12 34 56 78", "verified")
    assert archive.read(profile["statutes"]["path"]) == b"%PDF-1.4 statuts\n%%EOF\n"
    members = json.loads(archive.read("members.json"))["members"]
    assert [(m["name"], m["email"]) for m in members] == [("Yawa Amegah", "yawa@asso.example.org")]

    projects = {p["title"]: p for p in json.loads(archive.read("projects.json"))}
    assert set(projects) == {"Latrines de l'école de Kpimé", "Forage de Tomégbé"}
    draft = projects["Latrines de l'école de Kpimé"]
    assert [(b["category"], b["amount_xof"]) for b in draft["budget_lines"]] == [("works", 7_000_000),
                                                                                  ("equipment", 3_000_000)]
    assert sum(f["amount_xof"] for f in draft["financing_lines"]) == 6_000_000
    assert [(h["message"], h["by"]) for h in draft["history"]] == [("Ajoutez le devis du maçon.", "Yawa Amegah")]
    (document,) = draft["documents"]
    assert archive.read(document["path"]) == PDF_BYTES
    assert document["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()

    grant = projects["Forage de Tomégbé"]["grant"]
    assert grant["amount_xof"] == world["grant"].amount_xof and len(grant["tranches"]) >= 1
    letters = grant["letters"]
    assert letters and all(archive.read(letter["path"]).startswith(b"%PDF") for letter in letters)
    assert {letter["reference"] for letter in letters} == {letter.reference for letter in world["grant"].letters}

    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["missing_files"] == [] and manifest["files"] == 3 + len(letters)  # statutes, two quotes, letters
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "association.export")).one()
    assert (event.object_id, event.actor_id) == (world["association"].id, world["member"].id)
    assert event.after == {"size": len(response.data), "projects": 2, "files": 3 + len(letters)}


def test_nothing_of_another_association_or_of_the_staff_who_decided(client, login_as, world):
    login_as(world["member"])
    archive = zipfile.ZipFile(io.BytesIO(download(client, world["association"].id).data))
    text = b"".join(archive.read(name) for name in archive.namelist() if name.endswith(".json")).decode()
    for secret in ("Autre association de Lomé", "secret@other.example.org", "stranger@other.example.org",
                   "Projet confidentiel de l'autre"):
        assert secret not in text
    approver = world["grant"].approved_by
    assert approver.email not in text  # the approver signs the letter by name, never by email
    assert "approved_by" not in text and "verified_by" not in text and "recorded_by" not in text
    assert "last_login_at" not in text and "password" not in text  # nothing the page does not show


def test_only_their_own_association(client, db, login_as, users, world):
    login_as(world["stranger"])
    assert download(client, world["association"].id).status_code == 404
    assert download(client, 99999).status_code == 404
    for role in ("officer", "evaluator", "admin"):
        login_as(users[role])
        assert download(client, world["association"].id).status_code == 403
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "association.export")).all() == []


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = download(client, world["association"].id)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_association_page_offers_the_download_to_members_only(client, login_as, users, world):
    link = f'href="/associations/{world["association"].id}/export"'
    login_as(world["member"])
    page = client.get(f"/associations/{world['association'].id}").get_data(as_text=True)
    assert link in page and "Télécharger nos données (ZIP)" in page
    assert "365 jours" in page and "730 jours" in page and "30 jours" in page
    login_as(users["officer"])
    assert link not in client.get(f"/associations/{world['association'].id}").get_data(as_text=True)


def test_the_archive_spools_to_disk_beyond_its_memory_bound(db, world, monkeypatch):
    from codev.core.timeutil import utcnow

    monkeypatch.setattr(association_export, "SPOOL_BYTES", 1024)
    archive = association_export.build(world["association"].id, utcnow())
    assert archive.size > 1024 and archive.file._rolled  # on disk, not in memory
    assert zipfile.ZipFile(archive.file).testzip() is None
