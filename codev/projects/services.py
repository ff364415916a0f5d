"""State changes of projects: start, the steps of the form, attachments, submission, return, withdrawal.

Who may see or change a project is decided here too (``can_view``, ``can_edit``,
``get_project_or_404``), in one place. Services check, mutate, write the audit event and the project's
history, and flush; they never commit, flash or read ``request``. A refused operation raises
:class:`ProjectError` (or :class:`TransitionRefused` with the list of problems); its message is meant
for the person. Status changes go through :func:`codev.projects.workflow.fire`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, current_app, has_request_context, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from codev.accounts import assisted as accounts_assisted
from codev.accounts.models import AssociationStatus, Role, User
from codev.calls.models import Call
from codev.calls.rules import RuleCheck, check_plan
from codev.core import audit
from codev.core.geography import commune_by_name
from codev.core.i18n import gettext as _
from codev.core.mail import queue_mail
from codev.core.money import MAX_XOF
from codev.core.sectors import SECTORS
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.projects import assisted
from codev.projects.models import (
    EDITABLE,
    BudgetLine,
    FinancingLine,
    Project,
    ProjectEvent,
    ProjectStatus,
)
from codev.projects.workflow import (
    ProjectError,
    Step,
    fire,
    mark_step_done,
    plan_figures,
)

MAX_BUDGET_LINES = 200
MAX_FINANCING_LINES = 50


class StaleProject(ProjectError):
    """Another member saved the project since this person loaded it."""

    def __init__(self) -> None:
        super().__init__(
            _("Someone else saved this project meanwhile. Reload the page to see their changes, then make yours again.")
        )


# --- who may do what -------------------------------------------------------------------------


def is_member(user: Any, project: Project) -> bool:
    """``user`` is a member of the association that carries ``project``."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role == Role.ASSOCIATION and user.association_id == project.association_id


# Which projects an evaluator sees is the reviews' to say (a later step of the programme): it gives its
# rule when the app is built (``allow_evaluators``); until then an evaluator sees none.
_EVALUATOR_RULES: list[Callable[[Any, Project], bool]] = []


def allow_evaluators(rule: Callable[[Any, Project], bool]) -> None:
    """The reviews' rule of which projects an evaluator may see (``rule(user, project)``)."""
    if rule not in _EVALUATOR_RULES:
        _EVALUATOR_RULES.append(rule)


def can_view(user: Any, project: Project) -> bool:
    """Ministry roles see every project; members see their association's; evaluators the ones assigned to
    them, once they have declared no conflict of interest (the reviews' rule, ``allow_evaluators``)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_ministry:
        return True
    if user.role == Role.EVALUATOR:
        return any(rule(user, project) for rule in _EVALUATOR_RULES)
    return is_member(user, project)


def acts_for(user: Any, project: Project) -> bool:
    """An officer filing the application of an association on its behalf, until the association is handed over."""
    return accounts_assisted.acts_for(user, project.association_id)


def can_edit(user: Any, project: Project) -> bool:
    """Members edit their association's application while it is a draft or returned (or the officer acting for
    an association filed by the ministry, until its hand-over)."""
    return (is_member(user, project) or acts_for(user, project)) and project.status in EDITABLE


def can_download(user: Any, project: Project) -> bool:
    """Whoever may see the project may download its files."""
    return can_view(user, project)


def get_project_or_404(project_id: int, user: Any = None) -> Project:
    """The project with everything its pages show; 404 when missing or not visible to ``user``.

    404 rather than 403: a member of another association may not even learn that the project exists.
    """
    project = db.session.scalar(
        select(Project)
        .where(Project.id == project_id)
        .options(
            joinedload(Project.association),
            joinedload(Project.call),
            selectinload(Project.budget_lines),
            selectinload(Project.financing_lines),
            selectinload(Project.attachments),
            selectinload(Project.events),
        )
    )
    if project is None or (user is not None and not can_view(user, project)):
        abort(404)
    return project


def get_own_project_or_404(project_id: int, user: Any) -> Project:
    """A project of ``user``'s association (404 for everybody else, ministry included)."""
    project = get_project_or_404(project_id, user)
    if not is_member(user, project):
        abort(404)
    return project


def get_editable_project_or_404(project_id: int, user: Any) -> Project:
    """A project ``user`` fills in: their association's, or one an officer files on an association's behalf."""
    project = get_project_or_404(project_id, user)
    if not (is_member(user, project) or acts_for(user, project)):
        abort(404)
    return project


def _require_editable(project: Project, user: Any) -> None:
    if not (is_member(user, project) or acts_for(user, project)):
        raise ProjectError(_("Only the members of the association can change its project."))
    if project.status not in EDITABLE:
        raise ProjectError(
            _("This project is “%(state)s”: it can no longer be changed.", state=ProjectStatus(project.status).label)
        )


