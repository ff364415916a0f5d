"""The ranking and minutes PDFs, and what the association sees of the study (never evaluators or scores)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from codev.projects.models import ProjectEvent, ProjectStatus
from codev.reviews.committee import DecisionData, close_session, decide
from codev.reviews.models import Assignment, AssignmentStatus, Evaluation
from tests.factories import CallFactory, UserFactory
from tests.factories_committee import committee_session, qualified_project
from tests.factories_projects import member_of

EVALUATOR_NAME = "Yawo Tsogbe-Évaluateur"


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def decided(db, users):
    """A session with three ranked projects: one approved with conditions, one rejected, one waiting."""
    call = CallFactory(open=True, envelope_xof=9_000_000)
    first = qualified_project(call, score_centi=8125, requested=5_000_000, title="Forage de Kpimé")
    second = qualified_project(call, score_centi=7350, requested=3_000_000, title="Case de santé")
    third = qualified_project(call, score_centi=6010, requested=2_000_000, title="Latrines scolaires",
                              spread_flagged=True)
    member = member_of(first.association, email="komi@asso.example.org", locale="en")
    evaluator = UserFactory(evaluator=True, name=EVALUATOR_NAME)
    assignment = Assignment(project_id=first.id, evaluator_id=evaluator.id, assigned_by_id=users["officer"].id,
                            status=AssignmentStatus.SUBMITTED, conflict_declared=False)
    db.session.add(assignment)
    db.session.flush()
    db.session.add(Evaluation(assignment_id=assignment.id, score_centi=8475, recommendation="qualify",
                              overall_comment="Très bon dossier technique."))
    db.session.add(ProjectEvent(project_id=first.id, action="screened_eligible", from_status="submitted",
                                to_status="in_review", actor_id=users["officer"].id))
    session = committee_session(call, users["officer"])
    decide(session, first, DecisionData("conditionally_approved", "Projet solide.", "Second devis requis.",
                                        4_500_000), users["approver"])
    decide(session, second, DecisionData("rejected", "Site non adapté."), users["officer"])
    db.session.commit()
    return {"session": session, "projects": (first, second, third), "member": member}


def test_the_ranking_pdf_lists_the_projects_in_order_with_scores_and_the_envelope_line(client, login_as, users,
                                                                                       decided):
    login_as(users["admin"])
    response = client.get(f"/reviews/committee/{decided['session'].id}/ranking.pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    text = " ".join(text_of(response.data).split())
    first, second, third = decided["projects"]
    assert text.index(first.reference) < text.index(second.reference) < text.index(third.reference)
    assert text.index("81,25 / 100") < text.index("73,50 / 100") < text.index("60,10 / 100")
    # 5 000 000 + 3 000 000 fit in 9 000 000; the third brings the total to 10 000 000.
    assert text.index(second.reference) < text.index("L’enveloppe s’épuise ici") < text.index(third.reference)
    assert "10 000 000" in text.replace("\u202f", " ")
    assert "Approuvé sous conditions" in text and "Rejeté" in text


def test_the_ranking_pdf_in_english(client, login_as, users, decided):
    login_as(users["officer"])
    text = text_of(client.get(f"/reviews/committee/{decided['session'].id}/ranking.pdf?lang=en").data)
    assert "Ranking of the call" in text and "81.25 / 100" in text


@pytest.mark.backends
def test_the_minutes_pdf_has_the_facts_members_and_each_decision(client, db, login_as, users, decided):
    close_session(decided["session"], "Le quorum était atteint.", users["officer"])
    db.session.commit()
    login_as(users["approver"])
    text = " ".join(text_of(client.get(f"/reviews/committee/{decided['session'].id}/minutes.pdf").data).split())
    assert "Procès-verbal du comité de sélection" in text
    assert "12 mai 2026" in text and "Lomé, salle du conseil" in text and "Kodjo Agbeko" in text
    assert "Second devis requis." in text and "Site non adapté." in text
    assert "4 500 000" in text.replace("\u202f", " ")
    assert "Le quorum était atteint." in text
    english = text_of(client.get(f"/reviews/committee/{decided['session'].id}/minutes.pdf?lang=en").data)
    assert "Minutes of the selection committee" in english and "Approved with conditions" in english


@pytest.mark.parametrize("role", ["evaluator", "association"])
def test_the_pdfs_are_for_the_ministry_only(client, login_as, users, decided, role):
    login_as(users[role])
    for name in ("ranking.pdf", "minutes.pdf"):
        assert client.get(f"/reviews/committee/{decided['session'].id}/{name}").status_code == 403


def test_the_association_sees_the_steps_and_the_decision_but_no_evaluator_and_no_score(client, login_as, decided,
                                                                                       outbox):
    first = decided["projects"][0]
    login_as(decided["member"])
    page = client.get(f"/projects/{first.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Study of your project" in page and "Admissibility check" in page
    assert "Approved with conditions" in page and "Projet solide." in page and "Second devis requis." in page
    assert "4,500,000" in page
    for secret in (EVALUATOR_NAME, "81.25", "81,25", "84.75", "84,75", "8125", "Très bon dossier", "/ 100"):
        assert secret not in page
    for message in outbox("komi@asso.example.org"):
        for secret in (EVALUATOR_NAME, "81.25", "81,25", "84.75", "84,75", "Très bon dossier", "/ 100"):
            assert secret not in message.body


def test_a_project_in_review_shows_where_it_stands(client, db, login_as, users):
    project = qualified_project(status=ProjectStatus.IN_REVIEW)
    member = member_of(project.association)
    db.session.add(ProjectEvent(project_id=project.id, action="screened_eligible", from_status="submitted",
                                to_status="in_review", actor_id=users["officer"].id))
    db.session.commit()
    login_as(member)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Étude de votre projet" in page and "Les structures partenaires étudient le projet." in page
    assert "70,00" not in page


def test_ministry_roles_get_a_link_to_the_session_that_decided(client, login_as, users, decided):
    first = decided["projects"][0]
    login_as(users["admin"])
    page = client.get(f"/projects/{first.id}").get_data(as_text=True)
    assert f'/reviews/committee/{decided["session"].id}?project={first.id}#project-{first.id}' in page
    assert "Étude de votre projet" not in page


def test_the_decision_reaches_the_project_history(client, login_as, decided):
    second = decided["projects"][1]
    assert second.status == ProjectStatus.REJECTED
    login_as(member_of(second.association))
    page = client.get(f"/projects/{second.id}").get_data(as_text=True)
    assert "Site non adapté." in page
