"""The evaluator's work: declaration, the scoring page, drafts, submission, refusals, consolidation, lists."""

from __future__ import annotations

from datetime import timedelta

import pytest

from codev.core.timeutil import utcnow
from codev.extensions import db as _db
from codev.projects.models import ProjectStatus
from codev.reviews.models import Assignment, AssignmentStatus, Evaluation, ReviewResult
from tests import factories
from tests.confirm_support import confirmed
from tests.factories_reviews import assign, draft, english, evaluator, in_review_project, submitted
from tests.sql_count import statements_of


def grid(project, values, recommendation="qualify", action="submit", **extra) -> dict:
    data = {"action": action, "recommendation": recommendation, "overall_comment": "Bon projet."}
    for criterion, value in zip(project.call.criteria, values, strict=True):
        data[f"score_{criterion.id}"] = value
        data[f"comment_{criterion.id}"] = ""
    data.update(extra)
    return data


def evaluation_of(db, assignment) -> Evaluation | None:
    db.session.expire_all()
    return db.session.scalar(db.select(Evaluation).where(Evaluation.assignment_id == assignment.id))


def test_the_declaration_comes_first(client, db, login_as, outbox):
    project = in_review_project()
    reviewer = english(evaluator())
    row = assign(project, reviewer)
    login_as(reviewer)
    page = client.get(f"/reviews/assignments/{row.id}").get_data(as_text=True)
    assert "Before you start: conflict of interest" in page and project.association.display_name in page
    assert "Total budget" not in page and "/files/" not in page
    response = client.post(f"/reviews/assignments/{row.id}", data=grid(project, ("7", "6", "3")))
    assert response.status_code == 400
    assert "Declare first whether you have a conflict" in response.get_data(as_text=True)
    assert evaluation_of(db, row) is None
    response = client.post(f"/reviews/assignments/{row.id}/declare", data=confirmed({"declaration": "none"}))
    assert response.headers["Location"].endswith(f"/reviews/assignments/{row.id}")
    db.session.refresh(row)
    assert row.status == AssignmentStatus.ACCEPTED and row.conflict_declared is False and row.declared_at
    page = client.get(f"/reviews/assignments/{row.id}").get_data(as_text=True)
    assert "Evaluation grid" in page and "Relevance" in page and "Total budget" in page
    link = f"/reviews/assignments/{row.id}/files/{project.attachments[0].id}"
    assert link in page
    download = client.get(link)
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    download.close()
    again = client.post(f"/reviews/assignments/{row.id}/declare", data=confirmed({"declaration": "conflict"}),
                        follow_redirects=True)
    assert "You have already made your declaration" in again.get_data(as_text=True)
    db.session.refresh(row)
    assert row.status == AssignmentStatus.ACCEPTED


def test_a_conflict_recuses_and_tells_the_officers(client, db, users, login_as, outbox):
    project = in_review_project()
    reviewer = english(evaluator(name="Yawo Tsogbe"))
    row = assign(project, reviewer)
    login_as(reviewer)
    response = client.post(f"/reviews/assignments/{row.id}/declare",
                           data=confirmed({"declaration": "conflict", "note": "Mon frère préside l'association."}))
    assert response.headers["Location"].endswith("/reviews/mine")
    db.session.refresh(row)
    assert row.status == AssignmentStatus.RECUSED and row.conflict_declared is True
    mail = outbox(users["officer"].email)[-1]
    assert project.reference in mail.subject and "Yawo Tsogbe" in mail.body
    assert "Mon frère préside l'association." in mail.body
    page = client.get("/reviews/mine").get_data(as_text=True)
    assert "Recused (conflict of interest)" in page and f"/reviews/assignments/{row.id}\"" not in page


def test_the_grid_is_in_the_evaluators_language(client, db, login_as):
    project = in_review_project()
    project.call.criteria[0].guidance_fr = "La réponse à un besoin prioritaire du village."
    project.call.criteria[0].guidance_en = "Whether it answers a priority need of the village."
    french = evaluator()
    row = assign(project, french, declare=False)
    login_as(french)
    page = client.get(f"/reviews/assignments/{row.id}").get_data(as_text=True)
    assert "Pertinence" in page and "La réponse à un besoin prioritaire du village." in page
    english_one = english(evaluator())
    row = assign(project, english_one, declare=False)
    login_as(english_one)
    page = client.get(f"/reviews/assignments/{row.id}").get_data(as_text=True)
    assert "Relevance" in page and "Whether it answers a priority need of the village." in page
    assert 'data-weight="40"' in page and 'data-max="5"' in page and "js/scoring.js" in page


