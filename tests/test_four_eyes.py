"""Four eyes cannot be split: what is paid on a tranche, or on a grant within the period, above the threshold
always waits for an approver's signature, whatever the sequence of payments (hand-picked and random).

The period is counted by recording date; the tests move the clock with the services' ``now``.
"""

from __future__ import annotations

import html
import threading
import uuid
from datetime import timedelta

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codev.accounts.models import User
from codev.calls.models import TrancheCondition
from codev.core.timeutil import utcnow
from codev.extensions import db as _db
from codev.grants.common import LedgerError
from codev.grants.disbursements.payments import approve_request, record_disbursement, refuse_request
from codev.grants.models import Disbursement, DisbursementRequest, Grant
from tests.confirm_support import confirmed
from tests.factories_ledger import make_grant, page_text, verified

M = 1_000_000
THRESHOLD = 10 * M


def plan_of(*weights: int):
    """Tranches paid on award, with these relative sizes (the shares sum to 100 %)."""
    shares = [w * 10_000 // sum(weights) for w in weights[:-1]]
    return tuple((share, TrancheCondition.AWARD) for share in [*shares, 10_000 - sum(shares)])


def money_grant(db, users, amount: int, *weights: int) -> Grant:
    """A grant whose whole match is verified (rule 4 never stands in the way), approved 90 days ago."""
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=amount, plan=plan_of(*(weights or (1,))))
    grant.approved_at = utcnow() - timedelta(days=90)
    verified(grant, member, officer, amount)
    db.session.commit()
    return grant


def pay(grant, user, amount, *, tranche=1, now=None, value_date=None):
    """One payment form through the service, at ``now``; returns "paid" or "signature" (the request)."""
    now = now or utcnow()
    done = record_disbursement(grant, user, tranche_number=tranche, amount_xof=amount,
                               value_date=value_date or utcnow().date(), bank_reference=f"VIR-{uuid.uuid4().hex[:8]}",
                               idempotency_key=str(uuid.uuid4()), now=now)
    _db.session.commit()
    return "paid" if done.disbursement is not None else "signature"


def plain(text: str) -> str:
    """Text or a page with entities decoded and the narrow and non-breaking spaces made plain spaces."""
    return html.unescape(text).replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def four_eyes(app):
    app.config.update(FOUR_EYES_THRESHOLD_XOF=THRESHOLD, FOUR_EYES_PERIOD_DAYS=30)


@pytest.mark.backends
def test_the_split_of_the_issue_needs_a_second_signature(db, users, four_eyes, backend):
    """10 000 000 then 2 000 000 on a 12 000 000 tranche: the second payment waits for an approver."""
    grant = money_grant(db, users, 12 * M)
    assert pay(grant, users["officer"], 10 * M) == "paid"
    with force_locale("en"):
        done = record_disbursement(grant, users["officer"], tranche_number=1, amount_xof=2 * M,
                                   value_date=utcnow().date(), bank_reference="VIR-2",
                                   idempotency_key=str(uuid.uuid4()))
        assert plain(done.four_eyes.reason) == ("this payment brings tranche 1 to 12,000,000 F CFA, above the "
                                                "10,000,000 F CFA threshold")
    assert done.request is not None and done.disbursement is None
    assert db.session.scalar(db.select(db.func.sum(Disbursement.amount_xof))) == 10 * M


