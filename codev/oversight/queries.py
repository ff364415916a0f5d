"""The programme's figures, aggregated by the database: what the register, the exports, the IATI file and
the ministry's dashboard share.

Every figure is one SQL statement (GROUP BY, SUM), never a loop over rows in Python, so a page costs
the same number of statements whatever the size of the programme.

Definitions (the same everywhere they are shown):

- **projects funded**: projects with a grant that is neither lapsed nor cancelled (register status
  funded, completed or closed); **communes reached**: their distinct communes.
- **state money committed**: Σ (grant − money released back to the envelope) over the grants listed;
  **state money paid**: Σ disbursements.

The money paid and verified is read from each grant's running totals, which the database keeps from the
payments and the ledger on every insert (``codev.grants.totals``): a figure over 10 000 grants sums 10 000
rows, not the whole ledger. The tests compare every figure with plain SQL over the ledger itself.
- **diaspora money verified**: Σ of the association's own contributions (cash and in kind, at face value)
  that an officer verified and nobody reversed; the community's, the commune's and other partners' money
  is not the diaspora's.
- **leverage**: diaspora money verified per franc of state money committed.
- **register status**: ``cancelled`` or ``lapsed`` when the grant was, else the project's ``completed`` or
  ``closed``, else ``funded``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from codev.accounts.models import Association
from codev.calls.models import Call, CallStatus
from codev.extensions import db
from codev.grants.models import ContributionEntry, Disbursement, EntryKind, Grant, GrantStatus, GrantTranche
from codev.grants.totals import GrantTotals
from codev.projects.models import FundingSource, Project, ProjectStatus

DIASPORA_SOURCES = (FundingSource.ASSOCIATION_CASH.value, FundingSource.ASSOCIATION_IN_KIND.value)
REGISTER_STATUSES = ("funded", "completed", "closed", "lapsed", "cancelled")
FUNDED_STATUSES = ("funded", "completed", "closed")


@dataclass(frozen=True)
class Filters:
    """What a list is narrowed to. ``status`` is the register status on the register, the project's
    status in the exports; ``year`` the year of approval of the grant on the register (of each row's own
    date in the exports); ``country`` the association's country of residence (for the dashboard)."""

    call_id: int | None = None
    region: str | None = None
    sector: str | None = None
    year: int | None = None
    status: str | None = None
    country: str | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as the query string of a link (the GET forms' names)."""
        values = {"call": self.call_id, "region": self.region, "sector": self.sector, "year": self.year,
                  "status": self.status, "country": self.country}
        return {name: str(value) for name, value in values.items() if value not in (None, "")}


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) in UTC: a range the database compares on any backend, with an index."""
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def total(column: Any) -> Any:
    """Σ column as an integer (PostgreSQL sums BIGINT into NUMERIC), 0 over no rows."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


# --- money by grant -------------------------------------------------------------------------------


def _standing(declared: Any) -> Any:
    """A diaspora declaration verified by an officer and never reversed (a correlated condition)."""
    decision, reversal = aliased(ContributionEntry), aliased(ContributionEntry)
    return and_(
        declared.kind == EntryKind.DECLARED,
        declared.source.in_(DIASPORA_SOURCES),
        exists().where(decision.refers_to_id == declared.id, decision.kind == EntryKind.VERIFIED),
        ~exists().where(reversal.refers_to_id == declared.id, reversal.kind == EntryKind.REVERSAL),
    )


def _verified_join() -> tuple[Any, Select]:
    """(declared, statement): standing diaspora declarations reached from their verification (a join, which
    the databases run faster over the whole ledger than a correlated EXISTS per declaration)."""
    declared, decision, reversal = (aliased(ContributionEntry, name="declared"),
                                    aliased(ContributionEntry, name="decision"), aliased(ContributionEntry))
    stmt = (select(declared).select_from(decision).join(declared, declared.id == decision.refers_to_id)
            .where(decision.kind == EntryKind.VERIFIED, declared.kind == EntryKind.DECLARED,
                   declared.source.in_(DIASPORA_SOURCES),
                   ~exists().where(reversal.refers_to_id == declared.id, reversal.kind == EntryKind.REVERSAL)))
    return declared, stmt


