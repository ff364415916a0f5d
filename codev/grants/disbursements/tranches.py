"""Tranches and disbursements: what is due, why the rest is not, and recording money paid out.

Rule 4 (DESIGN.md) always holds: disbursed so far D never exceeds min(G, ratio × V). Each tranche also
has its own condition (award, contribution verified, progress report accepted, final report accepted)
and tranches are paid in order. :func:`money_facts` reads the figures of many grants in a fixed number
of queries; :func:`tranche_views` and :func:`disbursement_refusal` are pure functions of those figures,
so the pages, the services and the tests read the same rules.

A disbursement that brings what is paid on its tranche, or on the grant within a period, above
``FOUR_EYES_THRESHOLD_XOF`` is first a request that another person, an approver, signs (four eyes; the
rule is :func:`codev.grants.disbursements.payments.four_eyes`). Every form carries an idempotency key: a form
sent twice records once, and the second answer says it is already recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, cast, func, select

from codev.calls.models import TrancheCondition
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.money import Ratio, disbursable, format_xof
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.common import OPEN_STATUSES, LedgerError, mail_members
from codev.grants.ledger.entries import sums_of, verified_by_source
from codev.grants.models import (
    Disbursement,
    DisbursementRequest,
    Grant,
    GrantStatus,
    GrantTranche,
    Report,
    ReportKind,
    ReportStatus,
    RequestStatus,
)
from codev.grants.workflows import GRANT
from codev.projects.models import ProjectStatus
from codev.projects.workflow import PROJECT

DEFAULT_FOUR_EYES_THRESHOLD_XOF = 10_000_000

class DisbursementRefused(LedgerError):
    """A disbursement (or a request, or its approval) that the rules refuse; the message says why."""


class TrancheState(StrEnum):
    PAID = "paid"
    DUE = "due"
    NOT_DUE = "not_due"

    @property
    def label(self) -> str:
        return str(TRANCHE_STATE_LABELS[self])


TRANCHE_STATE_LABELS = {
    TrancheState.PAID: _l("Paid in full"),
    TrancheState.DUE: _l("Due now"),
    TrancheState.NOT_DUE: _l("Not yet due"),
}


# --- the figures ------------------------------------------------------------------------------


@dataclass
class MoneyFacts:
    """Everything the rules read about one grant's money, whole XOF."""

    grant_amount: int  # G
    ratio: Ratio
    status: str
    v: int  # eligible verified association money
    verified_cash: int = 0
    verified_in_kind: int = 0
    verified_other: int = 0
    paid_by_tranche: dict[int, int] = field(default_factory=dict)
    pending_by_tranche: dict[int, int] = field(default_factory=dict)  # requests awaiting a second signature
    accepted_progress: int = 0
    accepted_final: bool = False

    @property
    def d(self) -> int:
        """D: disbursed so far."""
        return sum(self.paid_by_tranche.values())

    @property
    def pending(self) -> int:
        return sum(self.pending_by_tranche.values())

    @property
    def limit(self) -> int:
        """min(G, ratio × V): the most rule 4 lets be disbursed in all, right now."""
        return disbursable(self.grant_amount, self.ratio, self.v)


def money_facts(grants: Iterable[Grant]) -> dict[int, MoneyFacts]:
    """The figures of each grant in four queries, however many grants and entries there are."""
    grants = list(grants)
    ids = [g.id for g in grants]
    sources = verified_by_source(ids)
    facts = {}
    for grant in grants:
        sums = sums_of(sources[grant.id], grant.in_kind_counts_bps)
        facts[grant.id] = MoneyFacts(
            grant_amount=grant.amount_xof, ratio=grant.ratio, status=str(grant.status), v=sums.eligible,
            verified_cash=sums.cash, verified_in_kind=sums.in_kind, verified_other=sums.other,
        )
    if not ids:
        return facts
    for grant_id, number, total in db.session.execute(
        select(Disbursement.grant_id, Disbursement.tranche_number, cast(func.sum(Disbursement.amount_xof), BigInteger))
        .where(Disbursement.grant_id.in_(ids)).group_by(Disbursement.grant_id, Disbursement.tranche_number)
    ):
        facts[grant_id].paid_by_tranche[number] = int(total)
    for grant_id, number, total in db.session.execute(
        select(DisbursementRequest.grant_id, DisbursementRequest.tranche_number,
               cast(func.sum(DisbursementRequest.amount_xof), BigInteger))
        .where(DisbursementRequest.grant_id.in_(ids), DisbursementRequest.status == RequestStatus.PENDING)
        .group_by(DisbursementRequest.grant_id, DisbursementRequest.tranche_number)
    ):
        facts[grant_id].pending_by_tranche[number] = int(total)
    for grant_id, kind, count in db.session.execute(
        select(Report.grant_id, Report.kind, func.count(Report.id))
        .where(Report.grant_id.in_(ids), Report.status == ReportStatus.ACCEPTED)
        .group_by(Report.grant_id, Report.kind)
    ):
        if kind == ReportKind.FINAL:
            facts[grant_id].accepted_final = count > 0
        else:
            facts[grant_id].accepted_progress = count
    return facts


