"""Staff-assisted applications: an officer files a paper application for an association and hands it over.

The rules (only officers, only until the hand-over, the online rules for the project, the signed scan before
submission, a single-use expiring link), their audit events and history, and what each page shows.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

from sqlalchemy import select

from codev.accounts.assisted import AssistedAssociation, HandoverLink, acts_for
from codev.accounts.models import Association, AssociationStatus, Role, User
from codev.accounts.services import authenticate
from codev.core.models import AuditEvent
from codev.core.timeutil import utcnow
from codev.projects.assisted import AssistedProject
from codev.projects.models import Project, ProjectEvent, ProjectStatus
from tests import factories
from tests.factories_associations import PASSWORD
from tests.factories_projects import BUDGET, EXE_BYTES, FINANCING, GRANT, PDF_BYTES, stored_file

EN = {"Accept-Language": "en"}
PROFILE = {
    "channel": "embassy", "name": "Amicale des Ressortissants de Kpalimé à Bruxelles", "acronym": "ARKB",
    "country": "BE", "city": "Bruxelles", "registration_number": "BE-0712.345.678",
    "contact_name": "Yawa Akakpo", "contact_email": "Yawa.Akakpo@example.org", "domains": ["water"],
    "locale": "en",
}


def audit_actions(db, object_type, object_id):
    return [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == object_type, AuditEvent.object_id == object_id).order_by(AuditEvent.id))]


def file_association(client, **overrides):
    return client.post("/projects/assisted/new", data={**PROFILE, **overrides}, headers=EN)


def filed(db, officer, *, verified=True, **overrides) -> Association:
    """An association filed by ``officer`` (through the service), verified unless told otherwise."""
    from codev.accounts.assisted import file_association as service

    profile = {k: v for k, v in {**PROFILE, **overrides}.items() if k != "channel"}
    association = service(profile, "paper", officer)
    if verified:
        association.status = AssociationStatus.VERIFIED  # as the verify button leaves it (tested below)
        association.verified_at = utcnow()
    db.session.commit()
    return association


def fill_steps(project: Project) -> None:
    """The rest of the paper form, as the step pages save it (the general step goes through its page)."""
    from codev.projects.models import BudgetLine, FinancingLine, ProjectAttachment
    from tests.factories_projects import ALL_STEPS

    for name, value in dict(region="TG-P", prefecture="Kloto", commune="Kloto 1", local_partner_name="CVD",
                            local_partner_kind="committee", local_partner_commitment="Terrain", problem="Pas d'eau",
                            objectives="Eau", activities="Forage", beneficiaries_total=900, duration_months=8,
                            requested_grant_xof=GRANT, steps_done=ALL_STEPS).items():
        setattr(project, name, value)
    project.budget_lines = [BudgetLine(position=i, category=c, description=d, quantity=q, unit_cost_xof=u,
                                       amount_xof=q * u) for i, (c, d, q, u) in enumerate(BUDGET)]
    project.financing_lines = [FinancingLine(position=i, source=s, currency="XOF", amount_minor=a,
                                             rate_millionths=1_000_000, amount_xof=a)
                               for i, (s, a) in enumerate(FINANCING)]
    quote = stored_file()
    project.attachments = [ProjectAttachment(attachment_id=quote.id, kind="quote", file=quote)]


def link_in(message) -> str:
    match = re.search(r"http://localhost(/projects/assisted/take-over/[A-Za-z0-9_\-]+)", message.body)
    assert match, message.body
    return match.group(1)


def take_over(client, path, **overrides):
    data = {"full_name": "Yawa Akakpo", "password": PASSWORD, "confirm": PASSWORD, "locale": "en", **overrides}
    return client.post(path, data=data, headers=EN)


def test_officer_files_a_paper_application_and_hands_it_over(app, client, db, login_as, outbox):
    officer = login_as(factories.UserFactory(officer=True, name="Afi Officer", locale="en"))
    call = factories.CallFactory(open=True, title="Appel eau 2026")
    db.session.commit()

    response = file_association(client)
    association = db.session.scalar(select(Association).where(Association.acronym == "ARKB"))
    assert response.status_code == 302 and response.location.endswith(f"/projects/assisted/{association.id}")
    record = db.session.get(AssistedAssociation, association.id)
    assert (record.filed_by_id, record.channel, record.handed_over_at) == (officer.id, "embassy", None)
    assert association.status == AssociationStatus.PENDING and association.contact_email == "yawa.akakpo@example.org"
    assert db.session.scalar(select(User).where(User.association_id == association.id)) is None  # nobody signs in

    # Verified with the association's own button; then its project on the open call.
    assert client.post(f"/associations/{association.id}/verify").status_code == 302
    response = client.post(f"/projects/assisted/{association.id}/projects",
                           data={"call_id": str(call.id), "title": "Forage de Kpimé"}, headers=EN)
    project = db.session.scalar(select(Project).where(Project.association_id == association.id))
    assert response.status_code == 302 and response.location.endswith(f"/projects/{project.id}/general")
    assert project.created_by_id == officer.id and project.status == ProjectStatus.DRAFT

    # The officer types the steps of the paper form on the same pages as a member, with the same checks.
    refused = client.post(f"/projects/{project.id}/general", headers=EN, data={
        "version": str(project.version), "title": "Forage de Kpimé", "sector": "energy", "summary": "Un forage."})
    assert refused.status_code == 400 and "Not a valid choice." in refused.get_data(as_text=True)  # not the call's
    saved = client.post(f"/projects/{project.id}/general", headers=EN, data={
        "version": str(project.version), "title": "Forage de Kpimé", "sector": "water", "summary": "Un forage."})
    assert saved.status_code == 302
    fill_steps(db.session.get(Project, project.id))
    db.session.commit()

    # Not without the scan of the signed application (the review page says so first); a file that is not a PDF
    # or an image is refused.
    review = client.get(f"/projects/{project.id}/review", headers=EN).get_data(as_text=True)
    assert "Upload the scan of the application signed by the association." in review
    refused = client.post(f"/projects/{project.id}/submit", headers=EN)
    assert refused.status_code == 400
    assert "Upload the scan of the application signed by the association." in refused.get_data(as_text=True)
    bad = client.post(f"/projects/assisted/projects/{project.id}/scan", headers=EN, content_type="multipart/form-data",
                      data={"scan": (io.BytesIO(EXE_BYTES), "dossier.pdf")})
    assert bad.status_code == 400 and db.session.get(AssistedProject, project.id).signed_scan_id is None
    ok = client.post(f"/projects/assisted/projects/{project.id}/scan", content_type="multipart/form-data",
                     data={"scan": (io.BytesIO(PDF_BYTES), "dossier signé.pdf")})
    assert ok.status_code == 302
    assert client.post(f"/projects/{project.id}/submit", headers=EN).status_code == 302
    project = db.session.get(Project, project.id)
    mark = db.session.get(AssistedProject, project.id)
    assert project.status == ProjectStatus.SUBMITTED and project.reference
    assert (mark.submitted_by_id, mark.filed_by_id) == (officer.id, officer.id) and mark.signed_scan_id

    late = client.post(f"/projects/assisted/projects/{project.id}/scan", content_type="multipart/form-data",
                       data={"scan": (io.BytesIO(PDF_BYTES), "autre.pdf")}, headers=EN)
    assert late.status_code == 400 and "can no longer be replaced" in late.get_data(as_text=True)

    # Marked wherever staff see it.
    page = client.get(f"/projects/{project.id}", headers=EN).get_data(as_text=True)
    assert "Filed by the ministry on the association&#39;s behalf" in page and "submitted by Afi Officer" in page
    page = client.get(f"/associations/{association.id}", headers=EN).get_data(as_text=True)
    assert "Filed by the ministry" in page and "Not handed over yet" in page

    # Hand-over: the link goes to the contact in the association's language; only its hash is kept.
    assert client.post(f"/projects/assisted/{association.id}/handover",
                       data={"email": association.contact_email}).status_code == 302
    [mail] = [m for m in outbox("yawa.akakpo@example.org") if "ready for you" in m.subject]
    assert mail.locale == "en"
    path = link_in(mail)
    token = path.rsplit("/", 1)[1]
    link = db.session.scalar(select(HandoverLink))
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(db.session.scalars(select(AuditEvent.after)).all())

    client.post("/account/logout")
    form = client.get(path, headers=EN)
    assert form.status_code == 200 and "Take the account of" in form.get_data(as_text=True)
    refused = take_over(client, path, confirm="something else entirely")
    assert refused.status_code == 400 and 'value="Yawa Akakpo"' in refused.get_data(as_text=True)
    taken = take_over(client, path)
    assert taken.status_code == 302 and taken.location.endswith(f"/associations/{association.id}")
    member = db.session.scalar(select(User).where(User.email == "yawa.akakpo@example.org"))
    assert member.role == Role.ASSOCIATION and member.association_id == association.id
    record = db.session.get(AssistedAssociation, association.id)
    assert record.handed_over_to_id == member.id and record.handed_over_at is not None
    assert authenticate("yawa.akakpo@example.org", PASSWORD, "127.0.0.1").user.id == member.id
    assert client.get(f"/projects/{project.id}").status_code == 200  # the member follows the project now

    # The link works once; the officer keeps no special access.
    client.post("/account/logout")
    used = client.get(path, headers=EN)
    assert used.status_code == 410 and "already been used" in used.get_data(as_text=True)
    assert not acts_for(db.session.get(User, officer.id), association.id)
    login_as(db.session.get(User, officer.id))
    assert client.get(f"/projects/{project.id}/general").status_code == 404
    again = client.post(f"/projects/assisted/{association.id}/handover", data={"email": "other@example.org"},
                        headers=EN)
    assert again.status_code == 400 and "already been handed over" in again.get_data(as_text=True)

    # Every step is in the audit log and the histories.
    assert audit_actions(db, "associations", association.id) == [
        "association.filed_by_staff", "association.verify", "association.handover_sent", "association.handed_over"]
    project_actions = audit_actions(db, "projects", project.id)
    for action in ("project.created", "project.filed_by_staff", "project.step.general", "project.signed_scan",
                   "project.submitted", "project.submitted_on_behalf", "project.handed_over"):
        assert action in project_actions
    events = [(e.action, e.actor_id) for e in db.session.scalars(
        select(ProjectEvent).where(ProjectEvent.project_id == project.id).order_by(ProjectEvent.id))]
    assert events == [("created", officer.id), ("filed_by_staff", officer.id), ("signed_scan", officer.id),
                      ("submitted", officer.id), ("handed_over", member.id)]


def test_an_association_that_exists_already_is_shown_before_filing(client, db, login_as):
    existing = factories.AssociationFactory(name="Amicale de Kpalimé", registration_number="BE 0712 345 678",
                                            verified=True)
    login_as(factories.UserFactory(officer=True, locale="en"))
    page = file_association(client)
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and "This association may already be registered" in text
    assert f"/associations/{existing.id}" in text and "Same registration number" in text
    assert 'value="Bruxelles"' in text and 'value="Yawa.Akakpo@example.org"' in text  # what was typed is kept
    assert db.session.scalar(select(AssistedAssociation)) is None
    assert file_association(client, not_duplicate="y").status_code == 302
    assert db.session.scalar(select(AssistedAssociation)) is not None


def test_only_officers_file_and_only_until_the_hand_over(app, client, db, login_as):
    officer = factories.UserFactory(officer=True, locale="en")
    association = filed(db, officer, verified=False)
    other_officer = factories.UserFactory(officer=True)
    approver = factories.UserFactory(approver=True)
    member = factories.UserFactory(member=True)
    db.session.commit()
    assert acts_for(other_officer, association.id)  # the ministry's team, not one person
    assert not acts_for(approver, association.id) and not acts_for(member, association.id)

    login_as(approver)
    assert client.get("/projects/assisted/new").status_code == 403
    handover = client.post(f"/projects/assisted/{association.id}/handover", data={"email": "x@example.org"})
    assert handover.status_code == 403
    login_as(member)
    assert client.get(f"/projects/assisted/{association.id}").status_code == 403

    # The online rules: a pending association starts no project (the form says why and keeps the title).
    login_as(officer)
    call = factories.CallFactory(open=True)
    db.session.commit()
    refused = client.post(f"/projects/assisted/{association.id}/projects",
                          data={"call_id": str(call.id), "title": "Mon forage"}, headers=EN)
    assert refused.status_code == 400 and "Verify the association first" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Project)) is None
    # An association that signed up by itself has no paper file; a member's project is not the officer's to edit.
    from tests.factories_projects import ProjectFactory

    own = ProjectFactory()
    db.session.commit()
    assert client.get(f"/projects/assisted/{own.association_id}").status_code == 404
    assert client.get(f"/projects/{own.id}/general").status_code == 404
    assert client.post(f"/projects/{own.id}/submit").status_code == 404


def test_links_expired_forged_replaced_or_taken_say_so(client, db, login_as, outbox):
    officer = login_as(factories.UserFactory(officer=True, locale="en"))
    association = filed(db, officer)
    assert client.get("/projects/assisted/take-over/forged-token", headers=EN).status_code == 404
    assert client.get("/projects/assisted/take-over/" + "x" * 500, headers=EN).status_code == 404

    client.post(f"/projects/assisted/{association.id}/handover", data={"email": association.contact_email})
    first = link_in(outbox()[-1])
    resent = client.post(f"/projects/assisted/{association.id}/handover", data={"email": association.contact_email})
    assert resent.status_code == 302
    second = link_in(outbox()[-1])
    assert first != second
    client.post("/account/logout")
    replaced = client.get(first, headers=EN)
    assert replaced.status_code == 410 and "A newer link has been sent" in replaced.get_data(as_text=True)

    link = db.session.scalar(select(HandoverLink).where(HandoverLink.revoked_at.is_(None)))
    link.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    expired = client.get(second, headers=EN)
    assert expired.status_code == 410 and "This link has expired" in expired.get_data(as_text=True)
    assert take_over(client, second).status_code == 410
    assert db.session.scalar(select(User).where(User.association_id == association.id)) is None


def test_a_taken_email_or_a_rejected_association_is_refused(client, db, login_as):
    officer = login_as(factories.UserFactory(officer=True, locale="en"))
    association = filed(db, officer)
    factories.UserFactory(email="taken@example.org")
    db.session.commit()
    refused = client.post(f"/projects/assisted/{association.id}/handover", data={"email": "Taken@Example.org"},
                          headers=EN)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "An account already uses this email address" in text
    assert 'value="taken@example.org"' in text.lower() and db.session.scalar(select(HandoverLink)) is None
    association.status = AssociationStatus.REJECTED  # e.g. closed as the duplicate of another
    db.session.commit()
    refused = client.post(f"/projects/assisted/{association.id}/handover", data={"email": "new@example.org"},
                          headers=EN)
    assert refused.status_code == 400 and "rejected" in refused.get_data(as_text=True)
    assert not acts_for(db.session.get(User, officer.id), association.id)  # nothing is filed for it any more


def test_the_file_shows_everything_done_with_who_did_it(client, db, login_as):
    officer = login_as(factories.UserFactory(officer=True, name="Komi Agent", locale="en"))
    association = filed(db, officer)
    client.post(f"/projects/assisted/{association.id}/handover", data={"email": association.contact_email})
    page = client.get(f"/projects/assisted/{association.id}", headers=EN).get_data(as_text=True)
    assert "Association filed by the ministry on its behalf" in page and "Hand-over link emailed" in page
    assert page.count("Komi Agent") >= 3  # filed by, and the actor of each step
    listing = client.get("/projects/assisted/?show=waiting", headers=EN).get_data(as_text=True)
    assert association.name in listing
    assert association.name not in client.get("/projects/assisted/?show=handed_over").get_data(as_text=True)
