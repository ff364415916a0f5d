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

from sqlalchemy import BigInteger, and_, case, cast, exists, func, literal, or_, select
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


def _tranches_at_stake():
    """Each open grant's first tranche not paid in full, with what the rules read of it: (grant id, number,
    condition, cumulative amount up to it, progress reports needed up to it).

    The same rows in two shapes, each the faster on its database: PostgreSQL sums the payments once, grouped,
    and reads the rest along each grant's tranches with window functions; SQLite, whose window functions are
    slow, looks up each grant's first unpaid tranche along the unique index of (grant, number)."""
    tranche, earlier = GrantTranche, aliased(GrantTranche)
    progress = case((tranche.condition == TrancheCondition.PROGRESS_REPORT, 1), else_=0)
    if db.session.get_bind().dialect.name == "postgresql":
        paid = (select(Disbursement.grant_id, Disbursement.tranche_number, _sum(Disbursement.amount_xof).label("paid"))
                .join(Grant, Grant.id == Disbursement.grant_id).where(Grant.status.in_(OPEN_STATUSES))
                .group_by(Disbursement.grant_id, Disbursement.tranche_number).subquery())
        along = {"partition_by": tranche.grant_id, "order_by": tranche.number}
        unpaid = case((func.coalesce(paid.c.paid, 0) < tranche.amount_xof, tranche.number))
        rows = (
            select(tranche.grant_id, tranche.number, tranche.condition,
                   cast(func.sum(tranche.amount_xof).over(**along), BigInteger).label("cumulative"),
                   func.sum(progress).over(**along).label("progress_needed"),
                   func.min(unpaid).over(partition_by=tranche.grant_id).label("first_unpaid"))
            .join(Grant, Grant.id == tranche.grant_id)
            .outerjoin(paid, and_(paid.c.grant_id == tranche.grant_id, paid.c.tranche_number == tranche.number))
            .where(Grant.status.in_(OPEN_STATUSES))
            .subquery()
        )
        return (select(rows.c.grant_id, rows.c.number, rows.c.condition, rows.c.cumulative, rows.c.progress_needed)
                .where(rows.c.number == rows.c.first_unpaid).subquery("at_stake"))
    first_unpaid = (select(func.min(earlier.number))
                    .where(earlier.grant_id == Grant.id, _paid(earlier) < earlier.amount_xof)
                    .correlate(Grant).scalar_subquery())
    up_to = and_(earlier.grant_id == tranche.grant_id, earlier.number <= tranche.number)
    cumulative = select(_sum(earlier.amount_xof)).where(up_to).correlate(tranche).scalar_subquery()
    progress_needed = (select(func.count(earlier.id))
                       .where(up_to, earlier.condition == TrancheCondition.PROGRESS_REPORT)
                       .correlate(tranche).scalar_subquery())
    return (select(tranche.grant_id, tranche.number, tranche.condition, cumulative.label("cumulative"),
                   progress_needed.label("progress_needed"))
            .select_from(Grant)
            .join(tranche, and_(tranche.grant_id == Grant.id, tranche.number == first_unpaid))
            .where(Grant.status.in_(OPEN_STATUSES))
            .subquery("at_stake"))


def due_query():
    """(grant id, tranche number) of every tranche due now, in the list's order (grant, then tranche).

    A tranche due is its open grant's first tranche not paid in full (every earlier one is): the query finds
    that one tranche per grant, then checks only it — its report condition and rule 4 up to it:
    ``ratio × V ≥ min(cumulative, G)``, written as two comparisons so that a grant whose V covers all of G
    needs no more."""
    t = _tranches_at_stake()
    condition_met = case(
        (t.c.condition == TrancheCondition.PROGRESS_REPORT, _accepted(ReportKind.PROGRESS) >= t.c.progress_needed),
        (t.c.condition == TrancheCondition.FINAL_REPORT, _accepted(ReportKind.FINAL) > 0),
        else_=literal(True),
    )
    covered = eligible_verified() * Grant.ratio_num
    return (
        select(t.c.grant_id, t.c.number)
        .join(Grant, Grant.id == t.c.grant_id)
        .where(condition_met, or_(covered >= Grant.amount_xof * Grant.ratio_den,
                                  covered >= t.c.cumulative * Grant.ratio_den))
        .order_by(t.c.grant_id, t.c.number)
    )


def due_page(number: int, per_page: int) -> tuple[list[tuple[int, int]], int, int]:
    """(grant id, tranche number) of page ``number`` of the due tranches, how many are due and the page's
    number, paged in SQL in one statement whatever the page asked: the count rides on each row, and a page
    past the end gives the last one (the rows are numbered in the list's order and the window of the page
    is moved back to the last one's start by the database, so the tranches due are worked out once)."""
    due = due_query()
    listed = due.order_by(None).add_columns(
        func.count().over().label("total"),
        func.row_number().over(order_by=list(due._order_by_clauses)).label("position"),
    ).subquery()
    last_start = (listed.c.total - 1) // per_page * per_page  # floor division, as SQLAlchemy writes it for each
    asked = (number - 1) * per_page
    start = case((last_start < asked, last_start), else_=asked)
    rows = db.session.execute(
        select(listed.c.grant_id, listed.c.number, listed.c.total, listed.c.position)
        .where(listed.c.position > start, listed.c.position <= start + per_page)
        .order_by(listed.c.position)
    ).all()
    if not rows:  # nothing due at all
        return [], 0, number
    return [(row.grant_id, row.number) for row in rows], rows[0].total, (rows[0].position - 1) // per_page + 1


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
