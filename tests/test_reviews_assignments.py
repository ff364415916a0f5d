"""Assignments by an officer: one at a time, in bulk (load and competence), withdrawal, lists and home cards."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from codev.core.timeutil import utcnow
from codev.projects.models import ProjectStatus
from codev.reviews import assignments
from codev.reviews.models import Assignment, AssignmentStatus
from tests import factories
from tests.confirm_support import confirmed
from tests.factories_projects import submitted_project
from tests.factories_reviews import assign, english, evaluator, in_review_project, submitted


def due(days=21) -> str:
    return (utcnow().date() + timedelta(days=days)).isoformat()


def rows(db, project):
    return db.session.scalars(db.select(Assignment).where(Assignment.project_id == project.id)
                              .order_by(Assignment.id)).all()


def test_assign_one_evaluator_who_is_emailed_in_their_language(client, db, users, login_as, outbox):
    project = in_review_project()
    reviewer = english(evaluator(["TG-P"], ["water"], name="Mawuli Adjovi"))
    login_as(english(users["officer"]))
    page = client.get(f"/reviews/projects/{project.id}").get_data(as_text=True)
    assert "Mawuli Adjovi" in page and "covers the sector · covers the region" in page
    response = client.post(f"/reviews/projects/{project.id}/assign",
                           data={"evaluator": str(reviewer.id), "due_on": due(10)})
    assert response.status_code == 302
    (row,) = rows(db, project)
    assert row.status == AssignmentStatus.ASSIGNED and row.due_on == utcnow().date() + timedelta(days=10)
    mail = outbox(reviewer.email)[-1]
    assert mail.subject == f"codev: a project to evaluate, {project.reference}"
    assert f"/reviews/assignments/{row.id}" in mail.body and "conflict of interest" in mail.body


def test_the_default_due_date_is_in_21_days(client, db, users, login_as):
    project = in_review_project()
    login_as(english(users["officer"]))
    page = client.get(f"/reviews/projects/{project.id}").get_data(as_text=True)
    assert f'value="{due(21)}"' in page


def test_never_the_same_evaluator_twice_on_a_project(client, db, users, login_as):
    project = in_review_project()
    reviewer = evaluator()
    first = assign(project, reviewer)
    login_as(english(users["officer"]))
    client.post(f"/reviews/assignments/{first.id}/withdraw", data=confirmed())
    response = client.post(f"/reviews/projects/{project.id}/assign",
                           data={"evaluator": str(reviewer.id), "due_on": due()})
    assert response.status_code == 400  # not even offered again
    assert len(rows(db, project)) == 1
    assert reviewer.id not in [c.evaluator.id for c in assignments.candidates(project)]


def test_refused_assignments_say_why_and_change_nothing(client, db, users, login_as):
    project = in_review_project()
    reviewer = evaluator()
    login_as(english(users["officer"]))
    past = (utcnow().date() - timedelta(days=1)).isoformat()
    for data, message in (({"evaluator": str(reviewer.id), "due_on": past}, "The due date cannot be in the past."),
                          ({"evaluator": str(reviewer.id), "due_on": "demain"}, "Enter a date, like 2026-03-31."),
                          ({"evaluator": "999", "due_on": due()}, "Not a valid choice")):
        response = client.post(f"/reviews/projects/{project.id}/assign", data=data)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    submitted_one = submitted_project()
    response = client.post(f"/reviews/projects/{submitted_one.id}/assign",
                           data={"evaluator": str(reviewer.id), "due_on": due()})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Evaluators can be assigned only to a project under review." in page
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0


def test_withdraw_and_reassign(client, db, users, login_as, outbox):
    project = in_review_project()
    first, second = evaluator(), evaluator()
    row = assign(project, first, declare=False)
    login_as(english(users["officer"]))
    client.post(f"/reviews/assignments/{row.id}/withdraw", data=confirmed())
    db.session.refresh(row)
    assert row.status == AssignmentStatus.WITHDRAWN
    assert outbox(first.email)[-1].subject == f"codev : évaluation de {project.reference} retirée"  # in French
    client.post(f"/reviews/projects/{project.id}/assign", data={"evaluator": str(second.id), "due_on": due()})
    assert [r.status for r in rows(db, project)] == [AssignmentStatus.WITHDRAWN, AssignmentStatus.ASSIGNED]
    login_as(first)
    assert client.get(f"/projects/{project.id}").status_code == 404
    assert client.get(f"/reviews/assignments/{row.id}").status_code == 404


def test_a_submitted_evaluation_cannot_be_withdrawn(client, db, users, login_as):
    project = in_review_project()
    row = submitted(project, evaluator(), (7, 6, 3))
    login_as(english(users["officer"]))
    response = client.post(f"/reviews/assignments/{row.id}/withdraw", data=confirmed(), follow_redirects=True)
    assert "This evaluation has been submitted: it can no longer be withdrawn." in response.get_data(as_text=True)
    db.session.refresh(row)
    assert row.status == AssignmentStatus.SUBMITTED


@pytest.mark.backends
def test_bulk_assignment_prefers_competent_structures_then_balances_the_load(client, db, users, login_as):
    call = factories.CallFactory(open=True)  # two evaluators per project
    water_p = [in_review_project(call=call, title=f"Forage {i}") for i in range(3)]  # water, TG-P
    health_k = in_review_project(call=call, title="Case de santé", sector="health", region="TG-K",
                                 prefecture="Kozah", commune="Kozah 1")
    hydraulics = evaluator(["TG-P"], ["water"], name="Hydraulique Plateaux")
    hydraulics_2 = evaluator(["TG-P", "TG-K"], ["water"], name="Hydraulique nationale")
    health = evaluator(["TG-K"], ["health"], name="Santé Kara")
    generalist = evaluator([], [], name="Généraliste")
    busy = in_review_project(title="Autre appel")
    assign(busy, generalist)  # one open assignment elsewhere
    login_as(english(users["officer"]))
    page = client.get(f"/reviews/calls/{call.id}/assign").get_data(as_text=True)
    assert "Hydraulique Plateaux" in page and "Make these assignments" in page
    # Each proposal says what its structure covers, with the structure's acronym (or its name).
    structure = health.partner_structure
    shown = structure.acronym or structure.name
    health_row = page[page.index("Case de santé"):].split("</tr>")[0]
    assert re.search(rf"Santé Kara <small class=\"muted\">{re.escape(shown)}\s*· covers the sector · covers the region",
                     health_row)
    assert re.search(r"Hydraulique nationale <small class=\"muted\">[^<]*?\s*· covers the region</small>", health_row)
    assert "Généraliste" not in page  # neither sector nor region, and enough better evaluators
    response = client.post(f"/reviews/calls/{call.id}/assign", data={"due_on": due(14)})
    assert response.status_code == 302
    for project in water_p:
        names = {r.evaluator.name for r in rows(db, project)}
        assert names == {"Hydraulique Plateaux", "Hydraulique nationale"}  # sector and region covered
    names = [r.evaluator.name for r in rows(db, health_k)]
    # Santé Kara covers both; then Hydraulique nationale (region) before the generalist (nothing covered).
    assert sorted(names) == ["Hydraulique nationale", "Santé Kara"]
    assert all(r.due_on == utcnow().date() + timedelta(days=14) for p in [*water_p, health_k] for r in rows(db, p))
    assert generalist.id not in {r.evaluator_id for p in [*water_p, health_k] for r in rows(db, p)}
    assert {hydraulics.id, hydraulics_2.id, health.id} == {r.evaluator_id for p in water_p + [health_k]
                                                          for r in rows(db, p)}
    assert assignments.bulk_plan(call) == []  # a second run has nothing left to do


def test_bulk_assignment_balances_the_load_among_equals(client, db, users, login_as):
    call = factories.CallFactory(open=True, min_evaluators=1)
    projects = [in_review_project(call=call, title=f"Projet {i}") for i in range(6)]
    team = [evaluator(["TG-P"], ["water"]) for _ in range(3)]
    assign(in_review_project(title="Ailleurs"), team[0])  # team[0] starts with one open assignment
    login_as(english(users["officer"]))
    client.post(f"/reviews/calls/{call.id}/assign", data={"due_on": due()})
    loads = assignments.open_loads([e.id for e in team])
    # 6 new + 1 elsewhere = 7 open assignments: 3, 2, 2 (the least loaded first, then the oldest account).
    assert [loads.get(e.id, 0) for e in team] == [3, 2, 2]
    assert all(len(rows(db, p)) == 1 for p in projects)


@pytest.mark.backends
def test_lists_and_home_cards(client, db, users, login_as):
    late_project = in_review_project(title="En retard")
    row = assign(late_project, evaluator())
    row.due_on = utcnow().date() - timedelta(days=2)
    in_review_project(title="Sans évaluateur")
    full = in_review_project(title="Complet")
    assign(full, evaluator())
    assign(full, evaluator())
    db.session.commit()
    login_as(english(users["officer"]))
    home = client.get("/").get_data(as_text=True)
    assert "2 projects to assign" in home and "1 evaluation late" in home
    page = client.get("/reviews/in-review?need=assign").get_data(as_text=True)
    assert "En retard" in page and "Sans évaluateur" in page and "Complet" not in page
    page = client.get("/reviews/in-review?need=late").get_data(as_text=True)
    assert "En retard" in page and "Sans évaluateur" not in page and "late" in page
    assert client.get("/reviews/in-review?need=nonsense&call=x").status_code == 200
    for role in ("approver", "admin"):
        login_as(users[role])
        assert client.get("/reviews/in-review").status_code == 200
        assert client.get(f"/reviews/projects/{full.id}").status_code == 200
        assert client.post(f"/reviews/projects/{full.id}/assign").status_code == 403


def test_the_review_page_shows_everything_to_the_ministry(client, db, users, login_as):
    project = in_review_project()
    first = submitted(project, evaluator(name="Yawo Tsogbe"), (7, 6, 3))
    assign(project, evaluator(name="Akossiwa Dzifa"), declare=True)
    login_as(english(users["approver"]))
    page = client.get(f"/reviews/projects/{project.id}").get_data(as_text=True)
    assert "Yawo Tsogbe" in page and "64.00" in page and "Projet solide." in page
    assert "Akossiwa Dzifa" in page and "Conflict of interest" in page and "Membre de l&#39;association" in page
    assert "1 of 2 required" in page and "Waiting for the evaluations" in page
    assert "Eligible" in page  # the screening history
    assert first.evaluation.score_centi == 6400
    assert project.status == ProjectStatus.IN_REVIEW