def test_a_draft_keeps_everything_and_is_not_counted(client, db, login_as):
    project = in_review_project()
    reviewer = english(evaluator())
    row = assign(project, reviewer, declare=False)
    login_as(reviewer)
    data = grid(project, ("7", "", "3"), recommendation="", action="save",
                **{f"comment_{project.call.criteria[0].id}": "Besoin réel."})
    response = client.post(f"/reviews/assignments/{row.id}", data=data)
    assert response.status_code == 302
    evaluation = evaluation_of(db, row)
    assert [s.score for s in evaluation.scores] == [7, None, 3] and evaluation.submitted_at is None
    assert evaluation.scores[0].comment == "Besoin réel." and evaluation.overall_comment == "Bon projet."
    assert evaluation.score_centi is None
    assert db.session.get(Assignment, row.id).status == AssignmentStatus.ACCEPTED
    page = client.get(f"/reviews/assignments/{row.id}").get_data(as_text=True)
    assert 'value="7"' in page and "Besoin réel." in page and "43.00" in page  # 28 + 0 + 15 so far


@pytest.mark.backends
def test_submission_locks_the_evaluation_and_a_second_one_is_refused(client, db, login_as):
    project = in_review_project()
    reviewer = english(evaluator())
    row = assign(project, reviewer, declare=False)
    login_as(reviewer)
    response = client.post(f"/reviews/assignments/{row.id}", data=grid(project, ("7", "6", "3")))
    assert response.headers["Location"].endswith("/reviews/mine")
    evaluation = evaluation_of(db, row)
    assert evaluation.score_centi == 6400 and evaluation.submitted_at is not None
    assert evaluation.recommendation == "qualify"
    assert db.session.get(Assignment, row.id).status == AssignmentStatus.SUBMITTED
    result = db.session.scalar(db.select(ReviewResult).where(ReviewResult.project_id == project.id))
    assert (result.evaluations_count, result.score_centi, result.qualified) == (1, 6400, None)
    response = client.post(f"/reviews/assignments/{row.id}", data=grid(project, ("10", "10", "5")))
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "it can no longer be changed" in page
    again = evaluation_of(db, row)
    assert again.score_centi == 6400 and [s.score for s in again.scores] == [7, 6, 3]
    assert again.submitted_at == evaluation.submitted_at
    page = client.get(f"/reviews/assignments/{row.id}").get_data(as_text=True)
    assert "Your evaluation" in page and "64.00" in page and "Submit the evaluation" not in page


def test_enough_evaluations_qualify_the_project(client, db, login_as):
    project = in_review_project()
    submitted(project, evaluator(), (8, 9, 4))
    reviewer = english(evaluator())
    row = assign(project, reviewer, declare=False)
    login_as(reviewer)
    client.post(f"/reviews/assignments/{row.id}", data=grid(project, ("6", "6", "3")))  # 60.00
    db.session.expire_all()
    assert project.status == ProjectStatus.QUALIFIED and project.events[-1].action == "qualified"
    result = db.session.scalar(db.select(ReviewResult).where(ReviewResult.project_id == project.id))
    assert (result.evaluations_count, result.score_centi, result.qualified) == (2, 7175, True)


def test_low_scores_do_not_qualify_the_project(client, db, login_as):
    project = in_review_project()
    submitted(project, evaluator(), (5, 5, 2), recommendation="not_qualify")
    reviewer = english(evaluator())
    row = assign(project, reviewer, declare=False)
    login_as(reviewer)
    client.post(f"/reviews/assignments/{row.id}", data=grid(project, ("5", "4", "2"), "not_qualify"))
    db.session.expire_all()
    assert project.status == ProjectStatus.NOT_QUALIFIED  # (47.50 + 44.00) / 2 = 45.75 < 60


def test_wrong_scores_are_refused_with_a_clear_message(client, db, login_as):
    project = in_review_project()
    reviewer = english(evaluator())
    row = draft(project, reviewer, (5, 5, 2))
    login_as(reviewer)
    cases = [
        (("abc", "6", "3"), "Enter a whole number from 0 to 10."),
        (("7.5", "6", "3"), "Enter a whole number from 0 to 10."),
        (("11", "6", "3"), "Enter a whole number from 0 to 10."),
        (("-1", "6", "3"), "Enter a whole number from 0 to 10."),
        (("7", "6", "6"), "Enter a whole number from 0 to 5."),
        (("7", "", "3"), "Give a score for “Feasibility”."),
    ]
    for values, message in cases:
        for action in ("save", "submit"):
            if values[1] == "" and action == "save":
                continue  # a draft may leave a score empty
            response = client.post(f"/reviews/assignments/{row.id}", data=grid(project, values, action=action))
            page = response.get_data(as_text=True)
            assert response.status_code == 400, (values, action)
            assert message in page, (values, action)
            assert f'value="{values[0]}"' in page  # what was typed is kept
    response = client.post(f"/reviews/assignments/{row.id}", data=grid(project, ("7", "6", "3"), "maybe"))
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    response = client.post(f"/reviews/assignments/{row.id}", data=grid(project, ("7", "6", "3"), ""))
    assert response.status_code == 400 and "Choose your recommendation." in response.get_data(as_text=True)
    evaluation = evaluation_of(db, row)
    assert [s.score for s in evaluation.scores] == [5, 5, 2] and evaluation.submitted_at is None
    assert db.session.get(Assignment, row.id).status == AssignmentStatus.ACCEPTED


