"""The ministry's dashboard, aggregated by the database: the funnel, the envelopes, the money mobilised,
the breakdowns, the months (what is overdue is :mod:`codev.oversight.overdue`'s).

Every figure comes from SQL (GROUP BY, SUM, COUNT), in a number of statements that does not grow with the
programme: the projects in view are read once and grouped five ways (the funnel, and region, prefecture,
sector, country), the grants with their money once and grouped five ways (overall and the same four), each
in one statement (UNION ALL over a common table expression). The money's definitions and subqueries are
:mod:`codev.oversight.queries`' own, so the register shows the same figures.

What the filters narrow (call, region, sector, year):

- **projects** (the funnel, the projects of the breakdowns): the project's call, region and sector; the
  year it was submitted (a draft: the year it was started);
- **money** (committed, paid, diaspora money): the grants of those projects, the year the grant was
  approved (as on the register);
- **envelopes**: the call filter, and the year the call opened; an envelope is a call's whole, so the
  region and sector filters do not divide it;
- **months**: approvals by the month of approval, payments by their value date; the months of the year
  chosen, else the last twelve;
- **overdue**: call, region and sector (what is late is late whatever the year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Select,
    String,
    case,
    cast,
    distinct,
    func,
    literal,
    null,
    select,
    union_all,
)

from codev.accounts.models import Association, AssociationStatus
from codev.calls.models import Call, CallStatus
from codev.core.money import share_bps
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.models import Disbursement, Grant, GrantStatus
from codev.grants.totals import GrantTotals
from codev.oversight.queries import (
    Figures,
    Filters,
    committed,
    filter_register,
    paid,
    total,
    verified,
    with_totals,
    year_bounds,
)
from codev.projects.models import Project, ProjectStatus

# The funnel: each stage counts the projects whose status shows they reached it.
_PAST_SCREENING = ("in_review", "qualified", "not_qualified", "approved", "rejected", "deferred", "funded",
                   "completed", "closed", "lapsed")
_QUALIFIED = ("qualified", "approved", "rejected", "deferred", "funded", "completed", "closed", "lapsed")
_APPROVED = ("approved", "funded", "completed", "closed", "lapsed")
_FUNDED = ("funded", "completed", "closed", "lapsed")
FUNNEL = (
    ("started", tuple(s.value for s in ProjectStatus)),
    ("submitted", tuple(s.value for s in ProjectStatus if s != ProjectStatus.DRAFT)),
    ("screened", _PAST_SCREENING),
    ("qualified", _QUALIFIED),
    ("approved", _APPROVED),
    ("funded", _FUNDED),
    ("completed", ("completed", "closed/completed")),
)

DIMENSIONS = ("region", "prefecture", "sector", "country")
_PROJECT_KEYS = {"region": Project.region, "prefecture": Project.prefecture, "sector": Project.sector,
                 "country": Association.country}


def _project_year() -> Any:
    return func.coalesce(Project.submitted_at, Project.created_at)


def filter_projects(stmt: Select, filters: Filters, *, with_year: bool = True) -> Select:
    """Narrow a statement over projects (joined to their association) to the dashboard's filters."""
    if filters.call_id:
        stmt = stmt.where(Project.call_id == filters.call_id)
    if filters.region:
        stmt = stmt.where(Project.region == filters.region)
    if filters.sector:
        stmt = stmt.where(Project.sector == filters.sector)
    if filters.year and with_year:
        start, end = year_bounds(filters.year)
        stmt = stmt.where(_project_year() >= start, _project_year() < end)
    return stmt


def _money_filters(filters: Filters) -> Filters:
    """The register's filters of the same choice (its year is the year of approval)."""
    return Filters(call_id=filters.call_id, region=filters.region, sector=filters.sector, year=filters.year)


# --- the funnel -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    code: str
    count: int