def _check_version(project: Project, expected: Any) -> None:
    if str(project.version) != str(expected):
        raise StaleProject()


def _flush() -> None:
    """Flush; a concurrent save detected by the version counter becomes a message, not a 500."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise StaleProject() from exc


def _touch(project: Project) -> None:
    project.updated_at = utcnow()  # makes the row dirty, so the version counter moves


# --- starting ---------------------------------------------------------------------------------


def start_problems(call: Call, user: Any) -> list[str]:
    """Why ``user`` may not start a project on ``call`` (empty when they may)."""
    problems = []
    association = getattr(user, "association", None)
    if getattr(user, "role", None) != Role.ASSOCIATION or association is None:
        problems.append(_("Only members of an association can start a project."))
    elif association.status != AssociationStatus.VERIFIED:
        problems.append(_("Your association must be verified by the ministry before it can start a project."))
    if not call.is_accepting():
        problems.append(_("This call is not accepting projects."))
    return problems


def start_project(call: Call, user: User, title: str) -> Project:
    """A new draft on ``call`` for the member's association."""
    problems = start_problems(call, user)
    if problems:
        raise ProjectError(" ".join(problems), field="title")
    project = Project(
        association_id=user.association_id, call_id=call.id, title=title,  # a draft, the status's default
        created_by_id=user.id, requested_grant_xof=0, steps_done="",
    )
    db.session.add(project)
    db.session.flush()
    db.session.add(ProjectEvent(project_id=project.id, actor_id=user.id, action="created", to_status="draft"))
    audit.record("project.created", project, actor=user, after={"title": title, "call_id": call.id})
    db.session.flush()
    return project


# --- the steps --------------------------------------------------------------------------------

STEP_FIELDS = {
    Step.GENERAL: ("title", "sector", "summary", "led_by_women"),
    Step.LOCATION: (
        "region", "prefecture", "commune", "village",
        "local_partner_name", "local_partner_kind", "local_partner_commitment",
    ),
    Step.DESCRIPTION: (
        "problem", "objectives", "activities", "beneficiaries_total", "beneficiaries_women",
        "beneficiaries_youth", "start_date", "duration_months",
    ),
}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def step_data(project: Project, step: Step) -> dict:
    return {name: getattr(project, name) for name in STEP_FIELDS[step]}


def save_step(project: Project, step: Step, data: dict, user: User, version: Any) -> None:
    """Save the fields of one of the first three steps and mark the step done."""
    _require_editable(project, user)
    _check_version(project, version)
    if step is Step.GENERAL:
        _check_sector(project.call, data["sector"])
    if step is Step.LOCATION:
        data = {**data, **_place(project.call, data["commune"])}
    if step is Step.DESCRIPTION:
        _check_beneficiaries(data)
    before = {name: _plain(getattr(project, name)) for name in STEP_FIELDS[step]}
    for name in STEP_FIELDS[step]:
        setattr(project, name, data[name])
    mark_step_done(project, step)
    _touch(project)
    audit.record(f"project.step.{step}", project, actor=user, before=before,
                 after={name: _plain(data[name]) for name in STEP_FIELDS[step]})
    _flush()


def eligible_sectors(call: Call) -> list[str]:
    return call.sector_codes or [s.code for s in SECTORS]


def _check_sector(call: Call, sector: str | None) -> None:
    if sector not in eligible_sectors(call):
        raise ProjectError(_("The call does not fund projects of this sector: choose one of its sectors."))


def _place(call: Call, name: str | None) -> dict:
    """Region and prefecture of the commune ``name``, checked against the call's regions."""
    commune = commune_by_name(name)
    if commune is None:
        raise ProjectError(_("Choose the commune from the list of Togo's communes."))
    if call.region_codes and commune.region_code not in call.region_codes:
        raise ProjectError(
            _("The call does not fund projects in the region %(region)s: choose a commune of an eligible region.",
              region=commune.region_name)
        )
    return {"commune": commune.name, "prefecture": commune.prefecture, "region": commune.region_code}


def _check_beneficiaries(data: dict) -> None:
    total = data.get("beneficiaries_total")
    for key in ("beneficiaries_women", "beneficiaries_youth"):
        if total is not None and data.get(key) is not None and data[key] > total:
            raise ProjectError(_("Women and young people cannot be more than the total number of beneficiaries."))


@dataclass(frozen=True)
class BudgetLineData:
    category: str
    description: str
    quantity: int
    unit_cost_xof: int

    @property
    def amount_xof(self) -> int:
        return self.quantity * self.unit_cost_xof


@dataclass(frozen=True)
class FinancingLineData:
    source: str
    description: str | None
    currency: str
    amount_minor: int  # cents of the currency (francs for XOF)
    rate_millionths: int
    amount_xof: int