def test_the_list_and_the_home_card(client, db, login_as):
    reviewer = english(evaluator())
    late = assign(in_review_project(title="Forage en retard"), reviewer)
    late.due_on = utcnow().date() - timedelta(days=1)
    assign(in_review_project(title="Case de santé"), reviewer, declare=False)
    submitted(in_review_project(title="Déjà noté"), reviewer, (7, 6, 3))
    assign(in_review_project(title="Pas pour moi"), evaluator())
    db.session.commit()
    login_as(reviewer)
    page = client.get("/reviews/mine").get_data(as_text=True)
    assert page.index("Forage en retard") < page.index("Case de santé") < page.index("Déjà noté")
    assert "Pas pour moi" not in page and "late" in page and "Declare and start" in page
    assert "Forage en retard" in client.get("/reviews/mine?show=open").get_data(as_text=True)
    assert "Forage en retard" not in client.get("/reviews/mine?show=done").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert "My assignments" in home and "Forage en retard" in home and "Déjà noté" not in home
    assert "declare your conflicts of interest first" in home


def count_queries(client, url) -> int:
    _db.session.expire_all()
    with statements_of(_db.engine) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


@pytest.mark.backends
def test_the_evaluators_list_uses_a_constant_number_of_queries(app, client, db, login_as):
    app.config["PAGE_SIZE"] = 50
    reviewer = english(evaluator())
    assign(in_review_project(title="Projet 0"), reviewer)
    submitted(in_review_project(title="Projet 1"), reviewer, (7, 6, 3))
    login_as(reviewer)
    few = count_queries(client, "/reviews/mine")
    for i in range(10):
        project = in_review_project(title=f"Autre {i}", call=factories.CallFactory(open=True))
        if i % 3 == 0:
            submitted(project, reviewer, (7, 6, 3))
        else:
            assign(project, reviewer, declare=False if i % 3 == 1 else None)
    assert count_queries(client, "/reviews/mine") == few
    assert client.get("/reviews/mine").get_data(as_text=True).count("/reviews/assignments/") >= 10


def test_the_demo_reviews(app, db):
    from codev.calls.models import Call
    from codev.demo import seed_demo
    from codev.demo.reviews import seed_reviews
    from codev.projects.models import Project

    seed_demo()
    call = db.session.scalar(db.select(Call).where(Call.status == "open").order_by(Call.closes_at.desc()))
    if not db.session.scalar(db.select(db.func.count(ReviewResult.id))):  # unless seed_demo has wired it in
        seed_reviews({"open": call}, db.session.scalars(db.select(Project)).all())
        seed_reviews({"open": call})  # a second run adds nothing
    db.session.commit()
    touched = {p.title: p for p in db.session.scalars(db.select(Project))}
    states = {title: touched[title].status for title in (
        "Case de santé de Lama-Tessi", "Mini-adduction d'eau potable d'Agou-Nyogbo",
        "Magasin de stockage de céréales de Kpangalam", "Salle informatique au lycée de Notsé")}
    # Qualified projects may have gone further in the demo (committee decision, grant).
    beyond = {"qualified", "approved", "funded"}
    assert states["Case de santé de Lama-Tessi"] == "in_review"
    assert states["Mini-adduction d'eau potable d'Agou-Nyogbo"] in beyond
    assert states["Magasin de stockage de céréales de Kpangalam"] in beyond
    assert states["Salle informatique au lycée de Notsé"] == "not_qualified"
    results = {r.project.title: r for r in db.session.scalars(db.select(ReviewResult))}
    assert results["Magasin de stockage de céréales de Kpangalam"].spread_flagged is True
    assert results["Salle informatique au lycée de Notsé"].eliminated_by == "feasibility"
    health = touched["Case de santé de Lama-Tessi"]
    statuses = sorted(a.status for a in db.session.scalars(db.select(Assignment).where(
        Assignment.project_id == health.id)))
    assert statuses == ["accepted", "submitted"]
    # the reviews' own demo: eight assignments on its four projects (later demo steps review calls of their own)
    assert db.session.scalar(db.select(db.func.count(Assignment.id)).where(
        Assignment.project_id.in_([touched[title].id for title in states]))) == 8
    assert db.session.scalar(db.select(Project).where(Project.status == "submitted")) is not None  # to screen
