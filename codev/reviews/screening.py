"""Admissibility screening of submitted projects by an officer.

The checklist is computed from the data with the submission's own checks
(:mod:`codev.projects.workflow`, which uses :func:`codev.calls.rules.check_plan` for the plan), except
"call open at submission", which reads the project's submission date against the call's dates. The
officer confirms each item (a commented confirmation may overrule an item computed as not met, e.g. a
document filed under another kind) and decides: eligible (→ under review), ineligible (with the
reasons) or returned for changes (the projects' "returned" transition, with the message). Every
decision leaves a :class:`~codev.reviews.models.Screening` row with the checklist as it stood.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from codev.accounts.models import Role, User
from codev.calls.models import Call
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.mail import queue_mail
from codev.extensions import db
from codev.projects import services as project_services
from codev.projects import workflow as project_workflow
from codev.projects.models import Project, ProjectStatus
from codev.projects.workflow import fire
from codev.reviews.assignments import ReviewError
from codev.reviews.models import Screening, ScreeningOutcome


def call_open_at_submission(project: Project) -> list[str]:
    """The project was submitted while the call was taking projects (its latest submission)."""
    call, at = project.call, project.submitted_at
    if at is None:
        return [_("The project has no submission date.")]
    if call.opens_at is None or call.closes_at is None or not call.opens_at <= at < call.closes_at:
        return [_("The project was submitted outside the call's dates.")]
    return []


def place_and_sector(project: Project) -> list[str]:
    problems = []
    if not project.commune or not project.region:
        problems.append(_("The project has no commune."))
    if not project.sector:
        problems.append(_("The project has no sector."))
    return problems + project_workflow.eligible_place_and_sector(project)


SCREENING_OUTCOME_LABELS = {
    ScreeningOutcome.ELIGIBLE: _l("Eligible"),
    ScreeningOutcome.INELIGIBLE: _l("Ineligible"),
    ScreeningOutcome.RETURNED: _l("Returned for changes"),
}


@dataclass(frozen=True)
class Item:
    code: str
    label: Any  # lazy string
    check: Callable[[Project], list[str]]


ITEMS: tuple[Item, ...] = (
    Item("association_verified", _l("The association is verified"), project_workflow.association_verified),
    Item("call_open", _l("The call was open when the project was submitted"), call_open_at_submission),
    Item("place_and_sector", _l("The commune is in an eligible region and the sector is eligible"), place_and_sector),
    Item("attachments", _l("The documents the call requires are attached"), project_workflow.required_attachments),
    Item("plan", _l("The financing plan balances and meets the call's rules"), project_workflow.plan_rules),
)
ITEM_LABELS = {item.code: item.label for item in ITEMS}


@dataclass(frozen=True)
class ComputedItem:
    code: str
    label: str
    met: bool
    problems: list[str]


def checklist(project: Project) -> list[ComputedItem]:
    """Each admissibility item as computed from the project's data, with the problems in words."""
    computed = []
    for item in ITEMS:
        problems = item.check(project)
        computed.append(ComputedItem(item.code, str(item.label), not problems, problems))
    return computed


def item_label(code: str) -> str:
    return str(ITEM_LABELS[code]) if code in ITEM_LABELS else code


@dataclass(frozen=True)
class Confirmation:
    confirmed: bool
    comment: str | None


def screen_project(project: Project, officer: User, outcome: str, confirmations: dict[str, Confirmation],
                   message: str | None) -> Screening:
    """Record the officer's screening and move the project accordingly; the association is emailed."""
    if project.status != ProjectStatus.SUBMITTED:
        raise ReviewError(_("This project is not awaiting screening: it is “%(state)s”.",
                            state=ProjectStatus(project.status).label))
    try:
        outcome = ScreeningOutcome(outcome)
    except ValueError:
        raise ReviewError(_("Choose the outcome of the screening.")) from None
    message = (message or "").strip() or None
    items = checklist(project)
    rows = [{"code": item.code, "computed": item.met,
             "confirmed": bool(confirmations.get(item.code, Confirmation(False, None)).confirmed),
             "comment": confirmations.get(item.code, Confirmation(False, None)).comment or None}
            for item in items]
    if outcome is ScreeningOutcome.ELIGIBLE:
        unconfirmed = [item_label(r["code"]) for r in rows if not r["confirmed"]]
        if unconfirmed:
            raise ReviewError(_("Confirm every item of the checklist before declaring the project eligible: %(items)s.",
                                items="; ".join(unconfirmed)))
        overruled = [item_label(r["code"]) for r in rows if not r["computed"] and not r["comment"]]
        if overruled:
            raise ReviewError(_("Explain in a comment why you confirm an item that is not met: %(items)s.",
                                items="; ".join(overruled)))
    elif not message:
        raise ReviewError(_("Write the reasons of the ineligibility.") if outcome is ScreeningOutcome.INELIGIBLE
                          else _("Write what the association must change."))
    screening = Screening(project_id=project.id, officer_id=officer.id, checklist=rows, outcome=outcome,
                          comments=message)
    db.session.add(screening)
    if outcome is ScreeningOutcome.ELIGIBLE:
        fire(project, ProjectStatus.IN_REVIEW, officer)
        _notify_members(project, "review_eligible")
    elif outcome is ScreeningOutcome.INELIGIBLE:
        fire(project, ProjectStatus.INELIGIBLE, officer, message)
        _notify_members(project, "review_ineligible", message=message)
    else:
        project_services.return_project(project, officer, message)  # emails the members itself
    db.session.flush()
    audit.record("review.screened", screening, actor=officer,
                 after={"project_id": project.id, "outcome": str(outcome), "checklist": rows})
    db.session.flush()
    return screening


def _notify_members(project: Project, template: str, **context: Any) -> None:
    members = db.session.scalars(
        select(User).where(User.association_id == project.association_id, User.role == Role.ASSOCIATION,
                           User.active.is_(True)).order_by(User.id)
    )
    for person in members:
        queue_mail(person.email, person.locale, template, name=person.name, title=project.title,
                   reference=project.reference, association=project.association.display_name,
                   url=project_services.project_url(project), **context)


# --- lists ---------------------------------------------------------------------------------------


def to_screen_query(call_id: int | None = None):
    """Submitted projects, oldest submission first, with what their checklist reads."""
    query = (
        select(Project).where(Project.status == ProjectStatus.SUBMITTED)
        .options(joinedload(Project.association),
                 joinedload(Project.call).options(selectinload(Call.sectors), selectinload(Call.regions),
                                                  selectinload(Call.required_attachments)),
                 selectinload(Project.budget_lines), selectinload(Project.financing_lines),
                 selectinload(Project.attachments))
    )
    if call_id:
        query = query.where(Project.call_id == call_id)
    return query.order_by(Project.submitted_at, Project.id)


def screenings_of(project_id: int) -> list[Screening]:
    return list(db.session.scalars(
        select(Screening).where(Screening.project_id == project_id)
        .options(joinedload(Screening.officer)).order_by(Screening.at, Screening.id)
    ))
