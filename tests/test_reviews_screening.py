"""Screening by an officer: the checklist, the three outcomes, the emails, refusals, the list and its queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from codev.accounts.models import AssociationStatus
from codev.extensions import db as _db
from codev.projects.models import Project, ProjectStatus
from codev.reviews.models import Screening
from tests import factories
from tests.confirm_support import confirmed
from tests.factories_projects import ready_project, submitted_project
from tests.factories_reviews import english, in_review_project
from tests.sql_count import statements_of

ALL_CONFIRMED = {f"confirm_{code}": "y" for code in
                 ("association_verified", "call_open", "place_and_sector", "attachments", "plan")}


def screen(client, project, **data):
    return client.post(f"/reviews/projects/{project.id}/screen", data=confirmed(data))


def screenings(db, project):
    return db.session.scalars(db.select(Screening).where(Screening.project_id == project.id)).all()


def test_the_checklist_is_computed_from_the_data(client, db, users, login_as):
    project = submitted_project(english(factories.UserFactory(member=True)))
    login_as(english(users["officer"]))
    page = client.get(f"/reviews/projects/{project.id}/screen").get_data(as_text=True)
    assert page.count("<strong>Met</strong>") == 5 and "Not met" not in page.split("Decision")[0]
    project.association.status = AssociationStatus.PENDING
    project.submitted_at = project.call.closes_at + timedelta(days=1)
    project.attachments.clear()
    db.session.commit()
    page = client.get(f"/reviews/projects/{project.id}/screen").get_data(as_text=True)
    assert page.count("<strong>Not met</strong>") == 3
    assert "The project was submitted outside the call&#39;s dates." in page
    assert "Attach the required document: Quote." in page


@pytest.mark.backends
def test_eligible_moves_the_project_to_review_and_tells_the_association(client, db, users, login_as, outbox):
    member = english(factories.UserFactory(member=True))
    project = submitted_project(member)
    login_as(english(users["officer"]))
    response = screen(client, project, outcome="eligible", **ALL_CONFIRMED)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reviews/projects/{project.id}")
    db.session.refresh(project)
    assert project.status == ProjectStatus.IN_REVIEW
    (row,) = screenings(db, project)
    assert row.outcome == "eligible" and all(item["confirmed"] and item["computed"] for item in row.checklist)
    (mail,) = outbox(member.email)[-1:]
    assert mail.subject == f"codev: your project {project.reference} is now being studied"
    assert project.events[-1].action == "screened_eligible"


def test_the_association_is_emailed_in_its_members_language(client, db, users, login_as, outbox):
    member = factories.UserFactory(member=True)  # French
    project = submitted_project(member)
    login_as(users["officer"])
    screen(client, project, outcome="ineligible", message="Le projet relève d'un autre programme.", **ALL_CONFIRMED)
    mail = outbox(member.email)[-1]
    assert mail.subject == f"codev : votre projet {project.reference} n'est pas recevable"
    assert "Le projet relève d'un autre programme." in mail.body


def test_ineligible_needs_reasons(client, db, users, login_as, outbox):
    member = english(factories.UserFactory(member=True))
    project = submitted_project(member)
    login_as(english(users["officer"]))
    sent = len(outbox())
    response = screen(client, project, outcome="ineligible", message="  ")
    assert response.status_code == 400 and "Write the reasons of the ineligibility." in response.get_data(as_text=True)
    db.session.refresh(project)
    assert project.status == ProjectStatus.SUBMITTED and screenings(db, project) == [] and len(outbox()) == sent
    screen(client, project, outcome="ineligible", message="Hors des régions de l'appel.")
    db.session.refresh(project)
    assert project.status == ProjectStatus.INELIGIBLE
    assert screenings(db, project)[0].comments == "Hors des régions de l'appel."
    assert "Hors des régions de l'appel." in outbox(member.email)[-1].body
    login_as(member)
    assert "Hors des régions de l&#39;appel." in client.get(f"/projects/{project.id}").get_data(as_text=True)


def test_returned_fires_the_existing_transition_with_the_message(client, db, users, login_as, outbox):
    member = english(factories.UserFactory(member=True))
    project = submitted_project(member)
    login_as(english(users["officer"]))
    screen(client, project, outcome="returned", message="Joignez la lettre du maire.")
    db.session.refresh(project)
    assert project.status == ProjectStatus.RETURNED and project.events[-1].action == "returned"
    assert screenings(db, project)[0].outcome == "returned"
    mail = outbox(member.email)[-1]
    assert mail.subject.startswith("codev: changes asked") and "Joignez la lettre du maire." in mail.body


def test_eligible_needs_every_item_confirmed(client, db, users, login_as):
    project = submitted_project()
    login_as(english(users["officer"]))
    data = dict(ALL_CONFIRMED)
    del data["confirm_plan"]
    response = screen(client, project, outcome="eligible", **data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Confirm every item of the checklist" in page
    assert re.search(r'<input checked[^>]*value="eligible"', page)  # what was typed is kept
    db.session.refresh(project)
    assert project.status == ProjectStatus.SUBMITTED and screenings(db, project) == []


def test_confirming_an_item_not_met_needs_a_comment(client, db, users, login_as):
    project = submitted_project()
    project.attachments.clear()
    db.session.commit()
    login_as(english(users["officer"]))
    response = screen(client, project, outcome="eligible", **ALL_CONFIRMED)
    assert response.status_code == 400
    assert "Explain in a comment why you confirm an item that is not met" in response.get_data(as_text=True)
    response = screen(client, project, outcome="eligible", comment_attachments="Devis reçu par courrier.",
                      **ALL_CONFIRMED)
    assert response.status_code == 302
    db.session.refresh(project)
    row = screenings(db, project)[0]
    item = next(i for i in row.checklist if i["code"] == "attachments")
    assert item == {"code": "attachments", "computed": False, "confirmed": True, "comment": "Devis reçu par courrier."}


def test_a_project_not_submitted_cannot_be_screened(client, db, users, login_as):
    draft = ready_project()
    reviewed = in_review_project()
    db.session.commit()
    login_as(english(users["officer"]))
    for project, state in ((draft, "Draft"), (reviewed, "Under review")):
        before = project.status
        response = screen(client, project, outcome="eligible", **ALL_CONFIRMED)
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert f"This project is not awaiting screening: it is “{state}”." in page
        db.session.refresh(project)
        assert project.status == before
    assert db.session.scalar(db.select(db.func.count(Screening.id))) == 1  # the factory's own, nothing more
    page = client.get(f"/reviews/projects/{draft.id}/screen").get_data(as_text=True)
    assert "This project is not awaiting screening" in page and "Record the screening" not in page


def test_only_officers_screen(client, db, users, login_as):
    project = submitted_project()
    for role in ("approver", "admin", "evaluator", "association"):
        login_as(users[role])
        assert screen(client, project, outcome="eligible", **ALL_CONFIRMED).status_code == 403
    db.session.refresh(project)
    assert project.status == ProjectStatus.SUBMITTED


def test_the_list_filters_by_call_and_the_home_card_counts(client, db, users, login_as):
    first = submitted_project(title="Forage de Kpimé")
    submitted_project(title="Case de santé de Lama")
    in_review_project(title="Déjà examiné")
    login_as(english(users["officer"]))
    page = client.get("/reviews/screening").get_data(as_text=True)
    assert "2 projects waiting" in page and "Forage de Kpimé" in page and "Déjà examiné" not in page
    assert "5 of 5 met" in page
    page = client.get(f"/reviews/screening?call={first.call_id}").get_data(as_text=True)
    assert "1 project waiting" in page and "Case de santé" not in page
    assert client.get("/reviews/screening?call=abc&page=9").status_code == 200
    home = client.get("/").get_data(as_text=True)
    assert "2 projects to screen" in home and "/reviews/screening" in home


def count_queries(client, url) -> int:
    _db.session.expire_all()
    with statements_of(_db.engine) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


@pytest.mark.backends
def test_the_to_screen_list_uses_a_constant_number_of_queries(app, client, db, users, login_as):
    app.config["PAGE_SIZE"] = 50
    call = factories.CallFactory(open=True)
    member = factories.UserFactory(member=True)
    for i in range(2):
        submitted_project(member, call, title=f"Projet {i}")
    login_as(english(users["officer"]))
    few = count_queries(client, "/reviews/screening")
    for i in range(12):
        submitted_project(factories.UserFactory(member=True), factories.CallFactory(open=True), title=f"Autre {i}")
    many = count_queries(client, "/reviews/screening")
    assert many == few
    assert db.session.scalar(db.select(db.func.count(Project.id))) == 14