def project_counts(filters: Filters) -> tuple[dict[str, int], dict[str, dict[Any, int]]]:
    """Projects by status (the funnel) and submitted projects by each dimension, in one statement.

    Over the whole programme (or a call), each grouping is a GROUP BY of its own (UNION ALL): the projects'
    indexes of (dimension, status) hold them in the grouping's order, so the database counts along an index
    without a sort (at 50 000 projects, 15 ms for the five on SQLite, against 57 ms for one pass kept in a
    common table expression and grouped five times). Narrowed by region, sector or year, the projects in
    view are read once and grouped five times instead: there, five statements would each look up every row
    the filter selects. The country is the association's: the projects are counted per association first,
    then the few associations' counts summed per country. A closed project counts as ``closed/completed``
    when its grant completed (a small part of its own: the closed projects' grants).
    """
    narrowed = bool(filters.region or filters.sector or filters.year)
    parts = _groups_of_the_rows(filters) if narrowed else _groups_along_indexes(filters)
    parts.append(filter_projects(
        select(literal("status"), literal("closed/completed"), func.count()).select_from(Grant)
        .join(Project, Project.id == Grant.project_id)
        .where(Project.status == ProjectStatus.CLOSED, Grant.status == GrantStatus.COMPLETED), filters))
    counts: dict[str, int] = {}
    by: dict[str, dict[Any, int]] = {name: {} for name in DIMENSIONS}
    for dimension, key, n in db.session.execute(union_all(*parts)):
        if dimension == "status":
            counts[key] = int(n)
        else:
            by[dimension][key] = int(n)
    # The closed projects whose grant completed were counted as closed too: they move to their own stage.
    done = counts.pop("closed/completed", 0)
    if done:
        counts["closed"] -= done
        counts["closed/completed"] = done
        if not counts["closed"]:
            del counts["closed"]
    return counts, by


def _by_country(per_association: Any, n: Any) -> Select:
    """Σ ``n`` of the rows of ``per_association`` (one per association) by the association's country."""
    return (select(literal("country"), cast(Association.country, String), total(n)).select_from(per_association)
            .join(Association, Association.id == per_association.c.association_id).group_by(Association.country))


def _groups_along_indexes(filters: Filters) -> list[Select]:
    """(dimension, key, n) of the projects in view, each a GROUP BY of its own along its (dimension, status)
    index, the whole table or a call's range of it."""
    by_status = _counted(Project.status, filters, submitted_only=False).subquery("by_status")
    parts = [select(literal("status").label("dimension"), cast(by_status.c.status, String).label("key"),
                    by_status.c.n)]
    for name in ("region", "prefecture", "sector"):
        counted = _counted(getattr(Project, name), filters).subquery(name)
        parts.append(select(literal(name), cast(counted.c[name], String), counted.c.n))
    per_association = _counted(Project.association_id, filters).subquery("per_association")
    return [*parts, _by_country(per_association, per_association.c.n)]


def _groups_of_the_rows(filters: Filters) -> list[Select]:
    """The same from the projects the filters select, read once (a common table expression of five narrow
    columns, which the databases materialise since it is used five times) and grouped five times."""
    rows = filter_projects(select(Project.status, Project.region, Project.prefecture, Project.sector,
                                  Project.association_id), filters).cte("projects_in_view")
    submitted = rows.c.status != ProjectStatus.DRAFT.value
    parts = [select(literal("status").label("dimension"), cast(rows.c.status, String).label("key"),
                    func.count().label("n")).group_by(rows.c.status)]
    parts += [select(literal(name), cast(rows.c[name], String), func.count()).where(submitted)
              .group_by(rows.c[name]) for name in ("region", "prefecture", "sector")]
    per_association = (select(rows.c.association_id, func.count().label("n")).where(submitted)
                       .group_by(rows.c.association_id).subquery("per_association"))
    return [*parts, _by_country(per_association, per_association.c.n)]


def _counted(key: Any, filters: Filters, *, submitted_only: bool = True) -> Select:
    """(key, n): the projects in view counted by ``key``, the drafts left out unless told otherwise."""
    stmt = select(key, func.count().label("n")).select_from(Project)
    if submitted_only:
        stmt = stmt.where(Project.status != ProjectStatus.DRAFT.value)
    return filter_projects(stmt, filters).group_by(key)


def funnel(counts: dict[str, int]) -> list[Stage]:
    """The stages of the funnel from the counts by status (a handful of groups, not rows)."""
    def reached(statuses: tuple[str, ...]) -> int:
        wanted = set(statuses)
        if "closed" in wanted:
            wanted.add("closed/completed")
        return sum(n for status, n in counts.items() if status in wanted)

    return [Stage(code, reached(statuses)) for code, statuses in FUNNEL]


def by_status(counts: dict[str, int]) -> list[tuple[str, int]]:
    """(status, count) in the workflow's order, closed projects together, for the funnel's table."""
    merged = dict(counts)
    if "closed/completed" in merged:
        merged["closed"] = merged.get("closed", 0) + merged.pop("closed/completed")
    return [(s.value, merged[s.value]) for s in ProjectStatus if merged.get(s.value)]


# --- envelopes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    call_id: int | None
    title: str
    title_en: str | None
    envelope_xof: int
    committed_xof: int
    paid_xof: int

    @property
    def remaining_xof(self) -> int:
        return self.envelope_xof - self.committed_xof