@pytest.mark.backends
@pytest.mark.parametrize("split, outcomes", [
    ([10 * M, 2 * M], ["paid", "signature"]),
    ([2 * M, 10 * M], ["paid", "signature"]),
    ([6 * M, 6 * M], ["paid", "signature"]),
    ([5 * M, 5 * M, 1], ["paid", "paid", "signature"]),
    ([1, 10 * M - 1, 1, 1], ["paid", "paid", "signature", "signature"]),  # every payment past the threshold
    ([4 * M, 4 * M, 4 * M], ["paid", "paid", "signature"]),
    ([11 * M, 1 * M], ["signature", "signature"]),  # the request awaiting a signature counts as paid
    ([12 * M], ["signature"]),
])
def test_every_split_of_a_tranche(db, users, four_eyes, backend, split, outcomes):
    grant = money_grant(db, users, 12 * M)
    assert [pay(grant, users["officer"], amount) for amount in split] == outcomes
    unsigned = db.session.scalar(db.select(db.func.sum(Disbursement.amount_xof))
                                 .where(Disbursement.approved_by_id.is_(None)))
    assert (unsigned or 0) <= THRESHOLD


@pytest.mark.backends
def test_a_signed_payment_counts_and_a_refused_request_does_not(db, users, four_eyes, backend):
    grant = money_grant(db, users, 30 * M)  # one tranche of 30 000 000
    officer, approver = users["officer"], users["approver"]
    assert pay(grant, officer, 11 * M) == "signature"
    request = db.session.scalar(db.select(DisbursementRequest))
    refuse_request(grant, request.id, approver, "Mauvais RIB")
    db.session.commit()
    assert pay(grant, officer, 9 * M) == "paid"  # the refused 11 000 000 is not money paid
    assert pay(grant, officer, 1 * M) == "paid"  # 10 000 000 in all: at the threshold, not above
    assert pay(grant, officer, 1) == "signature"
    later = db.session.scalar(db.select(DisbursementRequest).order_by(DisbursementRequest.id.desc()))
    approve_request(grant, later.id, approver)
    db.session.commit()
    assert pay(grant, officer, 1) == "signature"  # signed money is paid money too


@pytest.mark.backends
@pytest.mark.parametrize("days_later, outcome", [(0, "signature"), (29, "signature"), (30, "paid"), (45, "paid")])
def test_payments_across_tranches_within_the_period(db, users, four_eyes, backend, days_later, outcome):
    """Tranche 1 (10 000 000) paid in full on one signature; 1 franc on tranche 2 within 30 days needs two."""
    grant = money_grant(db, users, 20 * M, 1, 1)
    start = utcnow()
    assert pay(grant, users["officer"], 10 * M, now=start) == "paid"
    assert pay(grant, users["officer"], 1, tranche=2, now=start + timedelta(days=days_later)) == outcome


@pytest.mark.backends
def test_the_period_is_a_setting_and_counts_by_recording_date(app, db, users, four_eyes, backend):
    app.config["FOUR_EYES_PERIOD_DAYS"] = 7
    grant = money_grant(db, users, 40 * M, 1, 1, 2)  # tranches of 10, 10 and 20 million
    officer, start = users["officer"], utcnow()
    assert pay(grant, officer, 10 * M, now=start) == "paid"
    with force_locale("en"):
        done = record_disbursement(grant, officer, tranche_number=2, amount_xof=1, value_date=utcnow().date(),
                                   bank_reference="VIR-1", idempotency_key=str(uuid.uuid4()),
                                   now=start + timedelta(days=6))
        assert plain(done.four_eyes.reason) == ("this payment brings what the grant pays out within 7 days to "
                                                "10,000,001 F CFA, above the 10,000,000 F CFA threshold")
    refuse_request(grant, done.request.id, users["approver"], "Trop tôt")
    db.session.commit()
    assert pay(grant, officer, 1, tranche=2, now=start + timedelta(days=7)) == "paid"  # 7 days later: outside
    assert pay(grant, officer, 10 * M - 1, tranche=2, now=start + timedelta(days=8)) == "paid"
    # A value date moved back does not take a payment out of the period: the recording date counts.
    assert pay(grant, officer, 1, tranche=3, now=start + timedelta(days=9),
               value_date=utcnow().date() - timedelta(days=60)) == "signature"


