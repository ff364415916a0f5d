"""The arithmetic of the matched grant (codev/core/money.py), each rule against its definition.

Every function is checked against what it promises, over random integers: limits are the largest value
within the rule, minimums the smallest that reaches it, splits add up exactly, the envelope statements
never overspend nor go below zero. A class test then reads the code: no other module does share
arithmetic on basis points.
"""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

import codev
from codev.calls.models import Call
from codev.core import money
from codev.core.money import BPS, Ratio

amounts = st.integers(0, 10**13)
positive = st.integers(1, 10**13)
shares = st.integers(0, BPS)
ratios = st.builds(Ratio, st.integers(1, 10), st.integers(1, 10))


@given(amounts, shares)
def test_share_floor_is_the_largest_value_within_the_share(amount, bps):
    limit = money.share_floor(amount, bps)
    assert money.within_share(limit, amount, bps)
    assert not money.within_share(limit + 1, amount, bps) or bps == BPS and limit == amount


@given(amounts, shares)
def test_share_ceil_is_the_smallest_value_reaching_the_share(amount, bps):
    least = money.share_ceil(amount, bps)
    assert money.reaches_share(least, amount, bps)
    assert least == 0 or not money.reaches_share(least - 1, amount, bps)


@given(amounts, positive)
def test_share_bps_rounds_half_up_and_stays_in_range(part, whole):
    part = min(part, whole)
    bps = money.share_bps(part, whole)
    assert 0 <= bps <= BPS
    assert abs(part * BPS - bps * whole) * 2 <= whole  # within half a basis point


@given(ratios, amounts)
def test_required_for_is_the_least_money_that_unlocks_the_grant(ratio, grant):
    needed = ratio.required_for(grant)
    assert ratio.apply(needed) >= grant
    assert needed == 0 or ratio.apply(needed - 1) < grant


@given(ratios, amounts)
def test_apply_never_gives_more_than_the_ratio(ratio, association):
    given_by_state = ratio.apply(association)
    assert given_by_state * ratio.denominator <= association * ratio.numerator
    assert (given_by_state + 1) * ratio.denominator > association * ratio.numerator


@given(amounts, amounts, shares)
def test_eligible_money_counts_cash_and_the_share_of_in_kind(cash, in_kind, bps):
    eligible = money.eligible_money(cash, in_kind, bps)
    assert cash <= eligible <= cash + in_kind
    assert money.eligible_money(cash, in_kind, BPS) == cash + in_kind
    assert money.eligible_money(cash, in_kind, 0) == cash


@pytest.mark.backends
def test_the_sql_share_and_eligible_money_agree_with_python(db):
    from sqlalchemy import literal, select

    for cash, in_kind, bps in [(0, 0, 0), (1, 9_999, 5_000), (2_500_000, 1_000_001, 3_333), (7, 10**12, 10_000),
                               (10**12, 999_999_999_999, 1)]:
        sql = db.session.scalar(select(money.eligible_money_sql(literal(cash), literal(in_kind), literal(bps))))
        assert sql == money.eligible_money(cash, in_kind, bps)


@given(amounts, st.lists(st.integers(1, BPS), min_size=1, max_size=6))
def test_split_adds_up_exactly_and_only_the_last_part_takes_the_rest(amount, plan):
    parts = money.split(amount, plan)
    assert sum(parts) == amount
    assert len(parts) == len(plan)
    assert parts[:-1] == [money.share_floor(amount, bps) for bps in plan[:-1]]


@given(amounts, ratios, amounts)
def test_disbursable_follows_the_association_money_up_to_the_grant(grant, ratio, verified):
    limit = money.disbursable(grant, ratio, verified)
    assert limit <= grant
    assert limit <= ratio.apply(verified)
    assert limit in (grant, ratio.apply(verified))
    if verified >= ratio.required_for(grant):
        assert limit == grant


# --- the envelope statements, on both databases ---------------------------------------------------


@pytest.mark.backends
def test_envelope_commit_and_release_never_overspend_nor_go_negative(db, app):
    from tests import factories

    call = factories.CallFactory(envelope_xof=1_000, committed_xof=0)
    db.session.commit()
    assert money.commit_envelope(db.session, call.id, 600)
    assert not money.commit_envelope(db.session, call.id, 401)
    assert money.commit_envelope(db.session, call.id, 400)
    assert not money.release_envelope(db.session, call.id, 1_001)
    assert money.release_envelope(db.session, call.id, 250)
    db.session.commit()
    assert db.session.scalar(select(Call.committed_xof).where(Call.id == call.id)) == 750
    with pytest.raises(ValueError):
        money.commit_envelope(db.session, call.id, 0)


@pytest.mark.backends
def test_concurrent_commitments_fill_the_envelope_exactly(db, app):
    """Twelve threads each commit 100 F to an envelope of 1 000 F: exactly ten succeed."""
    from tests import factories

    call = factories.CallFactory(envelope_xof=1_000, committed_xof=0)
    db.session.commit()
    call_id, results, barrier = call.id, [], threading.Barrier(12)

    def worker():
        with app.app_context():
            barrier.wait()
            try:
                ok = money.commit_envelope(db.session, call_id, 100)
                db.session.commit()
                results.append(ok)
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    assert sorted(results) == [False] * 2 + [True] * 10
    assert db.session.scalar(select(Call.committed_xof).where(Call.id == call_id)) == 1_000


# --- the class test: nobody else does share arithmetic ----------------------------------------------

CODEV = Path(codev.__file__).parent


def basis_point_arithmetic(path: Path) -> list[int]:
    """Lines that multiply or divide by BPS, or by 10 000 beside a share ("…bps…"): a share computed by hand."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.FloorDiv, ast.Div, ast.Mod)):
            text = ast.unparse(node)
            for side in (node.left, node.right):
                by_bps = isinstance(side, ast.Name) and side.id == "BPS"
                by_ten_thousand = isinstance(side, ast.Constant) and side.value == 10_000 and "bps" in text.lower()
                if by_bps or by_ten_thousand:
                    lines.append(node.lineno)
    return lines


def test_no_module_but_money_does_share_arithmetic():
    found = {str(p.relative_to(CODEV)): lines for p in sorted(CODEV.rglob("*.py"))
             if "migrations" not in p.parts and p.name != "money.py" and (lines := basis_point_arithmetic(p))}
    assert found == {}
