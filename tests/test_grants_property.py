"""Random sequences of money operations, through the services, never break the ledger's invariants.

After every step: D ≤ min(G, ratio × V); V from SQL equals the pure recomputation from the entries; no
entry was modified; and every refused operation left the database exactly as it was.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from codev.calls.models import ExchangeRate, TrancheCondition
from codev.core.timeutil import utcnow
from codev.grants.common import LedgerError
from codev.grants.disbursements.payments import approve_request, record_disbursement
from codev.grants.disbursements.tranches import money_facts
from codev.grants.ledger import contributions
from codev.grants.ledger import entries as ledger
from codev.grants.models import ContributionEntry, GrantStatus
from tests.factories_ledger import PLAN, make_grant, proof

TWO = ((5000, TrancheCondition.AWARD), (5000, TrancheCondition.CONTRIBUTION_VERIFIED))
SOURCES = ["association_cash", "association_in_kind", "community", "commune"]

# A declaration, then (usually) its verification or rejection as a separate service call.
declare_step = st.tuples(st.just("declare"), st.sampled_from(SOURCES), st.sampled_from(["XOF", "EUR", "USD"]),
                         st.integers(1, 6_000_000), st.sampled_from(["verify", "verify", "verify", "reject", None]))
# A decision on any declaration: mostly one in the right state, sometimes one the service must refuse.
decide_step = st.tuples(st.sampled_from(["verify", "reject", "reverse"]), st.integers(0, 20))
# A disbursement asks for tenths of what rule 4 leaves right now (11 and 12 tenths go beyond it), or for
# a random amount, on a random tranche, sometimes with the previous form's idempotency key.
disburse_step = st.tuples(st.just("disburse"), st.sampled_from([1, 1, 1, 2, 3]),
                          st.one_of(st.integers(1, 12).map(lambda k: ("tenths", k)),
                                    st.integers(1, 9_000_000).map(lambda a: ("francs", a))),
                          st.booleans())
approve_step = st.tuples(st.just("approve"), st.integers(0, 5))
# Each sequence opens with a verified cash contribution of a random amount, so money can flow early.
opening = st.integers(1, 8_000_000).map(lambda a: ("declare", "association_cash", "XOF", a, "verify"))
steps = st.tuples(opening, st.lists(st.one_of(disburse_step, declare_step, disburse_step, decide_step, approve_step),
                                    min_size=3, max_size=12)).map(lambda t: [t[0], *t[1]])


def atomic(operations):
    """Each step as single service calls (a declaration and its decision are two)."""
    for step in operations:
        if step[0] == "declare":
            yield step[:4]
            if step[4]:
                yield (step[4], -1)
        else:
            yield step


def snapshot(db, grant_id: int) -> dict:
    """Everything a money operation could touch, read through the session (flushed changes included)."""
    def rows(sql):
        return [tuple(r) for r in db.session.execute(text(sql), {"g": grant_id}).all()]

    return {
        "entries": rows("SELECT * FROM contribution_entries WHERE grant_id = :g ORDER BY id"),
        "disbursements": rows("SELECT * FROM disbursements WHERE grant_id = :g ORDER BY id"),
        "requests": rows("SELECT id, status, decided_by_id FROM disbursement_requests WHERE grant_id = :g"),
        "grant": rows("SELECT status, released_xof, completed_at FROM grants WHERE id = :g"),
        "audit": rows("SELECT COUNT(*) FROM audit_events"),
        "files": rows("SELECT COUNT(*) FROM attachments"),
        "mail": rows("SELECT COUNT(*) FROM outbox_messages"),
    }


def run(step, grant, people, state):
    member, officer, approver = people
    kind = step[0]
    if kind == "declare":
        _, source, currency, amount = step
        entry = contributions.declare_contribution(grant, member, source=source, currency=currency, amount_minor=amount,
                                            value_date=utcnow().date() - timedelta(days=1), proof=proof())
        state["declared"].append(entry.id)
    elif kind in ("verify", "reject", "reverse"):
        # Mostly a declaration in the right state; otherwise any (the service must refuse it cleanly).
        book = ledger.read_ledger(ledger.grant_entries(grant.id), grant.in_kind_counts_bps)
        wanted = "verified" if kind == "reverse" else "declared"
        targets = [i for i in state["declared"] if book.states[i] == wanted] or state["declared"]
        if not targets:
            return
        if step[1] == -1:
            entry_id = state["declared"][-1]
        else:
            entry_id = targets[step[1] % len(targets)] if step[1] % 5 else state["declared"][0]
        if kind == "verify":
            contributions.verify_contribution(grant, entry_id, officer)
        elif kind == "reject":
            contributions.reject_contribution(grant, entry_id, officer, "Preuve insuffisante")
        else:
            contributions.reverse_contribution(grant, entry_id, officer, "Correction")
    elif kind == "disburse":
        _, tranche, (unit, amount), same_key = step
        if unit == "tenths":
            facts = money_facts([grant])[grant.id]
            amount = max(1, (facts.limit - facts.d - facts.pending) * amount // 10)
        key = state["key"] if same_key and state["key"] else str(uuid.uuid4())
        done = record_disbursement(grant, officer, tranche_number=tranche, amount_xof=amount,
                                   value_date=utcnow().date(), bank_reference="VIR", idempotency_key=key)
        state["key"] = key
        if done.request is not None and not done.duplicate:
            state["requests"].append(done.request.id)
    elif kind == "approve" and state["requests"]:
        approve_request(grant, state["requests"][step[1] % len(state["requests"])], approver)


def check(db, grant, seen: dict) -> None:
    db.session.expire_all()
    entries = db.session.scalars(db.select(ContributionEntry).where(ContributionEntry.grant_id == grant.id)).all()
    facts = money_facts([grant])[grant.id]
    assert facts.v == ledger.eligible_verified(entries, grant.in_kind_counts_bps)
    assert facts.v == ledger.eligible_verified_sql(grant)
    assert facts.d <= min(grant.amount_xof, grant.ratio.apply(facts.v))
    assert facts.d <= grant.amount_xof and facts.d + facts.pending <= facts.limit
    current = {row[0]: row for row in snapshot(db, grant.id)["entries"]}
    for entry_id, row in seen.items():
        assert current[entry_id] == row, "a ledger entry was modified"
    seen.update(current)
    if facts.d:
        assert grant.status in (GrantStatus.ACTIVE, GrantStatus.COMPLETED)


@pytest.mark.backends
@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ratio=st.sampled_from([(1, 1), (2, 1), (1, 2), (3, 1)]), in_kind=st.sampled_from([0, 5000, 10_000]),
       plan=st.sampled_from([PLAN, TWO]), operations=steps)
def test_money_invariants_hold_through_the_services(app, db, users, backend, ratio, in_kind, plan, operations):
    app.config["FOUR_EYES_THRESHOLD_XOF"] = 4_000_000
    if db.session.scalar(db.select(ExchangeRate).where(ExchangeRate.currency == "USD")) is None:
        db.session.add(ExchangeRate(currency="USD", rate_millionths=601_250_000, valid_from=date(2020, 1, 1)))
    people = (users["association"], users["officer"], users["approver"])
    grant = make_grant(people[0], amount=10_000_000, ratio=ratio, in_kind_bps=in_kind, plan=plan,
                       approver=people[2])
    db.session.commit()
    state = {"declared": [], "requests": [], "key": None}
    seen: dict = {}
    for step in atomic(operations):
        before = snapshot(db, grant.id)
        try:
            run(step, grant, people, state)
        except LedgerError:
            assert snapshot(db, grant.id) == before, f"refused {step} changed the database"
            db.session.rollback()
            assert snapshot(db, grant.id) == before
        else:
            db.session.commit()
        check(db, grant, seen)