def verified_declarations() -> Select:
    """The standing diaspora declarations (rows of the ledger): what the IATI file lists as incoming funds."""
    return _verified_join()[1]


def with_totals(stmt: Select) -> Select:
    """``stmt`` over grants joined to their running totals (a grant without payments nor declarations has
    no row of them yet: it reads as zeros)."""
    return stmt.outerjoin(GrantTotals, GrantTotals.grant_id == Grant.id)


def paid() -> Any:
    """A grant's money paid (Σ disbursements), from its running totals; with :func:`with_totals`."""
    return func.coalesce(GrantTotals.paid_xof, 0)


def verified() -> Any:
    """A grant's diaspora money verified and never reversed (cash and in kind at face value), from its
    running totals."""
    return func.coalesce(GrantTotals.verified_cash_xof, 0) + func.coalesce(GrantTotals.verified_in_kind_xof, 0)


def tranches_by_grant() -> Any:
    """Subquery: grant_id, tranches (count), tranches_paid (those whose payments reach their amount)."""
    by_tranche = (select(Disbursement.grant_id, Disbursement.tranche_number, total(Disbursement.amount_xof).label("s"))
                  .group_by(Disbursement.grant_id, Disbursement.tranche_number).subquery("paid_by_tranche"))
    paid = case((func.coalesce(by_tranche.c.s, 0) >= GrantTranche.amount_xof, 1), else_=0)
    return (
        select(GrantTranche.grant_id, func.count(GrantTranche.id).label("tranches"),
               cast(func.coalesce(func.sum(paid), 0), BigInteger).label("tranches_paid"))
        .outerjoin(by_tranche, and_(by_tranche.c.grant_id == GrantTranche.grant_id,
                                    by_tranche.c.tranche_number == GrantTranche.number))
        .group_by(GrantTranche.grant_id).subquery("tranches_by_grant")
    )


# The same for one row at a time: a page of 25 rows asks the database for 25 rows' tranches only.

def tranches_of_grant() -> Any:
    return select(func.count(GrantTranche.id)).where(GrantTranche.grant_id == Grant.id).scalar_subquery()


def tranches_paid_of_grant() -> Any:
    tranche = aliased(GrantTranche, name="tranche")
    paid_on_tranche = (select(total(Disbursement.amount_xof))
                       .where(Disbursement.grant_id == tranche.grant_id,
                              Disbursement.tranche_number == tranche.number).scalar_subquery())
    return (select(func.count(tranche.id))
            .where(tranche.grant_id == Grant.id, paid_on_tranche >= tranche.amount_xof).scalar_subquery())


# --- the register -------------------------------------------------------------------------------


def register_status() -> Any:
    """The register's status of a funded project, as an SQL expression (filters and sorts in SQL)."""
    return case(
        (Grant.status == GrantStatus.CANCELLED, literal("cancelled")),
        (Grant.status == GrantStatus.LAPSED, literal("lapsed")),
        (Project.status == ProjectStatus.COMPLETED, literal("completed")),
        (Project.status == ProjectStatus.CLOSED, literal("closed")),
        else_=literal("funded"),
    )


def _funded() -> Any:
    return Grant.status.notin_((GrantStatus.CANCELLED, GrantStatus.LAPSED))


def committed() -> Any:
    """A grant's state money still committed: what was not released back to the envelope."""
    return Grant.amount_xof - Grant.released_xof


def _register_from(stmt: Select) -> Select:
    return (stmt.select_from(Grant).join(Project, Project.id == Grant.project_id)
            .join(Association, Association.id == Project.association_id))


def filter_register(stmt: Select, filters: Filters) -> Select:
    """Narrow a statement over grants ⋈ projects ⋈ associations to the register's filters."""
    if filters.call_id:
        stmt = stmt.where(Grant.call_id == filters.call_id)
    if filters.region:
        stmt = stmt.where(Project.region == filters.region)
    if filters.sector:
        stmt = stmt.where(Project.sector == filters.sector)
    if filters.year:
        start, end = year_bounds(filters.year)
        stmt = stmt.where(Grant.approved_at >= start, Grant.approved_at < end)
    if filters.status:
        stmt = stmt.where(register_status() == filters.status)
    if filters.country:
        stmt = stmt.where(Association.country == filters.country)
    return stmt


