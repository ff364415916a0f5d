"""What waits too long, for the ministry's dashboard: declarations not yet answered, reports not yet
read, and grants past their contribution deadline whose match is not all verified, with the association
money they still wait for. One statement of scalar subqueries, narrowed by call, region and sector (what is
late is late whatever the year), measured against the clock (so :mod:`codev.oversight.cache` never keeps
it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, case, exists, func, select, true
from sqlalchemy.orm import aliased

from codev.core.money import eligible_money_sql
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.models import ContributionEntry, EntryKind, Grant, GrantStatus, Report, ReportStatus
from codev.oversight.queries import Filters, filter_register, total
from codev.projects.models import FundingSource, Project

# A declaration or a report waiting longer than this for an officer is overdue.
OVERDUE_DAYS = 14


@dataclass(frozen=True)
class Overdue:
    declarations: int  # waiting for an officer
    declarations_late: int  # of which for more than OVERDUE_DAYS
    reports: int  # waiting to be read
    reports_late: int
    grants_past_deadline: int  # awarded, deadline passed, the match not all verified (they lapse)
    missing_xof: int  # the association money those grants still wait for


# The ledger's aliases of the overdue counts, made once: building an alias of a wide table again for each
# page costs more than the statement it serves (SQLAlchemy adapts every column on first use).
_WAITING = aliased(ContributionEntry, name="waiting")
_VERIFIED = aliased(ContributionEntry, name="verified_entry")
_ANSWER = aliased(ContributionEntry, name="answer")
_REVERSAL = aliased(ContributionEntry, name="reversal")


def _eligible_verified(grant_ids: Select) -> Any:
    """Subquery: grant_id, cash and in-kind verified and not reversed, for the grants ``grant_ids`` selects
    (eligible money V is computed from it). Each declaration of those grants is looked up in the ledger
    by its index on ``refers_to_id`` (the few late grants' entries, not the whole ledger)."""
    declared = _VERIFIED
    cash = case((declared.source == FundingSource.ASSOCIATION_CASH.value, declared.amount_xof), else_=0)
    in_kind = case((declared.source == FundingSource.ASSOCIATION_IN_KIND.value, declared.amount_xof), else_=0)
    return (select(declared.grant_id, total(cash).label("cash"), total(in_kind).label("in_kind"))
            .where(declared.kind == EntryKind.DECLARED, declared.grant_id.in_(grant_ids),
                   exists().where(_ANSWER.refers_to_id == declared.id, _ANSWER.kind == EntryKind.VERIFIED),
                   ~exists().where(_REVERSAL.refers_to_id == declared.id, _REVERSAL.kind == EntryKind.REVERSAL))
            .group_by(declared.grant_id).subquery("eligible_verified"))


def counts(filters: Filters, today: date | None = None) -> Overdue:
    """What waits too long, in one statement of scalar subqueries."""
    today = today or utcnow().date()
    late = utcnow() - timedelta(days=OVERDUE_DAYS)
    place = Filters(call_id=filters.call_id, region=filters.region, sector=filters.sector)

    def grants_in_view(stmt: Select) -> Select:
        if place.region or place.sector:  # the project is joined only when a filter reads it
            stmt = stmt.join(Project, Project.id == Grant.project_id)
        return filter_register(stmt, place)

    # A declaration waits while no entry of the ledger answers it (verified, rejected, reversed).
    entry = _WAITING
    declarations = (select(func.count(entry.id), total(case((entry.created_at < late, 1), else_=0)))
                    .select_from(entry).join(Grant, Grant.id == entry.grant_id)
                    .where(entry.kind == EntryKind.DECLARED, ~exists().where(_ANSWER.refers_to_id == entry.id)))
    reports = (select(func.count(Report.id), total(case((Report.submitted_at < late, 1), else_=0)))
               .join(Grant, Grant.id == Report.grant_id).where(Report.status == ReportStatus.SUBMITTED))
    late_grants = select(Grant.id).where(Grant.status == GrantStatus.AWARDED, Grant.contribution_deadline < today)
    v = _eligible_verified(late_grants)
    # V = cash + ⌊in kind × the share that counts⌋ (codev.core.money.eligible_money), in SQL.
    eligible = eligible_money_sql(func.coalesce(v.c.cash, 0), func.coalesce(v.c.in_kind, 0), Grant.in_kind_counts_bps)
    missing = Grant.required_association_xof - eligible
    past = (select(func.count(Grant.id), total(missing)).select_from(Grant).outerjoin(v, v.c.grant_id == Grant.id)
            .where(Grant.status == GrantStatus.AWARDED, Grant.contribution_deadline < today, missing > 0))
    d = grants_in_view(declarations).subquery("d")
    r = grants_in_view(reports).subquery("r")
    g = grants_in_view(past).subquery("g")
    # Three one-row subqueries side by side: one statement.
    row = db.session.execute(select(*d.c, *r.c, *g.c).select_from(d).join(r, true()).join(g, true())).one()
    return Overdue(*(int(x or 0) for x in row))