def too_many_budget_lines() -> str:
    return _("A budget has at most %(n)s lines: group similar costs into one line.", n=MAX_BUDGET_LINES)


def save_budget(project: Project, lines: list[BudgetLineData], user: User, version: Any) -> None:
    """Replace the budget lines (amounts are quantity × unit cost, whole francs)."""
    _require_editable(project, user)
    _check_version(project, version)
    if not lines:
        raise ProjectError(_("Add at least one budget line."))
    if len(lines) > MAX_BUDGET_LINES:
        raise ProjectError(too_many_budget_lines())
    if any(line.quantity <= 0 or line.unit_cost_xof <= 0 or line.amount_xof > MAX_XOF for line in lines):
        raise ProjectError(_("Each line needs a quantity and a unit cost greater than zero, and a sensible amount."))
    before = sum(line.amount_xof for line in project.budget_lines)
    project.budget_lines = [
        BudgetLine(position=i, category=line.category, description=line.description, quantity=line.quantity,
                   unit_cost_xof=line.unit_cost_xof, amount_xof=line.amount_xof)
        for i, line in enumerate(lines)
    ]
    mark_step_done(project, Step.BUDGET)
    _touch(project)
    audit.record("project.step.budget", project, actor=user, before={"total": before},
                 after={"total": sum(line.amount_xof for line in lines), "lines": len(lines)})
    _flush()


def save_financing(
    project: Project, lines: list[FinancingLineData], requested_grant: int, user: User, version: Any
) -> list[RuleCheck]:
    """Replace the financing plan and the requested grant; returns the rules, met or not."""
    _require_editable(project, user)
    _check_version(project, version)
    if len(lines) > MAX_FINANCING_LINES:
        raise ProjectError(_("A financing plan has at most %(n)s lines.", n=MAX_FINANCING_LINES))
    if requested_grant <= 0 or requested_grant > MAX_XOF:
        raise ProjectError(_("Enter the grant you ask for, in francs CFA."))
    if any(line.amount_minor <= 0 or line.amount_xof <= 0 for line in lines):
        raise ProjectError(_("Each line of the plan needs an amount greater than zero."))
    before = {"grant": project.requested_grant_xof, "total": sum(line.amount_xof for line in project.financing_lines)}
    project.financing_lines = [
        FinancingLine(position=i, source=line.source, description=line.description, currency=line.currency,
                      amount_minor=line.amount_minor, rate_millionths=line.rate_millionths,
                      amount_xof=line.amount_xof)
        for i, line in enumerate(lines)
    ]
    project.requested_grant_xof = requested_grant
    mark_step_done(project, Step.FINANCING)
    _touch(project)
    audit.record("project.step.financing", project, actor=user, before=before,
                 after={"grant": requested_grant, "total": sum(line.amount_xof for line in lines)})
    _flush()
    return check_plan(project.call, plan_figures(project))


# --- transitions ------------------------------------------------------------------------------


def project_url(project: Project) -> str:
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for("projects.detail", project_id=project.id, _external=True)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/projects/{project.id}"


def _members(project: Project) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.association_id == project.association_id, User.role == Role.ASSOCIATION,
                           User.active.is_(True)).order_by(User.id)
    ))


def _officers() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.role == Role.OFFICER, User.active.is_(True)).order_by(User.id)
    ))


def _mail_all(users: list[User], template: str, project: Project, **context: Any) -> None:
    values = {
        "title": project.title, "reference": project.reference, "url": project_url(project),
        "association": project.association.display_name, **context,
    }
    for person in users:
        queue_mail(person.email, person.locale, template, name=person.name, **values)


def submit_project(project: Project, user: User) -> ProjectEvent:
    """Submit (or resubmit) the application: every check, the reference, emails to members and officers."""
    resubmission = project.status == ProjectStatus.RETURNED
    event = fire(project, ProjectStatus.SUBMITTED, user)
    assisted.mark_submitted(project, user)  # an officer acting for the association: who and when
    _mail_all(_members(project), "project_submitted", project, resubmission=resubmission)
    _mail_all(_officers(), "project_submitted_officer", project, resubmission=resubmission)
    return event


def return_project(project: Project, user: User, message: str) -> ProjectEvent:
    """An officer sends the application back to the association with what to change."""
    event = fire(project, ProjectStatus.RETURNED, user, message)
    _mail_all(_members(project), "project_returned", project, message=event.message)
    return event


def withdraw_project(project: Project, user: User, reason: str | None) -> ProjectEvent:
    """The association withdraws its project (before any decision)."""
    was_submitted = project.status != ProjectStatus.DRAFT
    event = fire(project, ProjectStatus.WITHDRAWN, user, reason)
    if was_submitted:
        _mail_all(_officers(), "project_withdrawn", project, message=event.message)
    return event
