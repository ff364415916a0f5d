"""Funding rules (DESIGN.md rules 1–2) at their boundaries: accepted at the limit, refused one franc over."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask_babel import force_locale

from codev.calls.rules import (
    PlanFigures,
    check_plan,
    eligible_association_money,
    max_grant_allowed,
    rules_in_words,
)


@dataclass
class Rules:
    """A call's funding rules without the database (the functions read only these attributes)."""

    ratio_num: int = 1
    ratio_den: int = 1
    max_grant_xof: int | None = None
    max_grant_share_bps: int | None = None
    min_association_share_bps: int | None = None
    max_total_budget_xof: int | None = None
    in_kind_counts_bps: int = 0
    contribution_deadline_days: int | None = None


def plan(cash: int, grant: int, *, in_kind: int = 0, community: int = 0, commune: int = 0, other: int = 0,
         budget: int | None = None) -> PlanFigures:
    """A plan that balances unless ``budget`` says otherwise."""
    total = cash + in_kind + community + commune + other + grant
    return PlanFigures(budget if budget is not None else total, cash, in_kind, community, commune, other, grant)


def by_code(call, figures) -> dict:
    return {check.code: check for check in check_plan(call, figures)}


@pytest.fixture(autouse=True)
def english(app):
    with app.test_request_context(), force_locale("en"):
        yield


@pytest.mark.parametrize(
    ("num", "den", "cash", "limit"),
    [(1, 1, 4_000_000, 4_000_000), (2, 1, 4_000_000, 8_000_000), (1, 2, 4_000_000, 2_000_000),
     (1, 2, 4_000_001, 2_000_000), (3, 1, 1_234_567, 3_703_701)],
)
def test_match_accepts_at_ratio_times_a_and_refuses_one_franc_more(num, den, cash, limit):
    call = Rules(ratio_num=num, ratio_den=den)
    assert max_grant_allowed(call, plan(cash, limit)) == limit
    assert by_code(call, plan(cash, limit))["match"].ok
    refused = by_code(call, plan(cash, limit + 1))["match"]
    assert not refused.ok
    factor = str(num) if den == 1 else f"{num}/{den}"
    assert f"is more than {factor} × your own contribution of" in refused.message
    assert f"{cash:,}" in refused.message and f"{limit + 1:,}" in refused.message


def test_match_message_names_the_amounts_in_words():
    message = by_code(Rules(), plan(4_000_000, 6_000_000))["match"].message
    assert message == (
        "The grant asked, 6,000,000\u00a0F\u202fCFA, is more than 1 × your own contribution of "
        "4,000,000\u00a0F\u202fCFA (at most 4,000,000\u00a0F\u202fCFA)."
    )


def test_max_grant_boundary():
    call = Rules(ratio_num=3, max_grant_xof=20_000_000)
    assert by_code(call, plan(10_000_000, 20_000_000))["max_grant"].ok
    refused = by_code(call, plan(10_000_000, 20_000_001))["max_grant"]
    assert not refused.ok and "more than the maximum grant of 20,000,000\u00a0F\u202fCFA" in refused.message
    assert max_grant_allowed(call, plan(10_000_000, 1)) == 20_000_000


def test_max_share_boundary_is_exact_without_rounding():
    call = Rules(ratio_num=10, max_grant_share_bps=7000)
    # B = 10 000 001: 70 % is 7 000 000.7, so 7 000 000 is the most allowed.
    assert by_code(call, plan(3_000_001, 7_000_000))["max_share"].ok
    refused = by_code(call, plan(3_000_000, 7_000_001))["max_share"]
    assert not refused.ok
    assert "more than 70% of the total budget of 10,000,001\u00a0F\u202fCFA" in refused.message
    assert max_grant_allowed(call, plan(3_000_001, 7_000_000)) == 7_000_000


def test_min_association_share_boundary():
    call = Rules(min_association_share_bps=2000)
    # B = 10 000 000: the association brings at least 2 000 000.
    ok = by_code(call, plan(2_000_000, 2_000_000, community=6_000_000))["min_association_share"]
    assert ok.ok
    refused = by_code(call, plan(1_999_999, 1_999_999, community=6_000_002))["min_association_share"]
    assert not refused.ok
    assert "is less than 20% of the total budget of 10,000,000\u00a0F\u202fCFA" in refused.message
    assert "bring at least 2,000,000\u00a0F\u202fCFA" in refused.message


def test_min_share_counts_in_kind_only_as_far_as_the_call_lets_it():
    call = Rules(min_association_share_bps=2000, in_kind_counts_bps=5000)
    # Cash 1 000 000 and in-kind 2 000 000 (counted 1 000 000) reach 20 % of 10 000 000.
    assert by_code(call, plan(1_000_000, 2_000_000, in_kind=2_000_000, community=5_000_000))["min_association_share"].ok
    refused = by_code(call, plan(1_000_000, 2_000_000, in_kind=1_999_998, community=5_000_002))
    assert not refused["min_association_share"].ok
    assert "in-kind as far as the call counts it" in refused["min_association_share"].message


