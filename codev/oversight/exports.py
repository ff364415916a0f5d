"""The ministry's exports: projects, evaluations, grants, the counterpart ledger and disbursements, each a
list of columns and one SQL statement narrowed by the same filters.

The filters apply to the project each row belongs to (call, region, sector, status of the project); the
year is that of each row's own date: submission (projects, evaluations), approval (grants), value date
(ledger entries, disbursements). Money is whole XOF; a code is shown as its label in the reader's
language, a sector with its OECD-DAC code beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, String, case, cast, func, select
from sqlalchemy.orm import aliased

from codev.accounts.models import Association, PartnerStructure, User
from codev.calls.models import Call
from codev.core.countries import country_name
from codev.core.geography import region_name
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.i18n import locale_name
from codev.core.money import minor_text, rate_text
from codev.core.sectors import SECTOR_BY_CODE, sector_label
from codev.grants.models import ContributionEntry, Disbursement, EntryKind, Grant, GrantStatus
from codev.oversight.queries import (
    Filters,
    committed,
    paid,
    total,
    tranches_by_grant,
    verified,
    with_totals,
    year_bounds,
)
from codev.oversight.tables import Column
from codev.projects.models import BudgetLine, FundingSource, Project, ProjectStatus
from codev.reviews.models import Assignment, AssignmentStatus, Evaluation, Recommendation

ENTRY_KIND_LABELS = {
    EntryKind.DECLARED: _l("Declaration"),
    EntryKind.VERIFIED: _l("Verification"),
    EntryKind.REJECTED: _l("Rejection"),
    EntryKind.REVERSAL: _l("Reversal"),
}


def coded(header, expr, show) -> Column:
    """A column of codes shown as labels: few distinct values, each translated once per file."""
    return Column(header, expr, show, codes=True)


def _label(enum: type, code: str) -> str:
    try:
        return enum(code).label
    except ValueError:
        return code


def _entry_kind(code: str) -> str:
    label = ENTRY_KIND_LABELS.get(code)
    return str(label) if label else code


def _dac(code: str) -> str:
    sector = SECTOR_BY_CODE.get(code)
    return sector.dac_code if sector else ""


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _centi(value: int) -> Decimal:
    return Decimal(value) / 100


def filter_projects(stmt: Select, filters: Filters, dated: Any) -> Select:
    """Narrow a statement that joins ``projects`` to the filters (``dated``: the row's own date)."""
    if filters.call_id:
        stmt = stmt.where(Project.call_id == filters.call_id)
    if filters.region:
        stmt = stmt.where(Project.region == filters.region)
    if filters.sector:
        stmt = stmt.where(Project.sector == filters.sector)
    if filters.status:
        stmt = stmt.where(Project.status == filters.status)
    if filters.country:
        stmt = stmt.where(Association.country == filters.country)
    if filters.year:
        start, end = year_bounds(filters.year)
        if getattr(dated.type, "python_type", None) is date:
            start, end = start.date(), end.date()
        stmt = stmt.where(dated >= start, dated < end)
    return stmt


def _project_columns() -> list[Column]:
    return [
        Column(_l("Project reference"), Project.reference),
        Column(_l("Project"), Project.title),
        Column(_l("Call"), _call_title()),
    ]


def _call_title() -> Any:
    """The call's title in the file's language, in SQL: the rule of ``codev.core.templating.localized``."""
    if locale_name() != "en":
        return Call.title
    return func.coalesce(func.nullif(Call.title_en, ""), Call.title)


def _place_columns() -> list[Column]:
    return [
        Column(_l("Association"), Association.name),
        coded(_l("Country of residence"), Association.country, country_name),
        coded(_l("Region"), Project.region, region_name),
        Column(_l("Prefecture"), Project.prefecture),
        Column(_l("Commune"), Project.commune),
        coded(_l("Sector"), Project.sector, sector_label),
        coded(_l("OECD-DAC code"), Project.sector, _dac),
    ]


def projects(filters: Filters) -> tuple[list[Column], Select]:
    budget = (select(BudgetLine.project_id, total(BudgetLine.amount_xof).label("budget"))
              .group_by(BudgetLine.project_id).subquery("budget"))
    columns = [
        *_project_columns(),
        coded(_l("Status"), Project.status, lambda code: _label(ProjectStatus, code)),
        *_place_columns(),
        Column(_l("Submitted on (UTC)"), Project.submitted_at),
        Column(_l("Total budget (XOF)"), budget.c.budget),
        Column(_l("Requested grant (XOF)"), Project.requested_grant_xof),
        Column(_l("Grant awarded (XOF)"), Grant.amount_xof),
        Column(_l("Beneficiaries"), Project.beneficiaries_total),
        Column(_l("Women among them"), Project.beneficiaries_women),
        Column(_l("Young people among them"), Project.beneficiaries_youth),
    ]
    stmt = (select(*(c.expr for c in columns)).select_from(Project)
            .join(Association, Association.id == Project.association_id).join(Call, Call.id == Project.call_id)
            .outerjoin(budget, budget.c.project_id == Project.id).outerjoin(Grant, Grant.project_id == Project.id))
    stmt = filter_projects(stmt, filters, Project.submitted_at)
    return columns, stmt.order_by(Project.id)


def evaluations(filters: Filters) -> tuple[list[Column], Select]:
    evaluator = aliased(User, name="evaluator")
    columns = [
        *_project_columns(),
        Column(_l("Evaluator"), evaluator.name),
        Column(_l("Partner structure"), PartnerStructure.name),
        coded(_l("Assignment"), Assignment.status, lambda code: _label(AssignmentStatus, code)),
        coded(_l("Conflict of interest declared"), Assignment.conflict_declared, _yes_no),
        coded(_l("Recommendation"), Evaluation.recommendation, lambda code: _label(Recommendation, code)),
        Column(_l("Score (out of 100)"), Evaluation.score_centi, _centi),
        Column(_l("Submitted on (UTC)"), Evaluation.submitted_at),
    ]
    stmt = (select(*(c.expr for c in columns)).select_from(Assignment)
            .join(Project, Project.id == Assignment.project_id).join(Call, Call.id == Project.call_id)
            .join(Association, Association.id == Project.association_id)
            .join(evaluator, evaluator.id == Assignment.evaluator_id)
            .outerjoin(PartnerStructure, PartnerStructure.id == evaluator.partner_structure_id)
            .outerjoin(Evaluation, Evaluation.assignment_id == Assignment.id))
    stmt = filter_projects(stmt, filters, Evaluation.submitted_at)
    return columns, stmt.order_by(Project.id, Assignment.id)


def grants(filters: Filters) -> tuple[list[Column], Select]:
    tranches = tranches_by_grant()
    columns = [
        *_project_columns(),
        *_place_columns(),
        coded(_l("Grant status"), Grant.status, lambda code: _label(GrantStatus, code)),
        Column(_l("Approved on (UTC)"), Grant.approved_at),
        Column(_l("Grant awarded (XOF)"), Grant.amount_xof),
        Column(_l("Released to the envelope (XOF)"), Grant.released_xof),
        Column(_l("State money committed (XOF)"), committed()),
        Column(_l("Match ratio (state : association)"),
               cast(Grant.ratio_num, String) + ":" + cast(Grant.ratio_den, String)),
        Column(_l("Association money required (XOF)"), Grant.required_association_xof),
        Column(_l("Contribution deadline"), Grant.contribution_deadline),
        Column(_l("Diaspora money verified (XOF)"), verified()),
        Column(_l("Paid (XOF)"), paid()),
        Column(_l("Tranches paid"), func.coalesce(tranches.c.tranches_paid, 0)),
        Column(_l("Tranches"), func.coalesce(tranches.c.tranches, 0)),
    ]
    stmt = (select(*(c.expr for c in columns)).select_from(Grant)
            .join(Project, Project.id == Grant.project_id).join(Call, Call.id == Grant.call_id)
            .join(Association, Association.id == Project.association_id)
            .outerjoin(tranches, tranches.c.grant_id == Grant.id))
    stmt = filter_projects(with_totals(stmt), filters, Grant.approved_at)
    return columns, stmt.order_by(Grant.id)


def ledger(filters: Filters) -> tuple[list[Column], Select]:
    entry = ContributionEntry
    columns = [
        Column(_l("Entry"), entry.id),
        *_project_columns(),
        coded(_l("Kind"), entry.kind, _entry_kind),
        Column(_l("Refers to entry"), entry.refers_to_id),
        coded(_l("Source"), entry.source, lambda code: _label(FundingSource, code)),
        Column(_l("Currency"), entry.currency),
        # XOF has no minor unit (amount_minor holds francs); other currencies hold cents.
        Column(_l("Amount in the currency"),
               case((entry.currency == "XOF", entry.amount_minor * 100), else_=entry.amount_minor), minor_text),
        Column(_l("Rate (XOF for one unit)"), entry.rate_millionths, rate_text),
        Column(_l("Amount (XOF)"), entry.amount_xof),
        Column(_l("Value date"), entry.value_date),
        Column(_l("Recorded on (UTC)"), entry.created_at),
        Column(_l("Note"), entry.note),
    ]
    stmt = (select(*(c.expr for c in columns)).select_from(entry)
            .join(Grant, Grant.id == entry.grant_id).join(Project, Project.id == Grant.project_id)
            .join(Call, Call.id == Project.call_id).join(Association, Association.id == Project.association_id))
    stmt = filter_projects(stmt, filters, entry.value_date)
    return columns, stmt.order_by(entry.id)


def disbursements(filters: Filters) -> tuple[list[Column], Select]:
    columns = [
        Column(_l("Disbursement"), Disbursement.id),
        *_project_columns(),
        Column(_l("Tranche"), Disbursement.tranche_number),
        Column(_l("Amount (XOF)"), Disbursement.amount_xof),
        Column(_l("Value date"), Disbursement.value_date),
        Column(_l("Bank reference"), Disbursement.bank_reference),
        Column(_l("Recorded on (UTC)"), Disbursement.recorded_at),
        coded(_l("Second signature"), Disbursement.approved_by_id.is_not(None), _yes_no),
    ]
    stmt = (select(*(c.expr for c in columns)).select_from(Disbursement)
            .join(Grant, Grant.id == Disbursement.grant_id).join(Project, Project.id == Grant.project_id)
            .join(Call, Call.id == Project.call_id).join(Association, Association.id == Project.association_id))
    stmt = filter_projects(stmt, filters, Disbursement.value_date)
    return columns, stmt.order_by(Disbursement.id)


@dataclass(frozen=True)
class Dataset:
    name: str
    title: Any  # lazy string
    build: Callable[[Filters], tuple[list[Column], Select]]


DATASETS = {d.name: d for d in (
    Dataset("projects", _l("Projects"), projects),
    Dataset("evaluations", _l("Evaluations"), evaluations),
    Dataset("grants", _l("Grants"), grants),
    Dataset("ledger", _l("Counterpart ledger"), ledger),
    Dataset("disbursements", _l("Disbursements"), disbursements),
)}