# --- tranche states, in words -------------------------------------------------------------------


@dataclass(frozen=True)
class TrancheView:
    number: int
    share_bps: int
    amount_xof: int
    condition: str
    paid_xof: int
    pending_xof: int
    state: TrancheState
    reasons: list[str]  # why it is not due yet (empty otherwise)
    payable_xof: int  # what could be recorded on it right now (0 unless due or partly payable)

    @property
    def condition_label(self) -> str:
        try:
            return TrancheCondition(self.condition).label
        except ValueError:
            return self.condition


def _status_reason(status: str) -> str | None:
    if status == GrantStatus.LAPSED:
        return _("the grant has lapsed")
    if status == GrantStatus.CANCELLED:
        return _("the grant is cancelled")
    if status == GrantStatus.COMPLETED:
        return _("the grant is completed")
    return None


def _condition_reason(tranche: GrantTranche, facts: MoneyFacts, progress_needed: int) -> str | None:
    if tranche.condition == TrancheCondition.PROGRESS_REPORT and facts.accepted_progress < progress_needed:
        return _("the progress report is not accepted yet")
    if tranche.condition == TrancheCondition.FINAL_REPORT and not facts.accepted_final:
        return _("the final report is not accepted yet")
    return None


def contribution_reason(facts: MoneyFacts, needed: int, *, member: bool) -> str | None:
    """Rule 4 in words when ratio × V does not cover ``needed`` francs disbursed in all."""
    needed = min(needed, facts.grant_amount)
    if facts.ratio.apply(facts.v) >= needed:
        return None
    required = facts.ratio.required_for(needed)
    if member:
        return _("your contribution is not verified enough yet: %(verified)s verified of %(required)s required",
                 verified=format_xof(facts.v), required=format_xof(required))
    return _("the association's contribution is not verified enough yet: %(verified)s verified of "
             "%(required)s required", verified=format_xof(facts.v), required=format_xof(required))


def tranche_views(grant: Grant, facts: MoneyFacts, *, member: bool = False) -> list[TrancheView]:
    """Each tranche's state and, when not yet due, exactly what it waits for."""
    views = []
    cumulative = 0
    previous_paid = True
    progress_seen = 0
    for tranche in grant.tranches:
        cumulative += tranche.amount_xof
        if tranche.condition == TrancheCondition.PROGRESS_REPORT:
            progress_seen += 1
        paid = facts.paid_by_tranche.get(tranche.number, 0)
        pending = facts.pending_by_tranche.get(tranche.number, 0)
        reasons: list[str] = []
        payable = 0
        if paid >= tranche.amount_xof:
            state = TrancheState.PAID
        else:
            reasons = [r for r in (
                _status_reason(str(grant.status)),
                None if previous_paid else _("the previous tranche is not paid"),
                _condition_reason(tranche, facts, progress_seen),
                contribution_reason(facts, cumulative, member=member),
            ) if r]
            state = TrancheState.NOT_DUE if reasons else TrancheState.DUE
            if not _blocked_otherwise(grant, previous_paid, tranche, facts, progress_seen):
                # Rule 4 may leave room for part of the tranche before all of it is covered.
                payable = max(0, min(tranche.amount_xof - paid - pending, facts.limit - facts.d - facts.pending))
        views.append(TrancheView(tranche.number, tranche.share_bps, tranche.amount_xof, str(tranche.condition),
                                 paid, pending, state, reasons, payable))
        previous_paid = paid >= tranche.amount_xof
    return views