@dataclass(frozen=True)
class Figures:
    """The programme's figures over the grants a filter selects (money in whole XOF)."""

    projects_listed: int = 0
    projects_funded: int = 0
    committed_xof: int = 0
    paid_xof: int = 0
    diaspora_xof: int = 0
    communes: int = 0

    @property
    def leverage_hundredths(self) -> int | None:
        """Diaspora money verified per franc of state money committed, in hundredths (rounded half up)."""
        if self.committed_xof <= 0:
            return None
        return (self.diaspora_xof * 200 + self.committed_xof) // (2 * self.committed_xof)

    @property
    def leverage(self) -> Decimal | None:
        hundredths = self.leverage_hundredths
        return None if hundredths is None else Decimal(hundredths) / 100


def _figure_columns() -> list[Any]:
    """The figures' columns over grants ⋈ projects (one row per grant): the money is each grant's own
    running totals (``codev.grants.totals``), so no statement reads the ledger or the payments."""
    funded = _funded()
    return [
        func.count(Grant.id).label("projects_listed"),
        total(case((funded, 1), else_=0)).label("projects_funded"),
        total(committed()).label("committed_xof"),
        total(paid()).label("paid_xof"),
        total(verified()).label("diaspora_xof"),
        func.count(distinct(case((funded, Project.commune)))).label("communes"),
    ]


FIGURES = ("projects_listed", "projects_funded", "committed_xof", "paid_xof", "diaspora_xof", "communes")


def _figures(mapping: Any) -> Figures:
    return Figures(**{name: int(mapping[name] or 0) for name in FIGURES})


def _figures_from(stmt: Select, filters: Filters, *, by_country: bool = False) -> Select:
    """``stmt`` over grants ⋈ projects (⋈ associations only when the country is read), narrowed."""
    stmt = with_totals(stmt.select_from(Grant).join(Project, Project.id == Grant.project_id))
    if filters.country or by_country:
        stmt = stmt.join(Association, Association.id == Project.association_id)
    return filter_register(stmt, filters)


def programme_figures(filters: Filters | None = None) -> Figures:
    """The figures of the programme (or of what ``filters`` select), in one statement."""
    stmt = _figures_from(select(*_figure_columns()), filters or Filters())
    return _figures(db.session.execute(stmt).one()._mapping)


BREAKDOWNS = {
    "region": Project.region,
    "prefecture": Project.prefecture,
    "sector": Project.sector,
    "country": Association.country,
    "call": Grant.call_id,
    "status": None,  # the register status, built per statement
}


def _key(dimension: str) -> Any:
    return register_status() if dimension == "status" else BREAKDOWNS[dimension]


def _largest_first(groups: list[tuple[Any, Figures]]) -> list[tuple[Any, Figures]]:
    return sorted(groups, key=lambda group: (-group[1].committed_xof, str(group[0]) if group[0] is not None else "~"))


def figures_by(dimension: str, filters: Filters | None = None) -> list[tuple[Any, Figures]]:
    """The figures grouped by ``dimension`` (a key of :data:`BREAKDOWNS`), largest commitment first."""
    key = _key(dimension).label("key")
    stmt = (_figures_from(select(key, *_figure_columns()), filters or Filters(), by_country=dimension == "country")
            .group_by(key))
    return _largest_first([(row.key, _figures(row._mapping)) for row in db.session.execute(stmt)])


