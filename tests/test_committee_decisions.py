"""Committee decisions: the workflow moves, the association is told; every refusal changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from codev.core.models import AuditEvent
from codev.projects.models import ProjectEvent, ProjectStatus
from codev.projects.workflow import find_transition
from codev.reviews.committee import CommitteeError, DecisionData, decide
from codev.reviews.models import CommitteeDecision, SessionStatus
from tests.confirm_support import confirmed
from tests.factories import CallFactory, UserFactory
from tests.factories_committee import committee_session, decision_form, qualified_project
from tests.factories_projects import member_of


@pytest.fixture
def setup(db, users):
    call = CallFactory(open=True)
    project = qualified_project(call, score_centi=7350, requested=4_000_000)
    french = member_of(project.association, email="ama@asso.example.org", locale="fr", name="Ama Mensah")
    english = member_of(project.association, email="kofi@asso.example.org", locale="en", name="Kofi Mensah")
    session = committee_session(call, users["officer"])
    db.session.commit()
    return {"call": call, "project": project, "session": session, "fr": french, "en": english}


def url(s) -> str:
    return f"/reviews/committee/{s['session'].id}/projects/{s['project'].id}/decide"


def unchanged(db, s, outbox, status=ProjectStatus.QUALIFIED) -> None:
    db.session.expire_all()
    assert s["project"].status == status
    assert db.session.scalar(select(func.count(CommitteeDecision.id))) == 0
    assert outbox("ama@asso.example.org") == []


def test_the_committee_rows_are_in_the_workflow():
    assert find_transition("qualified", "approved").roles == {"officer", "approver"}
    assert find_transition("deferred", "approved") is not None
    assert find_transition("deferred", "rejected") is not None
    assert find_transition("qualified", "deferred") is not None
    assert find_transition("deferred", "deferred") is None
    assert find_transition("in_review", "approved") is None


@pytest.mark.backends
def test_an_approval_moves_the_project_and_tells_each_member_in_their_language(client, db, login_as, users, setup,
                                                                              outbox):
    login_as(users["approver"])
    response = client.post(url(setup), data=confirmed(decision_form("approved", "Projet pertinent & bien préparé.")))
    assert response.status_code == 302
    db.session.expire_all()
    project = setup["project"]
    assert project.status == ProjectStatus.APPROVED
    decision = db.session.scalar(select(CommitteeDecision))
    assert (decision.outcome, decision.amount_proposed_xof, decision.rank, decision.score_centi) == (
        "approved", 4_000_000, 1, 7350)
    assert decision.decided_by_id == users["approver"].id
    event = db.session.scalar(select(ProjectEvent).where(ProjectEvent.to_status == "approved"))
    assert event.message == "Projet pertinent & bien préparé."
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "committee.decided")) is not None
    [french] = outbox("ama@asso.example.org")
    [english] = outbox("kofi@asso.example.org")
    assert french.subject.startswith("codev : ") and project.reference in french.subject
    assert "Projet pertinent & bien préparé." in french.body and "4 000 000" in french.body.replace("\u202f", " ")
    assert "approuvé" in french.subject
    assert "approved" in english.subject and "Grant proposed" in english.body
    for message in (french, english):
        # no score (73,50 / 73.50) and no evaluator's name reach the association
        assert not any(score in message.body for score in ("73,50", "73.50", "7350")) and "Personne" not in message.body


def test_an_approval_with_conditions_keeps_them_and_a_smaller_amount(client, db, login_as, users, setup, outbox):
    login_as(users["officer"])
    response = client.post(url(setup), data=confirmed(decision_form(
        "conditionally_approved", conditions="Fournir un second devis.", amount="3 500 000")))
    assert response.status_code == 302
    decision = db.session.scalar(select(CommitteeDecision))
    assert decision.conditions == "Fournir un second devis."
    assert decision.amount_proposed_xof == 3_500_000
    assert setup["project"].status == ProjectStatus.APPROVED
    assert "Fournir un second devis." in outbox("kofi@asso.example.org")[0].body


def test_a_deferred_project_comes_back_at_a_later_session_and_cannot_be_deferred_again(db, users, setup):
    project, officer = setup["project"], users["officer"]
    decide(setup["session"], project, DecisionData("deferred", "Visite de terrain d'abord."), officer)
    assert project.status == ProjectStatus.DEFERRED
    later = committee_session(setup["call"], officer)
    with pytest.raises(CommitteeError) as refused:
        decide(later, project, DecisionData("deferred", "Encore."), officer)
    assert refused.value.field == "outcome"
    decision = decide(later, project, DecisionData("rejected", "Le site ne convient pas."), officer)
    assert project.status == ProjectStatus.REJECTED and decision.amount_proposed_xof is None


@pytest.mark.parametrize(("data", "field", "message"), [
    (decision_form("approved", reason=""), "reason", "obligatoire"),
    (decision_form("conditionally_approved"), "conditions", "conditions"),
    (decision_form("approved", amount="4 000 001"), "amount", "4\u202f000\u202f000"),
    (decision_form("approved", amount="0"), "amount", "zéro"),
    (decision_form(""), "outcome", "obligatoire"),
])
def test_an_incomplete_decision_is_refused_beside_its_field_and_nothing_changes(
        client, db, login_as, users, setup, outbox, data, field, message):
    login_as(users["officer"])
    response = client.post(url(setup), data=confirmed(data))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    unchanged(db, setup, outbox)


@pytest.mark.parametrize("status", [ProjectStatus.IN_REVIEW, ProjectStatus.NOT_QUALIFIED, ProjectStatus.APPROVED])
def test_a_project_in_the_wrong_state_is_refused_with_a_clear_message(client, db, login_as, users, setup, outbox,
                                                                       status):
    setup["project"].status = status
    db.session.commit()
    login_as(users["officer"])
    response = client.post(url(setup), data=confirmed(decision_form("approved")))
    assert response.status_code == 400
    assert "le comité ne décide que sur les projets qualifiés ou ajournés" in response.get_data(as_text=True)
    unchanged(db, setup, outbox, status)


@pytest.mark.parametrize("role", ["evaluator", "association", "admin"])
def test_only_officers_and_approvers_decide(client, db, login_as, users, setup, outbox, role):
    login_as(users[role])
    assert client.post(url(setup), data=confirmed(decision_form("approved"))).status_code == 403
    unchanged(db, setup, outbox)


def test_a_member_of_the_project_cannot_decide_either(client, db, login_as, setup, outbox):
    login_as(setup["fr"])
    assert client.post(url(setup), data=confirmed(decision_form("approved"))).status_code == 403
    unchanged(db, setup, outbox)


def test_a_closed_session_or_a_second_decision_is_refused(client, db, login_as, users, setup, outbox):
    officer = users["officer"]
    setup["session"].status = SessionStatus.CLOSED
    db.session.commit()
    login_as(officer)
    response = client.post(url(setup), data=confirmed(decision_form("approved")))
    assert response.status_code == 400 and "séance est close" in response.get_data(as_text=True)
    unchanged(db, setup, outbox)
    session = committee_session(setup["call"], officer)
    other = qualified_project(setup["call"], status=ProjectStatus.DEFERRED)
    decide(session, other, DecisionData("approved", "Oui."), officer)
    with pytest.raises(CommitteeError):
        decide(session, other, DecisionData("rejected", "Non."), officer)


def test_a_project_of_another_call_is_not_found(client, db, login_as, users, setup):
    elsewhere = qualified_project()
    db.session.commit()
    login_as(users["officer"])
    response = client.get(f"/reviews/committee/{setup['session'].id}/projects/{elsewhere.id}/decide")
    assert response.status_code == 404


def test_the_decision_page_proposes_the_requested_grant_and_only_the_outcomes_open(client, db, login_as, users,
                                                                                   setup):
    login_as(users["officer"])
    page = client.get(url(setup)).get_data(as_text=True)
    assert 'value="4 000 000"' in page and "73,50 / 100" in page
    assert 'value="deferred"' in page
    setup["project"].status = ProjectStatus.DEFERRED
    db.session.commit()
    page = client.get(url(setup)).get_data(as_text=True)
    assert 'value="deferred"' not in page and 'value="rejected"' in page


def test_a_decision_by_someone_other_than_a_decider_is_refused_by_the_service(db, users, setup):
    with pytest.raises(CommitteeError):
        decide(setup["session"], setup["project"], DecisionData("approved", "Oui."), UserFactory(admin=True))
    assert setup["project"].status == ProjectStatus.QUALIFIED
