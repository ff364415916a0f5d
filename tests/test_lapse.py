"""Lapse (rule 5) returns exactly the unspent balance to the envelope, once; reminders go out once each."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from codev.calls.models import Call
from codev.core.models import AuditEvent
from codev.core.timeutil import utcnow
from codev.grants.disbursements.payments import record_disbursement
from codev.grants.life import lapse
from codev.grants.life.reminders import send_reminders
from codev.grants.models import Grant, GrantStatus
from tests.confirm_support import confirmed
from tests.factories import CallFactory
from tests.factories_ledger import declare, make_grant, verified
from tests.test_tranches import ONE

TODAY = utcnow().date()
PAST = TODAY - timedelta(days=1)


def committed(db, call_id) -> int:
    db.session.expire_all()
    return db.session.get(Call, call_id).committed_xof


@pytest.mark.backends
def test_lapse_returns_the_unspent_balance_once(db, users, outbox, backend):
    member, officer = users["association"], users["officer"]
    call = CallFactory(open=True, committed_xof=1_000_000)  # another project's grant stays committed
    late = make_grant(member, amount=6_000_000, deadline=PAST, call=call)
    verified(late, member, officer, 5_999_999)  # one franc short of the match
    on_time = make_grant(member, amount=3_000_000, deadline=TODAY, call=call)  # the deadline is today
    db.session.commit()
    assert committed(db, call.id) == 10_000_000
    lapsed = lapse.close_lapsed(users["officer"])
    db.session.commit()
    assert [g.id for g in lapsed] == [late.id]
    late = db.session.get(Grant, late.id)
    assert (late.status, late.released_xof) == (GrantStatus.LAPSED, 6_000_000) and late.lapsed_at is not None
    assert committed(db, call.id) == 4_000_000
    assert db.session.get(Grant, on_time.id).status == GrantStatus.AWARDED
    assert any("caduque" in m.subject or "lapsed" in m.subject for m in outbox(member.email))
    assert lapse.close_lapsed() == []  # a second run changes nothing
    db.session.commit()
    assert committed(db, call.id) == 4_000_000
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "grant.lapsed")) == 1


def test_no_lapse_when_the_match_came_or_money_went_out(db, users):
    member, officer = users["association"], users["officer"]
    matched = make_grant(member, amount=2_000_000, deadline=PAST)
    verified(matched, member, officer, 2_000_000)
    started = make_grant(member, amount=2_000_000, deadline=PAST, plan=ONE)
    verified(started, member, officer, 500_000)
    record_disbursement(started, officer, tranche_number=1, amount_xof=500_000, value_date=TODAY,
                        bank_reference="VIR", idempotency_key=str(uuid.uuid4()))
    assert lapse.count_lapsable() == 0
    assert lapse.close_lapsed() == []
    assert matched.status == GrantStatus.AWARDED and started.status == GrantStatus.ACTIVE


def test_lapse_refused_when_the_envelope_does_not_hold_the_grant(db, users):
    from codev.grants.common import LedgerError

    grant = make_grant(users["association"], amount=2_000_000, deadline=PAST)
    grant.call.committed_xof = 1_000_000  # inconsistent data: the guarded UPDATE matches no row
    db.session.commit()
    with pytest.raises(LedgerError):
        lapse.close_lapsed()
    db.session.rollback()
    assert db.session.get(Grant, grant.id).status == GrantStatus.AWARDED


def test_close_lapsed_command_and_button(runner, client, db, users, login_as):
    grant = make_grant(users["association"], amount=2_000_000, deadline=PAST)
    other = make_grant(users["association"], amount=1_000_000, deadline=PAST)
    db.session.commit()
    result = runner.invoke(args=["close-lapsed"])
    assert result.exit_code == 0 and "2 grants lapsed" in result.output
    assert runner.invoke(args=["close-lapsed"]).output.strip().endswith("0 grants lapsed")
    login_as(users["officer"])
    response = client.post("/grants/close-lapsed", data=confirmed(), follow_redirects=True)
    assert response.status_code == 200
    db.session.expire_all()
    assert {db.session.get(Grant, g.id).status for g in (grant, other)} == {GrantStatus.LAPSED}


def test_officer_card_offers_the_button(client, db, users, login_as):
    make_grant(users["association"], amount=2_000_000, deadline=PAST)
    login_as(users["officer"])
    page = client.get("/").get_data(as_text=True)
    assert "/grants/close-lapsed" in page


def test_contribution_reminders_once_per_window(app, db, users, outbox):
    member = users["association"]
    grant = make_grant(member, amount=4_000_000, deadline=TODAY + timedelta(days=25))
    make_grant(member, amount=1_000_000, deadline=TODAY + timedelta(days=60))  # not in a window yet
    db.session.commit()
    assert send_reminders(TODAY) == 1
    assert send_reminders(TODAY) == 0  # once
    assert send_reminders(TODAY + timedelta(days=10)) == 0  # still the 30-day window
    assert send_reminders(TODAY + timedelta(days=19)) == 1  # 6 days left: the 7-day window
    assert len([m for m in outbox(member.email) if "4" in m.subject]) == 2
    keys = db.session.scalars(db.select(AuditEvent.after).where(AuditEvent.action == "grant.reminder",
                                                                AuditEvent.object_id == grant.id)).all()
    assert sorted(k["key"] for k in keys) == ["contribution-30", "contribution-7"]


def test_no_reminder_once_the_match_is_verified(db, users):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=1_000_000, deadline=TODAY + timedelta(days=5), plan=ONE)
    declare(grant, member, 1_000_000)  # declared is not verified yet
    assert send_reminders(TODAY) == 1
    verified(grant, member, officer, 1_000_000)
    assert send_reminders(TODAY + timedelta(days=1)) == 0


def test_report_reminder_when_the_next_tranche_waits_for_it(db, users, outbox, runner):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=10_000_000)
    verified(grant, member, officer, 10_000_000)
    record_disbursement(grant, officer, tranche_number=1, amount_xof=4_000_000, value_date=TODAY,
                        bank_reference="VIR", idempotency_key=str(uuid.uuid4()))
    db.session.commit()
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0 and "1 reminder queued" in result.output
    assert runner.invoke(args=["send-reminders"]).output.startswith("0 reminders")
    assert any(m.recipient == member.email and "rapport" in m.subject.lower() or "report" in m.subject.lower()
               for m in outbox())