def figures_with(filters: Filters, dimensions: tuple[str, ...]) -> tuple[Figures, dict[str, list[tuple[Any, Figures]]]]:
    """:func:`programme_figures` and :func:`figures_by` of each of ``dimensions``, in one statement: the grants
    in view are read once (a common table expression), then summed whole and grouped (UNION ALL)."""
    funded = _funded()
    rows = _figures_from(select(
        Grant.id.label("grant_id"), case((funded, 1), else_=0).label("funded"), committed().label("committed"),
        paid().label("paid"), verified().label("verified"), case((funded, Project.commune)).label("commune"),
        *(_key(name).label(name) for name in dimensions)), filters, by_country="country" in dimensions,
    ).cte("grants_in_view")
    sums = [func.count(rows.c.grant_id).label("projects_listed"), total(rows.c.funded).label("projects_funded"),
            total(rows.c.committed).label("committed_xof"), total(rows.c.paid).label("paid_xof"),
            total(rows.c.verified).label("diaspora_xof"), func.count(distinct(rows.c.commune)).label("communes")]
    parts = [select(literal("").label("dimension"), cast(null(), String).label("key"), *sums)]
    parts += [select(literal(name), cast(rows.c[name], String), *sums).group_by(rows.c[name]) for name in dimensions]
    overall, by = Figures(), {name: [] for name in dimensions}
    for row in db.session.execute(union_all(*parts)):
        figures = _figures(row._mapping)
        if row.dimension:
            key = int(row.key) if row.dimension == "call" and row.key is not None else row.key
            by[row.dimension].append((key, figures))
        else:
            overall = figures
    return overall, {name: _largest_first(groups) for name, groups in by.items()}


def register_rows(filters: Filters | None = None, *, whole: bool = False) -> Select:
    """One row per funded project (what the register lists and its CSV holds), latest approval first.

    The money is each grant's running totals; the tranches are counted by ``whole`` (a file of every row)
    in one grouped subquery, read once, otherwise (a page, one project) by correlated subqueries, for the
    rows shown only.
    """
    if whole:
        tranches = tranches_by_grant()
        counts = [func.coalesce(tranches.c.tranches, 0), func.coalesce(tranches.c.tranches_paid, 0)]
    else:
        counts = [tranches_of_grant(), tranches_paid_of_grant()]
    money = [verified(), paid(), *counts]
    stmt = _register_from(select(
        Project.id.label("project_id"), Project.reference, Project.title, Project.commune, Project.prefecture,
        Project.region, Project.sector, Association.name.label("association"),
        Association.country.label("country"), Grant.call_id, Call.title.label("call_title"),
        Call.title_en.label("call_title_en"), Grant.amount_xof.label("grant_xof"),
        committed().label("committed_xof"), Grant.approved_at, register_status().label("status"),
        *(column.label(name) for column, name in zip(
            money, ("diaspora_xof", "paid_xof", "tranches", "tranches_paid"), strict=True)),
    )).join(Call, Call.id == Grant.call_id)
    stmt = with_totals(stmt)
    if whole:
        stmt = stmt.outerjoin(tranches, tranches.c.grant_id == Grant.id)
    return filter_register(stmt, filters or Filters()).order_by(Grant.approved_at.desc(), Grant.id.desc())


@cache
def rows_by_grant() -> Select:
    """:func:`register_rows` with each row's money by correlated subqueries, built once: a statement is
    immutable, and building its aliases of the ledger again for each page costs more than running it."""
    return register_rows()


def _grants_only(stmt: Select, filters: Filters) -> Select:
    """``stmt`` over grants, joined to the project and the association only when a filter reads them: every
    grant has both (foreign keys, not null), so the joins change no count, but each costs a lookup of a wide
    row per grant."""
    if filters.region or filters.sector or filters.status or filters.country:
        stmt = stmt.join(Project, Project.id == Grant.project_id)
    if filters.country:
        stmt = stmt.join(Association, Association.id == Project.association_id)
    return filter_register(stmt, filters)


def register_count(filters: Filters | None = None) -> int:
    """How many funded projects the filters select."""
    stmt = _grants_only(select(func.count(Grant.id)).select_from(Grant), filters or Filters())
    return int(db.session.scalar(stmt) or 0)


def register_page(filters: Filters, limit: int, offset: int) -> list[Any]:
    """One page of the register: the page's grants chosen first (along the index of approval, reading the
    projects only when a filter needs them), their money computed for them only."""
    chosen = (_grants_only(select(Grant.id).select_from(Grant), filters)
              .order_by(Grant.approved_at.desc(), Grant.id.desc()).limit(limit).offset(offset))
    return list(db.session.execute(rows_by_grant().where(Grant.id.in_(chosen.scalar_subquery()))))


