"""A call's funding rules applied to a financing plan (DESIGN.md rules 1–2), in whole XOF.

Pure functions of a call and plain figures: no database, no request, no float. Shares are basis points;
a limit "at most 70 % of B" is compared as ``G × 10 000 ≤ 7 000 × B`` so the boundary is exact.
The project form (live hints), submission and screening all call :func:`check_plan`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from codev.core.i18n import gettext as _
from codev.core.i18n import ngettext
from codev.core.money import (
    BPS,
    Ratio,
    eligible_money,
    format_bps,
    format_xof,
    reaches_share,
    share_ceil,
    share_floor,
    within_share,
)

RULE_CODES = (
    "budget_positive",
    "balanced",
    "match",
    "max_grant",
    "max_share",
    "min_association_share",
    "max_budget",
)


class CallRules(Protocol):
    """What the rules read from a call (a :class:`codev.calls.models.Call` or a snapshot of it)."""

    ratio_num: int
    ratio_den: int
    max_grant_xof: int | None
    max_grant_share_bps: int | None
    min_association_share_bps: int | None
    max_total_budget_xof: int | None
    in_kind_counts_bps: int


@dataclass(frozen=True)
class PlanFigures:
    """A project's budget and financing plan, everything in whole XOF."""

    total_budget: int  # B = sum of budget lines
    association_cash: int
    association_in_kind: int
    community: int
    commune: int
    other: int
    requested_grant: int  # G

    @property
    def total_financing(self) -> int:
        """All sources, the requested grant included."""
        return (
            self.association_cash
            + self.association_in_kind
            + self.community
            + self.commune
            + self.other
            + self.requested_grant
        )


@dataclass(frozen=True)
class RuleCheck:
    """One rule applied to one plan: its code, whether it is met, and what it means in words."""

    code: str
    ok: bool
    message: str


def ratio_of(call: CallRules) -> Ratio:
    return Ratio(call.ratio_num, call.ratio_den)


def ratio_factor(call: CallRules) -> str:
    """The multiplier of the match in words: "1", "2", "1/2"."""
    if call.ratio_den == 1:
        return str(call.ratio_num)
    return f"{call.ratio_num}/{call.ratio_den}"


def eligible_association_money(call: CallRules, figures: PlanFigures) -> int:
    """A = cash + the share of in-kind the call counts (rounded down to the franc)."""
    return eligible_money(figures.association_cash, figures.association_in_kind, call.in_kind_counts_bps)


def share_limit(bps: int, amount: int) -> int:
    """``bps`` basis points of ``amount``, rounded down (the most that stays within the share)."""
    return share_floor(amount, bps)


def max_grant_allowed(call: CallRules, figures: PlanFigures) -> int:
    """The largest grant the rules allow for this plan: min(ratio × A, max grant, max share × B)."""
    limits = [ratio_of(call).apply(eligible_association_money(call, figures))]
    if call.max_grant_xof is not None:
        limits.append(call.max_grant_xof)
    if call.max_grant_share_bps is not None:
        limits.append(share_limit(call.max_grant_share_bps, figures.total_budget))
    return max(0, min(limits))


def check_plan(call: CallRules, figures: PlanFigures) -> list[RuleCheck]:
    """Every rule of DESIGN.md rules 1–2 that the call sets, met or not, each with its message.

    ``budget_positive``, ``balanced`` and ``match`` are always listed; ``max_grant``, ``max_share``,
    ``min_association_share`` and ``max_budget`` only when the call sets that limit.
    """
    b, g = figures.total_budget, figures.requested_grant
    a = eligible_association_money(call, figures)
    checks = [_budget_positive(b), _balanced(figures), _match(call, a, g)]
    if call.max_grant_xof is not None:
        checks.append(_max_grant(call.max_grant_xof, g))
    if call.max_grant_share_bps is not None:
        checks.append(_max_share(call.max_grant_share_bps, b, g))
    if call.min_association_share_bps is not None:
        checks.append(_min_association_share(call, call.min_association_share_bps, b, a))
    if call.max_total_budget_xof is not None:
        checks.append(_max_budget(call.max_total_budget_xof, b))
    return checks


def plan_ok(call: CallRules, figures: PlanFigures) -> bool:
    return all(check.ok for check in check_plan(call, figures))


def failed(checks: list[RuleCheck]) -> list[RuleCheck]:
    return [check for check in checks if not check.ok]


# --- one function per rule ---------------------------------------------------------------------


def _budget_positive(b: int) -> RuleCheck:
    if b > 0:
        return RuleCheck("budget_positive", True, _("The total budget is %(b)s.", b=format_xof(b)))
    return RuleCheck("budget_positive", False, _("Add the budget lines: the total budget must be more than zero."))


def _balanced(figures: PlanFigures) -> RuleCheck:
    b, total = figures.total_budget, figures.total_financing
    if total == b:
        return RuleCheck(
            "balanced", True, _("The financing plan, %(f)s, matches the total budget.", f=format_xof(total))
        )
    if total < b:
        message = _(
            "The financing plan, %(f)s, is %(d)s short of the total budget of %(b)s.",
            f=format_xof(total), d=format_xof(b - total), b=format_xof(b),
        )
    else:
        message = _(
            "The financing plan, %(f)s, is %(d)s more than the total budget of %(b)s.",
            f=format_xof(total), d=format_xof(total - b), b=format_xof(b),
        )
    return RuleCheck("balanced", False, message)


