"""Reading projects for the pages: next steps, the financing-plan summary, lists, labels.

Nothing here changes data; the state changes are in :mod:`codev.projects.services`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from codev.accounts.models import Association
from codev.calls.models import Call
from codev.calls.rules import check_plan, eligible_association_money, max_grant_allowed
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.money import share_bps
from codev.extensions import db
from codev.projects.attachments import missing_kinds
from codev.projects.models import (
    EDITABLE,
    BudgetLine,
    FundingSource,
    Project,
    ProjectEvent,
    ProjectStatus,
)
from codev.projects.next_steps import member_words
from codev.projects.workflow import (
    add_document_phrase,
    first_step_to_do,
    plan_figures,
)

MAX_BUDGET_LINES = 200
MAX_FINANCING_LINES = 50


def next_step(project: Project) -> str:
    """What the association should do next, in words."""
    status = project.status
    if status not in EDITABLE:  # the study, the decision, the grant: what the association reads of it
        return member_words(project) or ProjectStatus(status).label
    step = first_step_to_do(project)
    if step is not None:
        return step.todo
    missing = missing_kinds(project)
    if missing:
        return add_document_phrase(missing[0])
    if status == ProjectStatus.RETURNED:
        return _("Make the changes the ministry asked for, then submit the project again.")
    return _("Review the project and submit it.")


@dataclass(frozen=True)
class PlanRow:
    label: str
    amount_xof: int
    share_bps: int
    code: str


def plan_summary(project: Project) -> dict:
    """The financing plan as the pages show it: each source with its share, the rules, the maximum grant."""
    figures = plan_figures(project)
    call = project.call
    b = figures.total_budget
    rows = [
        PlanRow(source.label, getattr(figures, source.value), share_bps(getattr(figures, source.value), b),
                source.value)
        for source in FundingSource
    ]
    rows.append(PlanRow(_("Requested grant"), figures.requested_grant, share_bps(figures.requested_grant, b),
                        "requested_grant"))
    return {
        "figures": figures,
        "rows": rows,
        "total_budget": b,
        "total_financing": figures.total_financing,
        "gap": b - figures.total_financing,
        "eligible_association": eligible_association_money(call, figures),
        "max_grant": max_grant_allowed(call, figures),
        "checks": check_plan(call, figures),
    }


def association_projects(association_id: int) -> Select:
    """The projects of an association, most recently changed first, with what their cards show."""
    return (
        select(Project)
        .where(Project.association_id == association_id)
        .options(joinedload(Project.call).selectinload(Call.required_attachments), selectinload(Project.attachments))
        .order_by(Project.updated_at.desc(), Project.id.desc())
    )


def ministry_projects(filters: dict) -> Select:
    """Every project, filtered by call, status, region, sector and country of the association."""
    query = select(Project).options(joinedload(Project.association), joinedload(Project.call))
    if filters.get("call"):
        query = query.where(Project.call_id == int(filters["call"]))
    if filters.get("status"):
        query = query.where(Project.status == filters["status"])
    if filters.get("region"):
        query = query.where(Project.region == filters["region"])
    if filters.get("sector"):
        query = query.where(Project.sector == filters["sector"])
    if filters.get("country"):
        query = query.where(Project.association.has(Association.country == filters["country"]))
    return query.order_by(Project.submitted_at.desc().nulls_last(), Project.id.desc())


def budget_totals(project_ids: list[int]) -> dict[int, int]:
    """Total budget of each project in one query."""
    if not project_ids:
        return {}
    rows = db.session.execute(
        select(BudgetLine.project_id, func.sum(BudgetLine.amount_xof))
        .where(BudgetLine.project_id.in_(project_ids))
        .group_by(BudgetLine.project_id)
    )
    return {project_id: int(total or 0) for project_id, total in rows}


def count_submitted() -> int:
    return db.session.scalar(select(func.count(Project.id)).where(Project.status == ProjectStatus.SUBMITTED)) or 0



# --- labels for the pages ---------------------------------------------------------------------

EVENT_LABELS = {
    "created": _l("Project started"),
    "submitted": _l("Submitted"),
    "resubmitted": _l("Submitted again"),
    "returned": _l("Returned for changes"),
    "withdrawn": _l("Withdrawn"),
    "attachment_added": _l("Document added"),
    "attachment_deleted": _l("Document removed"),
}


def event_label(event: ProjectEvent) -> str:
    """What happened, in words (a submission after a return reads "Submitted again")."""
    action = event.action
    if action == "submitted" and event.from_status == ProjectStatus.RETURNED:
        action = "resubmitted"
    if action in EVENT_LABELS:
        return str(EVENT_LABELS[action])
    if event.to_status:
        return label_of("status", event.to_status)
    return action


# Each rule in a few words, shown by the page's script while the person types (the saved plan's
# messages, with their figures, come from codev.calls.rules.check_plan).
RULE_NAMES = {
    "budget_positive": _l("The total budget is more than zero."),
    "balanced": _l("The financing plan equals the total budget."),
    "match": _l("The grant asked is within the match of your own contribution."),
    "max_grant": _l("The grant asked is within the maximum grant."),
    "max_share": _l("The grant asked is within the maximum share of the total budget."),
    "min_association_share": _l("Your own contribution reaches the minimum share of the total budget."),
    "max_budget": _l("The total budget is within the maximum."),
}


def rule_name(code: str) -> str:
    return str(RULE_NAMES[code]) if code in RULE_NAMES else ""


def label_of(kind: str, value: str | None) -> str:
    """The translated label of a stored code: status, category, source, attachment kind."""
    from codev.calls.models import ATTACHMENT_KIND_LABELS
    from codev.projects.models import BUDGET_CATEGORY_LABELS, FUNDING_SOURCE_LABELS, PROJECT_STATUS_LABELS

    table = {"status": PROJECT_STATUS_LABELS, "category": BUDGET_CATEGORY_LABELS,
             "source": FUNDING_SOURCE_LABELS, "kind": ATTACHMENT_KIND_LABELS}[kind]
    for key, label in table.items():
        if key.value == value:
            return str(label)
    return value or ""


def projects_per_call(call_ids: list[int]) -> dict[int, int]:
    """Projects per call, drafts left out (one query): the calls' list shows it (``count_projects_with``)."""
    if not call_ids:
        return {}
    rows = db.session.execute(
        select(Project.call_id, func.count())
        .where(Project.call_id.in_(call_ids), Project.status != ProjectStatus.DRAFT)
        .group_by(Project.call_id)
    ).all()
    return dict(rows)