def test_max_budget_boundary():
    call = Rules(max_total_budget_xof=60_000_000)
    assert by_code(call, plan(30_000_000, 30_000_000))["max_budget"].ok
    refused = by_code(call, plan(30_000_000, 30_000_001))["max_budget"]
    assert not refused.ok and "more than the maximum of 60,000,000\u00a0F\u202fCFA" in refused.message


@pytest.mark.parametrize(("bps", "expected"), [(0, 1_000_000), (5000, 2_000_000), (10_000, 3_000_000)])
def test_in_kind_counts_0_50_100_percent(bps, expected):
    call = Rules(in_kind_counts_bps=bps)
    figures = plan(1_000_000, expected, in_kind=2_000_000)
    assert eligible_association_money(call, figures) == expected
    assert by_code(call, figures)["match"].ok
    assert not by_code(call, plan(1_000_000, expected + 1, in_kind=2_000_000))["match"].ok


def test_in_kind_share_is_rounded_down_to_the_franc():
    assert eligible_association_money(Rules(in_kind_counts_bps=5000), plan(0, 0, in_kind=3)) == 1
    assert eligible_association_money(Rules(in_kind_counts_bps=3333), plan(0, 0, in_kind=100)) == 33


def test_plan_balance_off_by_one_franc_either_way():
    figures = plan(4_000_000, 4_000_000, budget=8_000_000)
    assert by_code(Rules(), figures)["balanced"].ok
    short = by_code(Rules(), plan(4_000_000, 4_000_000, budget=8_000_001))["balanced"]
    assert not short.ok and "is 1\u00a0F\u202fCFA short of the total budget" in short.message
    over = by_code(Rules(), plan(4_000_000, 4_000_000, budget=7_999_999))["balanced"]
    assert not over.ok and "is 1\u00a0F\u202fCFA more than the total budget" in over.message


def test_empty_budget_is_refused():
    checks = by_code(Rules(), plan(0, 0))
    assert not checks["budget_positive"].ok
    assert "must be more than zero" in checks["budget_positive"].message


def test_only_the_rules_a_call_sets_are_listed():
    assert [c.code for c in check_plan(Rules(), plan(1, 1))] == ["budget_positive", "balanced", "match"]
    full = Rules(max_grant_xof=1, max_grant_share_bps=1, min_association_share_bps=0, max_total_budget_xof=1)
    assert [c.code for c in check_plan(full, plan(1, 1))] == [
        "budget_positive", "balanced", "match", "max_grant", "max_share", "min_association_share", "max_budget",
    ]


def test_max_grant_allowed_takes_the_smallest_limit_and_is_never_negative():
    call = Rules(ratio_num=2, max_grant_xof=9_000_000, max_grant_share_bps=5000)
    assert max_grant_allowed(call, plan(5_000_000, 0, budget=20_000_000)) == 9_000_000  # max grant
    assert max_grant_allowed(call, plan(5_000_000, 0, budget=16_000_000)) == 8_000_000  # share of B
    assert max_grant_allowed(call, plan(2_000_000, 0, budget=40_000_000)) == 4_000_000  # the match
    assert max_grant_allowed(call, PlanFigures(-5, 0, 0, 0, 0, 0, 0)) == 0


def test_huge_amounts_stay_exact_no_float():
    big = 10**15 - 1  # floats lose the last franc from 2**53 ≈ 9·10^15 on; integers never
    call = Rules(ratio_num=1, ratio_den=3, max_grant_share_bps=3333, in_kind_counts_bps=3333)
    figures = plan(big, 0, in_kind=big, budget=3 * big)
    a = big + big * 3333 // 10_000
    assert eligible_association_money(call, figures) == a == 1_333_299_999_999_998
    assert max_grant_allowed(call, figures) == min(a // 3, 3 * big * 3333 // 10_000) == 444_433_333_333_332
    limit = max_grant_allowed(call, figures)
    assert by_code(call, plan(big, limit, in_kind=big))["match"].ok
    assert not by_code(call, plan(big, limit + 1, in_kind=big))["match"].ok
    assert isinstance(limit, int)


def test_rules_in_words_for_associations():
    call = Rules(max_grant_xof=20_000_000, max_grant_share_bps=7000, min_association_share_bps=2000,
                 in_kind_counts_bps=5000, max_total_budget_xof=60_000_000, contribution_deadline_days=90)
    words = rules_in_words(call)
    assert words[0] == (
        "The state gives 1 F CFA for each 1 F CFA your association brings, up to 20,000,000\u00a0F\u202fCFA "
        "and at most 70% of the total budget."
    )
    assert "Your association brings at least 20% of the total budget." in words
    assert any(w.startswith("50% of the value of contributions in kind") for w in words)
    assert "Your association pays its contribution within 90 days of the award." in words
    assert rules_in_words(Rules(ratio_num=1, ratio_den=2))[0] == (
        "The state gives 1 F CFA for each 2 F CFA your association brings."
    )
    assert "contributions in kind do not" in rules_in_words(Rules())[1]