def _calls_in_view(stmt: Select, filters: Filters) -> Select:
    stmt = stmt.where(Call.status != CallStatus.DRAFT)
    if filters.call_id:
        stmt = stmt.where(Call.id == filters.call_id)
    if filters.year:
        start, end = year_bounds(filters.year)
        stmt = stmt.where(Call.opens_at >= start, Call.opens_at < end)
    return stmt


def _paid_by_call() -> Any:
    return (with_totals(select(Grant.call_id, total(paid()).label("paid")).select_from(Grant))
            .group_by(Grant.call_id).subquery("paid_by_call"))


def envelopes(filters: Filters) -> tuple[list[Envelope], Envelope]:
    """Each call's envelope, committed (what the envelope's guard holds), paid; and their total (2 statements)."""
    paid = _paid_by_call()
    stmt = (select(Call.id, Call.title, Call.title_en, Call.envelope_xof, Call.committed_xof,
                   func.coalesce(paid.c.paid, 0))
            .outerjoin(paid, paid.c.call_id == Call.id).order_by(Call.id.desc()))
    rows = [Envelope(i, t, te, int(e), int(c), int(p))
            for i, t, te, e, c, p in db.session.execute(_calls_in_view(stmt, filters))]
    sums = (select(total(Call.envelope_xof), total(Call.committed_xof), total(func.coalesce(paid.c.paid, 0)))
            .outerjoin(paid, paid.c.call_id == Call.id))
    e, c, p = db.session.execute(_calls_in_view(sums, filters)).one()
    return rows, Envelope(None, "", None, int(e), int(c), int(p))


# --- money mobilised ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    """The money of the grants in view: the register's figures and what the associations declared."""

    figures: Figures
    declared_xof: int  # diaspora declarations not rejected nor reversed (verified or waiting)
    pending_xof: int  # of which waiting for an officer

    @property
    def per_committed_bps(self) -> int | None:
        """Diaspora money verified per franc of state money committed, in basis points (10 000 = 1 F)."""
        f = self.figures
        return share_bps(f.diaspora_xof, f.committed_xof) if f.committed_xof > 0 else None

    @property
    def per_paid_bps(self) -> int | None:
        """Diaspora money verified per franc of state money paid, in basis points."""
        f = self.figures
        return share_bps(f.diaspora_xof, f.paid_xof) if f.paid_xof > 0 else None


# --- breakdowns -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    key: Any
    projects: int  # submitted (drafts left out)
    figures: Figures


def money_groups(filters: Filters) -> tuple[Money, dict[str, dict[Any, Figures]]]:
    """The register's figures (:class:`~codev.oversight.queries.Figures`) overall and by each dimension, in
    one statement: each grant in view is read once (a common table expression), then grouped five ways
    (UNION ALL). Its money is the grant's running totals (``codev.grants.totals``): no statement reads the
    ledger or the payments. The definitions are the register's: the same sums as
    :func:`~codev.oversight.queries.programme_figures` and :func:`~codev.oversight.queries.figures_by`."""
    funded = Grant.status.notin_((GrantStatus.CANCELLED, GrantStatus.LAPSED))
    grants = (select(Grant.id.label("grant_id"), case((funded, 1), else_=0).label("funded"),
                     committed().label("committed"), paid().label("paid"), verified().label("verified"),
                     Project.commune.label("commune"),
                     func.coalesce(GrantTotals.diaspora_declared_xof, 0).label("declared"),
                     func.coalesce(GrantTotals.diaspora_pending_xof, 0).label("pending"),
                     *(key.label(name) for name, key in _PROJECT_KEYS.items()))
              .select_from(Grant).join(Project, Project.id == Grant.project_id)
              .join(Association, Association.id == Project.association_id))
    grants = with_totals(grants)
    g = filter_register(grants, _money_filters(filters)).cte("grants_in_view")
    sums = [func.count(g.c.grant_id), total(g.c.funded), total(g.c.committed), total(g.c.paid), total(g.c.verified),
            func.count(distinct(case((g.c.funded == 1, g.c.commune)))), total(g.c.declared), total(g.c.pending)]
    parts = [select(literal("all").label("dimension"), cast(null(), String).label("key"), *sums)]
    parts += [select(literal(name), cast(g.c[name], String), *sums).group_by(g.c[name]) for name in DIMENSIONS]
    overall = Money(Figures(), 0, 0)
    by: dict[str, dict[Any, Figures]] = {name: {} for name in DIMENSIONS}
    for dimension, key, *values in db.session.execute(union_all(*parts)):
        numbers = [int(v or 0) for v in values]
        figures = Figures(*numbers[:6])
        if dimension == "all":
            overall = Money(figures, numbers[6], numbers[7])
        else:
            by[dimension][key] = figures
    return overall, by


