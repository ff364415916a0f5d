"""The call's workflow: one table, the checks before opening, roles and states refused, audit and mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale

from codev.calls.models import CallStatus, CallTranche, TrancheCondition
from codev.calls.workflow import can_transition, fire, missing_pieces
from codev.core.models import AuditEvent
from codev.core.timeutil import utcnow
from codev.core.workflow import TransitionRefused as WorkflowError
from tests import factories


@pytest.fixture(autouse=True)
def english(app):
    with app.test_request_context(), force_locale("en"):
        yield


def ready_draft(**kwargs):
    """A draft with a complete set of rules, closing in 30 days."""
    return factories.CallFactory(closes_at=utcnow() + timedelta(days=30), **kwargs)


def test_open_a_complete_draft(db, users, outbox):
    association = factories.AssociationFactory(verified=True, contact_email="asso@example.org", locale="en")
    factories.AssociationFactory(contact_email="pending@example.org")  # not verified: not told
    call = ready_draft()
    fire(call, CallStatus.OPEN, users["officer"])
    assert call.status == CallStatus.OPEN
    assert call.opens_at is not None and call.is_accepting()
    event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "call.open")).one()
    assert (event.object_id, event.before, event.after) == (call.id, {"status": "draft"}, {"status": "open"})
    assert event.actor_id == users["officer"].id
    mails = outbox()
    recipients = {m.recipient: m for m in mails}
    assert association.contact_email in recipients and "pending@example.org" not in recipients
    assert len(mails) == 2  # the members' association of the fixture is verified too
    mail = recipients[association.contact_email]
    assert mail.subject.startswith("New call for projects")
    assert f"/calls/{call.id}" in mail.body


def mutate_sectors(call):
    call.sectors = []


def mutate_regions(call):
    call.regions = []


def mutate_envelope(call):
    call.envelope_xof = 0


def mutate_weights(call):
    call.criteria[0].weight = 39  # 39 + 35 + 25 = 99


def mutate_tranches(call):
    call.tranches[2].share_bps = 1000  # 40 + 40 + 10 = 90 %


def mutate_criteria(call):
    call.criteria = []


def mutate_no_tranches(call):
    call.tranches = []


def mutate_closes_missing(call):
    call.closes_at = None


def mutate_closes_past(call):
    call.opens_at = utcnow() - timedelta(days=10)
    call.closes_at = utcnow() - timedelta(minutes=1)


def mutate_deadline(call):
    call.contribution_deadline_days = None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (mutate_sectors, "No eligible sector is chosen."),
        (mutate_regions, "No eligible region is chosen."),
        (mutate_envelope, "The envelope is 0 F CFA"),
        (mutate_weights, "The weights of the criteria add up to 99; they must total 100."),
        (mutate_tranches, "The tranches add up to 90 %; they must total 100 %."),
        (mutate_criteria, "The evaluation grid has no criterion."),
        (mutate_no_tranches, "The tranche plan is empty."),
        (mutate_closes_missing, "The closing date is missing."),
        (mutate_closes_past, "The closing date is in the past."),
        (mutate_deadline, "The contribution deadline (days after the award) is missing."),
    ],
)
def test_open_refused_with_the_missing_piece_in_words(db, users, mutate, message):
    call = ready_draft()
    mutate(call)
    db.session.flush()
    with pytest.raises(WorkflowError) as refused:
        fire(call, CallStatus.OPEN, users["officer"])
    assert any(p.startswith(message) for p in refused.value.problems), refused.value.problems
    assert call.status == CallStatus.DRAFT
    allowed, reason = can_transition(call, CallStatus.OPEN, users["officer"])
    assert not allowed and message in reason


def test_every_missing_piece_is_listed_at_once(db, users):
    call = factories.CallFactory(rules=False, envelope_xof=0, contribution_deadline_days=None)
    problems = missing_pieces(call)
    assert len(problems) == 7, problems
    assert "No eligible sector is chosen." in problems and "The closing date is missing." in problems


def test_tranches_of_ninety_and_a_half_percent_are_shown_exactly(db, users):
    call = ready_draft()
    call.tranches = [CallTranche(number=1, share_bps=9050, condition=TrancheCondition.AWARD)]
    assert "The tranches add up to 90.5 %; they must total 100 %." in missing_pieces(call)


@pytest.mark.parametrize("role", ["association", "evaluator", "approver", "admin"])
def test_only_officers_open_a_call(db, users, role):
    call = ready_draft()
    with pytest.raises(WorkflowError, match="You are not allowed to make this change."):
        fire(call, CallStatus.OPEN, users[role])
    assert call.status == CallStatus.DRAFT
    assert can_transition(call, CallStatus.OPEN, users[role]) == (False, "You are not allowed to make this change.")


@pytest.mark.parametrize(
    ("status", "target"),
    [("draft", "closed"), ("draft", "evaluating"), ("open", "evaluating"), ("open", "draft"),
     ("closed", "open"), ("decided", "open"), ("archived", "draft"), ("archived", "open")],
)
def test_transitions_not_in_the_table_are_refused(db, users, status, target):
    call = factories.CallFactory(status=status, closes_at=utcnow() + timedelta(days=3))
    with pytest.raises(WorkflowError, match="cannot become"):
        fire(call, target, users["officer"])
    assert call.status == status


@pytest.mark.backends
def test_the_whole_life_of_a_call(db, users):
    call = ready_draft()
    fire(call, CallStatus.OPEN, users["officer"])
    fire(call, CallStatus.CLOSED, users["officer"])
    fire(call, CallStatus.EVALUATING, users["officer"])
    with pytest.raises(WorkflowError):
        fire(call, CallStatus.DECIDED, users["admin"])
    fire(call, CallStatus.DECIDED, users["approver"])
    with pytest.raises(WorkflowError):
        fire(call, CallStatus.ARCHIVED, users["approver"])
    fire(call, CallStatus.ARCHIVED, users["admin"])
    actions = db.session.scalars(
        db.select(AuditEvent.action).where(AuditEvent.object_id == call.id).order_by(AuditEvent.id)
    ).all()
    assert [a for a in actions if a.startswith("call.")] == [
        "call.open", "call.closed", "call.evaluating", "call.decided", "call.archived",
    ]


def test_closing_early_records_the_real_closing_time(db, users):
    call = factories.CallFactory(open=True)
    planned = call.closes_at
    fire(call, CallStatus.CLOSED, users["officer"])
    assert call.closes_at < planned and call.closes_at <= utcnow()
    assert call.opens_at < call.closes_at
    db.session.flush()  # the dates CHECK holds


@pytest.mark.backends
def test_closing_a_call_that_has_not_started_keeps_dates_in_order(db, users):
    call = ready_draft(opens_at=utcnow() + timedelta(days=5))
    fire(call, CallStatus.OPEN, users["officer"])
    assert not call.is_accepting()
    fire(call, CallStatus.CLOSED, users["officer"])
    assert call.opens_at < call.closes_at
    db.session.flush()


# --- through the pages ---------------------------------------------------------------------------


def test_officer_opens_a_call_with_a_button(client, db, users, login_as):
    call = ready_draft()
    db.session.commit()
    users["officer"].locale = "en"
    login_as(users["officer"])
    page = client.get(f"/calls/{call.id}/manage")
    assert f"/calls/{call.id}/status/open" in page.get_data(as_text=True)
    answer = client.post(f"/calls/{call.id}/status/open", follow_redirects=True)
    assert answer.status_code == 200
    assert "The call is now: Open." in answer.get_data(as_text=True)
    db.session.expire_all()
    assert call.status == CallStatus.OPEN


def test_page_says_why_a_call_cannot_open(client, db, users, login_as):
    call = factories.CallFactory(rules=False)
    db.session.commit()
    users["officer"].locale = "en"
    login_as(users["officer"])
    text = client.get(f"/calls/{call.id}/manage").get_data(as_text=True)
    assert "No eligible sector is chosen." in text
    assert f"/calls/{call.id}/status/open" not in text
    answer = client.post(f"/calls/{call.id}/status/open", follow_redirects=True)
    assert "No eligible region is chosen." in answer.get_data(as_text=True)
    db.session.expire_all()
    assert call.status == CallStatus.DRAFT


def test_wrong_roles_through_the_pages(client, db, users, login_as):
    call = ready_draft()
    db.session.commit()
    login_as(users["association"])
    assert client.post(f"/calls/{call.id}/status/open").status_code == 403
    login_as(users["approver"])
    client.post(f"/calls/{call.id}/status/open")
    assert client.post(f"/calls/{call.id}/status/nonsense").status_code == 404
    db.session.expire_all()
    assert call.status == CallStatus.DRAFT