def _pay_in_thread(app, results, barrier, grant_id, user_id, amount):
    with app.app_context():
        grant, user = _db.session.get(Grant, grant_id), _db.session.get(User, user_id)
        barrier.wait()
        try:
            results.append(pay(grant, user, amount))
        except LedgerError:
            _db.session.rollback()
            results.append("refused")
        finally:
            _db.session.remove()


@pytest.mark.backends
def test_two_payments_at_once_cannot_split_past_the_threshold(app, db, users, four_eyes, backend):
    """6 000 000 twice at the same instant on a 12 000 000 tranche: the grant's lock makes one of them wait."""
    grant = money_grant(db, users, 12 * M)
    results, barrier = [], threading.Barrier(2)
    threads = [threading.Thread(target=_pay_in_thread, args=(app, results, barrier, grant.id, users["officer"].id,
                                                             6 * M)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["paid", "signature"]
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.sum(Disbursement.amount_xof))) == 6 * M


def test_the_form_and_the_request_page_say_why(client, db, users, login_as, four_eyes):
    grant = money_grant(db, users, 12 * M)
    officer = users["officer"]
    officer.locale = "en"
    assert pay(grant, officer, 7 * M) == "paid"
    login_as(officer)
    hint = ("On tranche 1, 3,000,000 F CFA of the 5,000,000 F CFA payable now can be recorded without a second "
            "signature; beyond that, an approver signs.")
    rule = ("A payment needs an approver's second signature when it brings what is paid on its tranche, or on the "
            "grant within 30 days, above 10,000,000 F CFA; payments awaiting a signature count as paid.")
    for address in (f"/grants/{grant.id}/disbursements/new", f"/grants/{grant.id}"):
        page = plain(page_text(client.get(address)))
        assert rule in page and hint in page, address
    form = {"idempotency_key": str(uuid.uuid4()), "tranche": "1", "amount": "5 000 000",
            "value_date": utcnow().date().isoformat(), "bank_reference": "VIR-5"}
    response = client.post(f"/grants/{grant.id}/disbursements/new", data=confirmed(form), follow_redirects=True)
    request = db.session.scalar(db.select(DisbursementRequest))
    assert response.request.path == f"/grants/{grant.id}/disbursement-requests/{request.id}"
    page = plain(page_text(response))
    reason = "this payment brings tranche 1 to 12,000,000 F CFA, above the 10,000,000 F CFA threshold"
    assert f"A second signature is needed: {reason}. The request is sent to the approvers." in page
    assert f"Why a second signature: {reason}." in page
    # Signed and followed by other payments, the request still says why it needed a signature then.
    approve_request(grant, request.id, users["approver"])
    db.session.commit()
    later = plain(page_text(client.get(f"/grants/{grant.id}/disbursement-requests/{request.id}")))
    assert f"Why a second signature: {reason}." in later


# --- random splits ---------------------------------------------------------------------------------
# A payment on the next tranche to pay (or any tranche) of tenths of what is left on it, or of any amount,
# some days after the previous step; decisions on the requests made so far.

DAYS = st.sampled_from([0, 0, 0, 0, 1, 1, 2, 6, 7, 8, 29, 30, 31, 60])
TENTHS = st.sampled_from([1, 2, 3, 5, 7, 9, 10, 10, 10]).map(lambda k: ("tenths", k))
pay_step = st.tuples(st.just("pay"), st.sampled_from(["next", "next", "next", "next", "any"]), st.integers(1, 3),
                     st.one_of(TENTHS, TENTHS, TENTHS, st.integers(1, 13 * M).map(lambda a: ("francs", a))), DAYS)
decide_step = st.tuples(st.sampled_from(["approve", "approve", "refuse"]), st.integers(0, 5))
operations = st.lists(st.one_of(pay_step, pay_step, decide_step), min_size=4, max_size=16)


