"""The application from start to submission through every step, then return, resubmission, withdrawal."""

from __future__ import annotations

import re

from sqlalchemy import select

from codev.core.models import AuditEvent
from codev.projects.models import Project, ProjectEvent
from tests import factories
from tests.confirm_support import confirmed
from tests.factories_projects import (
    PDF_BYTES,
    budget_form,
    financing_form,
    member_of,
    ready_project,
    submitted_project,
)


def english(user):
    user.locale = "en"
    return user


def fresh(db, project_id):
    db.session.expire_all()
    return db.session.get(Project, project_id)


def test_happy_path_through_every_step(app, client, db, users, login_as, outbox):
    member = login_as(english(users["association"]))
    colleague = english(member_of(member.association, email="colleague@asso.example.org"))
    call = factories.CallFactory(open=True, title="Appel 2026")
    db.session.commit()

    page = client.get(f"/projects/new/{call.id}").get_data(as_text=True)
    assert "Appel 2026" in page and "Funding rules" in page and "Quote" in page
    response = client.post(f"/projects/new/{call.id}", data={"title": "Forage à Kpimé"})
    project = db.session.scalar(select(Project).where(Project.title == "Forage à Kpimé"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/projects/{project.id}/general")
    assert project.status == "draft" and project.association_id == member.association_id
    base = f"/projects/{project.id}"

    def version():
        return fresh(db, project.id).version

    response = client.post(f"{base}/general", data={
        "version": version(), "title": "Forage équipé à Kpimé", "sector": "water",
        "summary": "Un forage pour 1 200 habitants.", "led_by_women": "y"})
    assert response.headers["Location"].endswith(f"{base}/location")
    page = client.get(f"{base}/location").get_data(as_text=True)
    assert "General information</a>" in page and "— done" in page
    response = client.post(f"{base}/location", data={
        "version": version(), "commune": "Kloto 1", "village": "Kpimé", "local_partner_name": "CVD de Kpimé",
        "local_partner_kind": "committee", "local_partner_commitment": "Terrain et main-d'œuvre"})
    assert response.headers["Location"].endswith(f"{base}/description")
    response = client.post(f"{base}/description", data={
        "version": version(), "problem": "Pas d'eau", "objectives": "Eau potable", "activities": "Forer",
        "beneficiaries_total": "1 200", "beneficiaries_women": "640", "beneficiaries_youth": "400",
        "start_date": "2026-03-01", "duration_months": "10"})
    assert response.headers["Location"].endswith(f"{base}/budget")
    response = client.post(f"{base}/budget", data=budget_form(
        [("works", "Forage et pompe", "1", "7 000 000"), ("equipment", "Château d'eau", "2", "1 500 000"),
         ("works", "", "", "")], version()))  # an empty row is ignored
    assert response.headers["Location"].endswith(f"{base}/financing")
    page = client.get(f"{base}/financing").get_data(as_text=True)
    assert "data-ratio-num=\"1\"" in page and "js/financing.js" in page
    response = client.post(f"{base}/financing", data=financing_form(
        [("association_cash", "EUR", "6 097,96"), ("association_in_kind", "XOF", "1 000 000"),
         ("community", "XOF", "500 000"), ("commune", "XOF", "500 000")], "4 000 000", version()))
    assert response.headers["Location"].endswith(f"{base}/attachments")
    response = client.post(f"{base}/attachments", data={
        "kind": "quote", "file": (__import__("io").BytesIO(PDF_BYTES), "devis forage.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    response = client.post(f"{base}/attachments/done", data={"version": version()})
    assert response.headers["Location"].endswith(f"{base}/review")

    project = fresh(db, project.id)
    assert project.steps_done == "general,location,description,budget,financing,attachments"
    assert (project.region, project.prefecture, project.commune) == ("TG-P", "Kloto", "Kloto 1")
    assert [line.amount_xof for line in project.budget_lines] == [7_000_000, 3_000_000]
    cash = project.financing_lines[0]
    assert (cash.currency, cash.amount_minor, cash.rate_millionths, cash.amount_xof) == (
        "EUR", 609_796, 655_957_000, 4_000_000)
    page = client.get(f"{base}/review").get_data(as_text=True)
    assert "Everything the call asks for is there" in page

    response = client.post(f"{base}/submit")
    assert response.status_code == 302 and response.headers["Location"].endswith(base)
    project = fresh(db, project.id)
    assert project.status == "submitted" and project.submitted_at is not None
    assert re.fullmatch(r"CODEV-\d{4}-\d{4}", project.reference)
    assert project.reference == f"CODEV-{project.submitted_at.year}-0001"
    page = client.get(base).get_data(as_text=True)
    assert project.reference in page and "Submitted" in page and "devis forage.pdf" in page
    actions = [e.action for e in project.events]
    assert actions == ["created", "attachment_added", "submitted"]
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == project.id,
                                                              AuditEvent.object_type == "projects")).all()
    member_mail = outbox("member@asso.example.org")[-1]
    assert project.reference in member_mail.subject and "submitted" in member_mail.subject
    assert outbox("colleague@asso.example.org")[-1].subject == member_mail.subject
    assert project.reference in outbox("officer@ministry.example.tg")[-1].subject
    assert outbox("approver@ministry.example.tg") == []

    # Read-only for the association from now on.
    response = client.get(f"{base}/general")
    assert response.status_code == 302 and response.headers["Location"].endswith(base)
    response = client.post(f"{base}/general", data={"version": project.version, "title": "Changé", "sector": "water",
                                                    "summary": "x"})
    assert fresh(db, project.id).title == "Forage équipé à Kpimé"
    login_as(colleague)
    assert client.post(f"{base}/attachments", data={}).status_code == 302
    assert len(fresh(db, project.id).attachments) == 1


def test_resume_opens_the_first_step_not_done(client, db, users, login_as):
    member = login_as(english(users["association"]))
    project = ready_project(member, steps_done="general,location,budget")
    db.session.commit()
    response = client.get(f"/projects/{project.id}/edit")
    assert response.headers["Location"].endswith(f"/projects/{project.id}/description")
    page = client.get(f"/projects/{project.id}/description").get_data(as_text=True)
    assert page.count("— done") == 3 and page.count("— to do") == 4  # the review is never "done"


def test_return_then_resubmit_keeps_the_reference_and_the_history(client, db, users, login_as, outbox):
    member = english(users["association"])
    project = submitted_project(member)
    reference = project.reference
    login_as(users["officer"])
    response = client.post(f"/projects/{project.id}/return", data={"message": ""})
    assert response.status_code == 400 and fresh(db, project.id).status == "submitted"
    client.post(f"/projects/{project.id}/return", data={"message": "Joignez le devis signé du foreur."})
    project = fresh(db, project.id)
    assert project.status == "returned"
    mail = outbox(member.email)[-1]
    assert "changes" in mail.subject and "Joignez le devis signé du foreur." in mail.body

    login_as(member)
    page = client.get(f"/projects/{project.id}/general").get_data(as_text=True)
    assert "Joignez le devis signé du foreur." in page
    client.post(f"/projects/{project.id}/submit")
    project = fresh(db, project.id)
    assert project.status == "submitted" and project.reference == reference
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    for text in ("Submitted", "Returned for changes", "Submitted again", "Joignez le devis signé du foreur."):
        assert text in page
    assert [(e.from_status, e.to_status) for e in project.events if e.to_status] == [
        ("draft", "submitted"), ("submitted", "returned"), ("returned", "submitted")]


def test_officer_cannot_return_a_draft_and_member_cannot_return(client, db, users, login_as):
    member = users["association"]
    project = ready_project(member)
    db.session.commit()
    login_as(users["officer"])
    client.post(f"/projects/{project.id}/return", data={"message": "Non"})
    assert fresh(db, project.id).status == "draft"
    login_as(member)
    assert client.post(f"/projects/{project.id}/return", data={"message": "Non"}).status_code == 403


def test_withdraw_a_draft_and_a_submitted_project(client, db, users, login_as, outbox):
    member = login_as(english(users["association"]))
    draft = ready_project(member)
    db.session.commit()
    client.post(f"/projects/{draft.id}/withdraw", data=confirmed({"reason": ""}))
    draft = fresh(db, draft.id)
    assert draft.status == "withdrawn" and draft.reference is None
    project = submitted_project(member)
    client.post(f"/projects/{project.id}/withdraw", data=confirmed({"reason": "Financé par la commune."}))
    project = fresh(db, project.id)
    assert project.status == "withdrawn" and project.events[-1].message == "Financé par la commune."
    assert project.reference in outbox("officer@ministry.example.tg")[-1].subject
    assert "Financé par la commune." in outbox("officer@ministry.example.tg")[-1].body
    client.post(f"/projects/{project.id}/withdraw", data=confirmed({}))
    assert fresh(db, project.id).status == "withdrawn"
    assert client.get(f"/projects/{project.id}").status_code == 200


def test_a_stale_save_by_another_member_is_refused_in_words(client, db, users, login_as):
    member = login_as(english(users["association"]))
    project = ready_project(member)
    db.session.commit()
    loaded_version = project.version
    client.post(f"/projects/{project.id}/general", data={
        "version": loaded_version, "title": "Titre de Komi", "sector": "water", "summary": "Résumé"})
    response = client.post(f"/projects/{project.id}/general", data={
        "version": loaded_version, "title": "Titre d'Ama", "sector": "water", "summary": "Résumé"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved this project meanwhile" in page and "Titre d&#39;Ama" in page
    assert fresh(db, project.id).title == "Titre de Komi"


def test_a_refused_step_keeps_what_was_typed(client, db, users, login_as):
    member = login_as(english(users["association"]))
    project = ready_project(member)
    db.session.commit()
    response = client.post(f"/projects/{project.id}/description", data={
        "version": project.version, "problem": "Pas d'eau au village", "objectives": "", "activities": "Forer",
        "beneficiaries_total": "100", "beneficiaries_women": "150", "beneficiaries_youth": "douze",
        "start_date": "2026-03-01", "duration_months": "500"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for text in ("Pas d&#39;eau au village", "This field is required.", "Cannot be more than the total",
                 "Enter a whole number", "between 1 and 120", "douze"):
        assert text in page, text
    assert fresh(db, project.id).problem == "Pas d'eau potable"


def test_location_must_be_a_real_commune_of_an_eligible_region(client, db, users, login_as):
    member = login_as(english(users["association"]))
    call = factories.CallFactory(open=True)
    call.regions = [r for r in call.regions if r.region == "TG-P"]
    project = ready_project(member, call=call)
    db.session.commit()
    data = {"version": project.version, "village": "", "local_partner_name": "Mairie",
            "local_partner_kind": "commune", "local_partner_commitment": "Entretien"}
    page = client.post(f"/projects/{project.id}/location", data={**data, "commune": "Atlantis"}).get_data(as_text=True)
    assert "Choose the commune from the list" in page
    page = client.post(f"/projects/{project.id}/location", data={**data, "commune": "Kozah 1"}).get_data(as_text=True)
    assert "does not fund projects in the region Kara" in page
    assert fresh(db, project.id).commune == "Kloto 1"
    page = client.get(f"/projects/{project.id}/location?commune=kloto-2").get_data(as_text=True)
    assert "You chose the commune Kloto 2" in page and "/calls/communes?next=" in page


def test_start_needs_a_verified_association_and_an_accepting_call(client, db, login_as):
    pending = factories.UserFactory(role="association", association=factories.AssociationFactory(), locale="en")
    call = factories.CallFactory(open=True)
    login_as(pending)
    page = client.get(f"/projects/new/{call.id}").get_data(as_text=True)
    assert "must be verified by the ministry" in page
    assert client.post(f"/projects/new/{call.id}", data={"title": "X"}).status_code == 400
    assert db.session.scalar(select(ProjectEvent.id)) is None