@dataclass(frozen=True)
class Overview:
    """What the dashboard reads about projects and money."""

    counts: dict[str, int]  # projects by status
    groups: dict[str, list[Group]]  # by dimension, largest commitment first
    money: Money


def _groups(projects: dict[Any, int], money_by: dict[Any, Figures]) -> list[Group]:
    groups = [Group(k, projects.get(k, 0), money_by.get(k, Figures())) for k in set(projects) | set(money_by)]
    groups.sort(key=lambda g: (-g.figures.committed_xof, -g.projects, str(g.key or "~")))
    return groups


def breakdowns(filters: Filters) -> tuple[dict[str, int], dict[str, list[Group]], Money]:
    """Projects by status, the groups of every dimension and the money overall (two statements)."""
    counts, projects = project_counts(filters)
    overall, money_by = money_groups(filters)
    return counts, {d: _groups(projects[d], money_by[d]) for d in DIMENSIONS}, overall


def overview(filters: Filters) -> Overview:
    """Everything the dashboard shows of projects and money (two statements)."""
    return Overview(*breakdowns(filters))


@dataclass(frozen=True)
class CountryRow:
    country: str | None
    associations: int  # verified associations living there (the directory: not narrowed by the filters)
    projects: int
    figures: Figures


def countries(groups: list[Group]) -> list[CountryRow]:
    """Per country of residence: verified associations (one statement), and the projects submitted and their
    money from ``groups``, the groups by country of :func:`breakdowns`."""
    associations = dict(db.session.execute(
        select(Association.country, func.count(Association.id))
        .where(Association.status == AssociationStatus.VERIFIED).group_by(Association.country)
    ).all())
    by_code = {g.key: g for g in groups}
    empty = Group(None, 0, Figures())
    rows = [CountryRow(code, int(associations.get(code, 0)), by_code.get(code, empty).projects,
                       by_code.get(code, empty).figures)
            for code in set(associations) | set(by_code)]
    rows.sort(key=lambda r: (-r.associations, -r.projects, -r.figures.diaspora_xof, r.country or "~"))
    return rows


# --- months ---------------------------------------------------------------------------------------


def months_shown(filters: Filters, today: date | None = None) -> list[str]:
    """'YYYY-MM' of the months shown: the year chosen, else the twelve months ending this one."""
    if filters.year:
        return [f"{filters.year:04d}-{m:02d}" for m in range(1, 13)]
    today = today or utcnow().date()
    year, month = today.year, today.month
    shown = []
    for _ in range(12):
        shown.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return shown[::-1]


def month_of(column: Any) -> Any:
    """'YYYY-MM' of a date or timestamp, in the database's own dialect."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _month_range(months: list[str]) -> tuple[date, date]:
    first_year, first_month = (int(p) for p in months[0].split("-"))
    last_year, last_month = (int(p) for p in months[-1].split("-"))
    end = date(last_year + (last_month == 12), last_month % 12 + 1, 1)
    return date(first_year, first_month, 1), end


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM
    approvals: int
    approved_xof: int
    payments: int
    paid_xof: int


def by_month(filters: Filters, today: date | None = None) -> list[Month]:
    """Grants approved (count, amount) and payments (count, amount) by month (two statements)."""
    months = months_shown(filters, today)
    start, end = _month_range(months)
    place = Filters(call_id=filters.call_id, region=filters.region, sector=filters.sector)
    approved_month = month_of(Grant.approved_at)
    approvals = (select(approved_month, func.count(Grant.id), total(Grant.amount_xof))
                 .select_from(Grant).join(Project, Project.id == Grant.project_id)
                 .join(Association, Association.id == Project.association_id)
                 .where(Grant.approved_at >= datetime(start.year, start.month, 1, tzinfo=UTC),
                        Grant.approved_at < datetime(end.year, end.month, 1, tzinfo=UTC))
                 .group_by(approved_month))
    paid_month = month_of(Disbursement.value_date)
    payments = (select(paid_month, func.count(Disbursement.id), total(Disbursement.amount_xof))
                .select_from(Disbursement).join(Grant, Grant.id == Disbursement.grant_id)
                .join(Project, Project.id == Grant.project_id)
                .join(Association, Association.id == Project.association_id)
                .where(Disbursement.value_date >= start, Disbursement.value_date < end).group_by(paid_month))
    a = {m: (int(n), int(s)) for m, n, s in db.session.execute(filter_register(approvals, place))}
    p = {m: (int(n), int(s)) for m, n, s in db.session.execute(filter_register(payments, place))}
    return [Month(m, *a.get(m, (0, 0)), *p.get(m, (0, 0))) for m in months]
