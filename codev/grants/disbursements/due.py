"""Which tranches are due now, and which grants would lapse, counted and paged in SQL.

The rules are those of :func:`codev.grants.disbursements.tranches.tranche_views` (a tranche is due when
its grant is open, it is not paid in full, every earlier tranche is, its report condition is met, and
rule 4 covers every franc up to it: ratio × V ≥ min(cumulative amount, G)) and of
:func:`codev.grants.life.lapse.should_lapse` (awarded, past the deadline, V below what the grant
requires, nothing paid or awaiting a second signature), written as SQL conditions so that the officer's
home counts them and the list pages them without loading every open grant (``tests/test_due_sql.py``
checks the two agree).

V is the eligible verified money: verified, not reversed, association cash plus the share of in-kind
the grant counts (``in_kind × bps / 10 000`` rounded down, as :func:`codev.core.money.eligible_money`).
``ratio × V ≥ x`` is compared as ``V × num ≥ x × den``: the same as ``⌊V × num / den⌋ ≥ x`` for a whole x.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, and_, case, cast, exists, func, literal, select
from sqlalchemy.orm import aliased

from codev.calls.models import TrancheCondition
from codev.core.money import eligible_money_sql
from codev.extensions import db
from codev.grants.common import OPEN_STATUSES
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
from codev.grants.totals import GrantTotals

BPS = 10_000


def _sum(column):
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


def eligible_verified():
    """V of the grant in the enclosing query: from the grant's running totals of cash and in kind verified and
    not reversed (``codev.grants.totals``, kept by the database from the ledger), one row by its key."""
    t = GrantTotals
    v = (select(eligible_money_sql(t.verified_cash_xof, t.verified_in_kind_xof, Grant.in_kind_counts_bps))
         .where(t.grant_id == Grant.id).correlate(Grant).scalar_subquery())
    return func.coalesce(v, 0)  # no row yet: nothing declared


def _paid(tranche):
    return (select(_sum(Disbursement.amount_xof))
            .where(Disbursement.grant_id == tranche.grant_id, Disbursement.tranche_number == tranche.number)
            .correlate(tranche).scalar_subquery())


def _accepted(kind: ReportKind):
    return (select(func.count(Report.id))
            .where(Report.grant_id == Grant.id, Report.kind == kind, Report.status == ReportStatus.ACCEPTED)
            .correlate(Grant).scalar_subquery())


def due_query():
    """(grant id, tranche number) of every tranche due now, in the list's order (grant, then tranche).

    A tranche due is its open grant's first tranche not paid in full (every earlier one is): the query finds
    that one tranche per grant, then checks only it — its report condition and rule 4 up to it."""
    tranche, earlier = GrantTranche, aliased(GrantTranche)
    first_unpaid = (select(func.min(earlier.number))
                    .where(earlier.grant_id == Grant.id, _paid(earlier) < earlier.amount_xof)
                    .correlate(Grant).scalar_subquery())
    up_to = and_(earlier.grant_id == tranche.grant_id, earlier.number <= tranche.number)
    cumulative = select(_sum(earlier.amount_xof)).where(up_to).correlate(tranche).scalar_subquery()
    progress_needed = (select(func.count(earlier.id))
                       .where(up_to, earlier.condition == TrancheCondition.PROGRESS_REPORT)
                       .correlate(tranche).scalar_subquery())
    needed = case((cumulative < Grant.amount_xof, cumulative), else_=Grant.amount_xof)
    condition_met = case(
        (tranche.condition == TrancheCondition.PROGRESS_REPORT, _accepted(ReportKind.PROGRESS) >= progress_needed),
        (tranche.condition == TrancheCondition.FINAL_REPORT, _accepted(ReportKind.FINAL) > 0),
        else_=literal(True),
    )
    return (
        select(tranche.grant_id, tranche.number)
        .select_from(Grant)
        .join(tranche, and_(tranche.grant_id == Grant.id, tranche.number == first_unpaid))
        .where(Grant.status.in_(OPEN_STATUSES), condition_met,
               eligible_verified() * Grant.ratio_num >= needed * Grant.ratio_den)
        .order_by(tranche.grant_id, tranche.number)
    )


def due_page(number: int, per_page: int) -> list[tuple[int, int]]:
    """(grant id, tranche number) of page ``number`` of the due tranches, paged in SQL."""
    return [tuple(row) for row in db.session.execute(due_query().limit(per_page).offset((number - 1) * per_page))]


def count_due() -> int:
    """How many tranches are due now (the officer's home card), in one query."""
    return db.session.scalar(select(func.count()).select_from(due_query().order_by(None).subquery())) or 0


def lapsable_condition(today: date):
    """Awarded, past the deadline, V below what is required, nothing paid and no signature awaited."""
    return and_(
        Grant.status == GrantStatus.AWARDED, Grant.contribution_deadline < today,
        eligible_verified() < Grant.required_association_xof,
        ~exists().where(Disbursement.grant_id == Grant.id),
        ~exists().where(DisbursementRequest.grant_id == Grant.id,
                        DisbursementRequest.status == RequestStatus.PENDING),
    )


def count_lapsable(today: date) -> int:
    """How many awarded grants would lapse on ``today``, in one query."""
    return db.session.scalar(select(func.count(Grant.id)).where(lapsable_condition(today))) or 0