def _rows(grant_id):
    """The grant's disbursements (in order) and its requests awaiting a signature."""
    paid = _db.session.scalars(_db.select(Disbursement).where(Disbursement.grant_id == grant_id)
                               .order_by(Disbursement.id)).all()
    waiting = _db.session.scalars(_db.select(DisbursementRequest).where(
        DisbursementRequest.grant_id == grant_id, DisbursementRequest.status == "pending")).all()
    return paid, waiting


def expected_signature(grant, tranche, amount, now, threshold, days) -> bool:
    """The rule recomputed in Python from the rows: paid and awaiting, on the tranche and in the period."""
    paid, waiting = _rows(grant.id)
    since = now - timedelta(days=days)
    rows = [(d.tranche_number, d.amount_xof, d.recorded_at) for d in paid]
    rows += [(r.tranche_number, r.amount_xof, r.requested_at) for r in waiting]
    on_tranche = amount + sum(a for t, a, _ in rows if t == tranche)
    in_period = amount + sum(a for _, a, at in rows if at > since)
    return on_tranche > threshold or in_period > threshold


def check_no_unsigned_split(grant, threshold, days) -> None:
    """No payment without a second signature ever took a tranche, or the grant within the period, above it."""
    paid, _waiting = _rows(grant.id)
    for one in paid:
        if one.approved_by_id is not None:
            continue
        before = [d for d in paid if d.id <= one.id]
        assert sum(d.amount_xof for d in before if d.tranche_number == one.tranche_number) <= threshold
        since = one.recorded_at - timedelta(days=days)
        assert sum(d.amount_xof for d in before if d.recorded_at > since) <= threshold


@pytest.mark.backends
@settings(max_examples=100, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(1 * M, 40 * M), weights=st.lists(st.integers(1, 10), min_size=1, max_size=3),
       percent=st.integers(15, 110), days=st.sampled_from([1, 7, 30, 30]), steps=operations)
def test_no_random_split_avoids_the_second_signature(app, db, users, backend, amount, weights, percent, days,
                                                    steps):
    """The threshold is a share of the grant, so that tranches fall below it, across it and above it."""
    threshold = amount * percent // 100
    app.config.update(FOUR_EYES_THRESHOLD_XOF=threshold, FOUR_EYES_PERIOD_DAYS=days)
    grant = money_grant(db, users, amount, *weights)
    officer, approver = users["officer"], users["approver"]
    now, requests = utcnow(), []
    for step in steps:
        if step[0] == "pay":
            _, which, number, (unit, figure), later = step
            now += timedelta(days=later, seconds=1)
            paid, waiting = _rows(grant.id)
            left = {t.number: t.amount_xof - sum(d.amount_xof for d in [*paid, *waiting]
                                                 if d.tranche_number == t.number) for t in grant.tranches}
            unpaid = [t for t in grant.tranches if left[t.number] > 0]
            tranche = unpaid[0] if unpaid and which == "next" else grant.tranches[(number - 1) % len(grant.tranches)]
            # Tenths of what is left on the tranche (ten tenths pay it off), or any amount (maybe too much).
            value = max(1, left[tranche.number] * figure // 10) if unit == "tenths" else figure
            expected = expected_signature(grant, tranche.number, value, now, threshold, days)
            try:
                outcome = pay(grant, officer, value, tranche=tranche.number, now=now)
            except LedgerError:  # beyond the tranche, or not its turn: refused, nothing recorded
                db.session.rollback()
                continue
            assert outcome == ("signature" if expected else "paid"), (step, value)
            if outcome == "signature":
                requests.append(db.session.scalar(db.select(db.func.max(DisbursementRequest.id))))
        elif requests:
            now += timedelta(seconds=1)
            request_id = requests[step[1] % len(requests)]
            try:
                if step[0] == "approve":
                    approve_request(grant, request_id, approver, now=now)
                else:
                    refuse_request(grant, request_id, approver, "Pièce manquante", now=now)
                db.session.commit()
            except LedgerError:  # already decided, or no longer within the rules
                db.session.rollback()
        check_no_unsigned_split(grant, threshold, days)