def register_after(filters: Filters, after: int | None, limit: int, *columns: Any) -> list[Any]:
    """Up to ``limit`` rows of the register in the order of their grants' ids, after the grant ``after`` (the
    partners' API pages by this key: a row added meanwhile never shifts the next page). Each row also holds
    its ``grant_id`` and ``columns`` (more of grants ⋈ projects ⋈ associations, for a scope that may read
    them); chosen like :func:`register_page`, their money computed for them only."""
    chosen = _grants_only(select(Grant.id).select_from(Grant), filters)
    if after is not None:
        chosen = chosen.where(Grant.id > after)
    chosen = chosen.order_by(Grant.id).limit(limit)
    stmt = (rows_by_grant().add_columns(Grant.id.label("grant_id"), *columns)
            .where(Grant.id.in_(chosen.scalar_subquery())).order_by(None).order_by(Grant.id))
    return list(db.session.execute(stmt))


def register_project(project_id: int) -> Any | None:
    """The register's row of one project (None when it was never funded)."""
    stmt = rows_by_grant().where(Project.id == project_id).add_columns(
        Grant.id.label("grant_id"), Project.village, Project.start_date, Project.duration_months,
        Project.beneficiaries_total, Project.beneficiaries_women, Project.beneficiaries_youth,
        Grant.ratio_num, Grant.ratio_den, Grant.status.label("grant_status"),
    )
    return db.session.execute(stmt).first()


def tranche_rows(grant_id: int) -> list[Any]:
    """The grant's tranches with what was paid on each, in one statement."""
    paid = (select(total(Disbursement.amount_xof))
            .where(Disbursement.grant_id == GrantTranche.grant_id, Disbursement.tranche_number == GrantTranche.number)
            .scalar_subquery())
    return list(db.session.execute(
        select(GrantTranche.number, GrantTranche.share_bps, GrantTranche.amount_xof, GrantTranche.condition,
               paid.label("paid_xof"))
        .where(GrantTranche.grant_id == grant_id).order_by(GrantTranche.number)
    ))


def disbursement_rows(grant_id: int) -> list[Any]:
    """The grant's disbursements (date, tranche, amount: no bank reference, no person)."""
    return list(db.session.execute(
        select(Disbursement.value_date, Disbursement.tranche_number, Disbursement.amount_xof)
        .where(Disbursement.grant_id == grant_id).order_by(Disbursement.value_date, Disbursement.id)
    ))


def verified_by_source(grant_id: int) -> list[Any]:
    """The grant's verified diaspora money by source (cash, in kind), in one statement."""
    declared = aliased(ContributionEntry, name="declared")
    return list(db.session.execute(
        select(declared.source, total(declared.amount_xof).label("amount_xof"))
        .where(declared.grant_id == grant_id, _standing(declared))
        .group_by(declared.source).order_by(declared.source)
    ))


def budget_total(project_id: int) -> int:
    from codev.projects.models import BudgetLine

    return int(db.session.scalar(select(total(BudgetLine.amount_xof)).where(BudgetLine.project_id == project_id)) or 0)


def _year(first: Any) -> int | None:
    if isinstance(first, str):  # SQLite returns an aggregate of a DateTime column as text
        first = datetime.fromisoformat(first)
    return first.year if first else None


def first_year() -> int | None:
    """The year of the first grant (the register's year filter starts there)."""
    return _year(db.session.scalar(select(func.min(Grant.approved_at))))


def first_year_of_the_programme() -> int | None:
    """The first year the dashboard's filter can choose: of the first call (created or opened: no project is
    older than its call) or grant. Both tables are small beside the projects."""
    grants = select(func.min(Grant.approved_at)).scalar_subquery()
    years = [year for first in db.session.execute(select(func.min(Call.created_at), func.min(Call.opens_at),
                                                         grants)).one() if (year := _year(first))]
    return min(years) if years else None


def calls_not_drafts() -> list[Any]:
    """Calls that are not drafts (id, title, title_en), latest first: the dashboard's call filter."""
    return list(db.session.execute(
        select(Call.id, Call.title, Call.title_en).where(Call.status != CallStatus.DRAFT).order_by(Call.id.desc())
    ))


def funded_calls() -> list[Any]:
    """Calls with at least one grant (id, title, title_en), for the register's call filter."""
    return list(db.session.execute(
        select(Call.id, Call.title, Call.title_en)
        .where(exists().where(Grant.call_id == Call.id)).order_by(Call.id.desc())
    ))