def _match(call: CallRules, a: int, g: int) -> RuleCheck:
    allowed = ratio_of(call).apply(a)
    values = {"g": format_xof(g), "r": ratio_factor(call), "a": format_xof(a), "m": format_xof(allowed)}
    if g <= allowed:
        return RuleCheck(
            "match", True,
            _("The grant asked, %(g)s, is within %(r)s × your own contribution of %(a)s.", **values),
        )
    return RuleCheck(
        "match", False,
        _("The grant asked, %(g)s, is more than %(r)s × your own contribution of %(a)s "
          "(at most %(m)s).", **values),
    )


def _max_grant(limit: int, g: int) -> RuleCheck:
    values = {"g": format_xof(g), "m": format_xof(limit)}
    if g <= limit:
        return RuleCheck(
            "max_grant", True, _("The grant asked, %(g)s, is within the maximum grant of %(m)s.", **values)
        )
    return RuleCheck(
        "max_grant", False, _("The grant asked, %(g)s, is more than the maximum grant of %(m)s.", **values)
    )


def _max_share(bps: int, b: int, g: int) -> RuleCheck:
    values = {"g": format_xof(g), "p": format_bps(bps), "b": format_xof(b), "m": format_xof(share_limit(bps, b))}
    if within_share(g, b, bps):
        return RuleCheck(
            "max_share", True,
            _("The grant asked, %(g)s, is within %(p)s of the total budget of %(b)s.", **values),
        )
    return RuleCheck(
        "max_share", False,
        _("The grant asked, %(g)s, is more than %(p)s of the total budget of %(b)s (at most %(m)s).", **values),
    )


def _min_association_share(call: CallRules, bps: int, b: int, a: int) -> RuleCheck:
    needed = share_ceil(b, bps)  # rounded up: the least that reaches the share
    values = {"a": format_xof(a), "p": format_bps(bps), "b": format_xof(b), "n": format_xof(needed)}
    if reaches_share(a, b, bps):
        return RuleCheck(
            "min_association_share", True,
            _("Your own contribution, %(a)s, is at least %(p)s of the total budget of %(b)s.", **values),
        )
    if call.in_kind_counts_bps < BPS:
        message = _(
            "Your own contribution, %(a)s (cash, and in-kind as far as the call counts it), is less than "
            "%(p)s of the total budget of %(b)s: bring at least %(n)s.", **values,
        )
    else:
        message = _(
            "Your own contribution, %(a)s, is less than %(p)s of the total budget of %(b)s: "
            "bring at least %(n)s.", **values,
        )
    return RuleCheck("min_association_share", False, message)


def _max_budget(limit: int, b: int) -> RuleCheck:
    values = {"b": format_xof(b), "m": format_xof(limit)}
    if b <= limit:
        return RuleCheck("max_budget", True, _("The total budget, %(b)s, is within the maximum of %(m)s.", **values))
    return RuleCheck("max_budget", False, _("The total budget, %(b)s, is more than the maximum of %(m)s.", **values))



# --- the rules in plain words (public pages, the project form) ----------------------------------


def rules_in_words(call) -> list[str]:
    """The call's funding rules as sentences for associations, most important first."""
    from codev.core.money import format_number

    values = {
        "n": format_number(call.ratio_num), "d": format_number(call.ratio_den),
        "m": format_xof(call.max_grant_xof), "s": format_bps(call.max_grant_share_bps or 0),
    }
    if call.max_grant_xof is not None and call.max_grant_share_bps is not None:
        match = _("The state gives %(n)s F CFA for each %(d)s F CFA your association brings, up to %(m)s "
                  "and at most %(s)s of the total budget.", **values)
    elif call.max_grant_xof is not None:
        match = _("The state gives %(n)s F CFA for each %(d)s F CFA your association brings, up to %(m)s.",
                  **values)
    elif call.max_grant_share_bps is not None:
        match = _("The state gives %(n)s F CFA for each %(d)s F CFA your association brings, "
                  "at most %(s)s of the total budget.", **values)
    else:
        match = _("The state gives %(n)s F CFA for each %(d)s F CFA your association brings.", **values)
    sentences = [match]
    if call.min_association_share_bps:
        sentences.append(_("Your association brings at least %(p)s of the total budget.",
                           p=format_bps(call.min_association_share_bps)))
    if call.in_kind_counts_bps >= BPS:
        sentences.append(_("Contributions in kind (work, materials, land) count in full, like cash."))
    elif call.in_kind_counts_bps > 0:
        sentences.append(_("%(p)s of the value of contributions in kind (work, materials, land) counts as "
                           "your association's money.", p=format_bps(call.in_kind_counts_bps)))
    else:
        sentences.append(_("Only cash counts as your association's money; contributions in kind do not."))
    if call.max_total_budget_xof is not None:
        sentences.append(_("The total budget of a project is at most %(m)s.", m=format_xof(call.max_total_budget_xof)))
    if call.contribution_deadline_days:
        sentences.append(_("Your association pays its contribution within %(n)s days of the award.",
                           n=call.contribution_deadline_days))
    tranches = list(getattr(call, "tranches", []) or [])
    if tranches:
        parts = "; ".join(f"{format_bps(t.share_bps)} {_condition_label(t.condition).lower()}" for t in tranches)
        sentences.append(ngettext("The grant is paid in %(num)d tranche: %(parts)s.",
                                  "The grant is paid in %(num)d tranches: %(parts)s.", len(tranches), parts=parts))
    return sentences


def _condition_label(condition: str) -> str:
    from codev.calls.models import TrancheCondition

    try:
        return TrancheCondition(condition).label
    except ValueError:
        return condition

# Conversions live with the rates table; exported here too so callers need one import.
from codev.calls.rates import rate_for, to_xof  # noqa: E402,F401