def _blocked_otherwise(grant: Grant, previous_paid: bool, tranche: GrantTranche, facts: MoneyFacts,
                       progress_needed: int) -> bool:
    """Not payable at all for a reason other than rule 4's room (status, order, report)."""
    return (grant.status not in OPEN_STATUSES or not previous_paid
            or _condition_reason(tranche, facts, progress_needed) is not None)


def disbursement_refusal(grant: Grant, facts: MoneyFacts, tranche_number: int, amount: int) -> str | None:
    """Why recording ``amount`` on tranche ``tranche_number`` now would break a rule (None when it would not)."""
    status = _status_reason(str(grant.status))
    if status is not None or grant.status not in OPEN_STATUSES:
        return _("Nothing more can be disbursed: %(reason)s.", reason=status or str(grant.status))
    tranches = list(grant.tranches)
    tranche = next((t for t in tranches if t.number == tranche_number), None)
    if tranche is None:
        return _("This grant has no tranche %(n)s.", n=tranche_number)
    if amount <= 0:
        return _("The amount must be greater than zero.")
    earlier = [t for t in tranches if t.number < tranche.number]
    if any(facts.paid_by_tranche.get(t.number, 0) < t.amount_xof for t in earlier):
        return _("Tranche %(n)s is not due yet: %(reason)s.", n=tranche.number,
                 reason=_("the previous tranche is not paid"))
    progress_needed = sum(1 for t in tranches if t.number <= tranche.number
                          and t.condition == TrancheCondition.PROGRESS_REPORT)
    condition = _condition_reason(tranche, facts, progress_needed)
    if condition:
        return _("Tranche %(n)s is not due yet: %(reason)s.", n=tranche.number, reason=condition)
    paid = facts.paid_by_tranche.get(tranche.number, 0)
    pending = facts.pending_by_tranche.get(tranche.number, 0)
    remaining = tranche.amount_xof - paid - pending
    if amount > remaining:
        if pending:
            return _("This exceeds tranche %(n)s: %(remaining)s remain to be paid on it (%(pending)s await a "
                     "second signature).", n=tranche.number, remaining=format_xof(max(0, remaining)),
                     pending=format_xof(pending))
        return _("This exceeds tranche %(n)s: %(remaining)s remain to be paid on it.", n=tranche.number,
                 remaining=format_xof(max(0, remaining)))
    committed = facts.d + facts.pending
    if committed + amount > facts.limit:
        return _("This would break the match: with %(verified)s of the association's money verified, at most "
                 "%(limit)s can be disbursed in all, and %(committed)s already is (or awaits a second signature).",
                 verified=format_xof(facts.v), limit=format_xof(facts.limit), committed=format_xof(committed))
    return None


# --- the grant's status -----------------------------------------------------------------------
# The grant moves only through the one engine (:data:`codev.grants.workflows.GRANT`): awarded → active at
# the first disbursement (:mod:`codev.grants.disbursements.payments`), active → completed here, awarded →
# lapsed (:mod:`codev.grants.life.lapse`), awarded | active → cancelled (:mod:`codev.grants.life.cancellation`).


def maybe_complete(grant: Grant, user: Any) -> bool:
    """Complete the grant (and its project) once the final report is accepted and every tranche is paid."""
    if grant.status != GrantStatus.ACTIVE:
        return False
    facts = money_facts([grant])[grant.id]
    if not facts.accepted_final or not grant.tranches:
        return False
    if any(facts.paid_by_tranche.get(t.number, 0) < t.amount_xof for t in grant.tranches):
        return False
    grant.completed_at = utcnow()
    GRANT.fire(grant, GrantStatus.COMPLETED, user, audit_after={"disbursed_xof": facts.d})
    project = grant.project
    if project.status == ProjectStatus.FUNDED:
        PROJECT.fire(project, ProjectStatus.COMPLETED, user,
                     _("The final report is accepted and every tranche of the grant is paid."))
    db.session.flush()
    mail_members(grant, "disbursement_completed")
    return True
