"""The project workflow as data: one table of transitions, read by one function, :func:`fire`.

Each :class:`Transition` says from which statuses to which one, which roles may fire it (and whether
the person must belong to the project's association), whether a message is required, which checks
must all pass (each returns the problems in words), and what else happens on the way (the reference
at the first submission). Nothing else in the code assigns ``project.status``. The next steps of the
programme (screening, evaluation, decisions) add rows to :data:`TRANSITIONS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from codev.accounts.models import AssociationStatus, Role
from codev.calls.models import ATTACHMENT_KIND_LABELS, AttachmentKind
from codev.calls.rules import PlanFigures, check_plan
from codev.core import audit
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db
from codev.projects.models import FundingSource, Project, ProjectEvent, ProjectStatus
from codev.projects.references import next_reference

S = ProjectStatus


class ProjectError(DomainError):
    """A refused operation on a project; ``str(error)`` is meant for the person."""


class TransitionRefused(ProjectError):
    """A transition whose checks failed; ``problems`` (from DomainError) lists each one in words."""


# --- the steps of the application form ---------------------------------------------------------


class Step(StrEnum):
    GENERAL = "general"
    LOCATION = "location"
    DESCRIPTION = "description"
    BUDGET = "budget"
    FINANCING = "financing"
    ATTACHMENTS = "attachments"

    @property
    def label(self) -> str:
        return str(STEP_LABELS[self])

    @property
    def todo(self) -> str:
        """What to do next, in words, when this step is the first one not done."""
        return str(STEP_TODO[self])


STEP_LABELS = {
    Step.GENERAL: _l("General information"),
    Step.LOCATION: _l("Location and local partner"),
    Step.DESCRIPTION: _l("Description and beneficiaries"),
    Step.BUDGET: _l("Budget"),
    Step.FINANCING: _l("Financing plan"),
    Step.ATTACHMENTS: _l("Attachments"),
}

STEP_TODO = {
    Step.GENERAL: _l("Complete the general information"),
    Step.LOCATION: _l("Give the location and the local partner"),
    Step.DESCRIPTION: _l("Describe the project and its beneficiaries"),
    Step.BUDGET: _l("Add the budget lines"),
    Step.FINANCING: _l("Complete the financing plan"),
    Step.ATTACHMENTS: _l("Add the attachments"),
}

# "Add a quote": the next step when a document the call requires is missing.
ADD_DOCUMENT = {
    AttachmentKind.PARTNERSHIP: _l("Add the partnership agreement with the local partner"),
    AttachmentKind.QUOTE: _l("Add a quote"),
    AttachmentKind.TECHNICAL: _l("Add the technical file"),
    AttachmentKind.COMMUNE_LETTER: _l("Add the commune's letter of support"),
    AttachmentKind.PROOF_OF_FUNDS: _l("Add a proof of the association's funds"),
    AttachmentKind.PHOTO: _l("Add a photo of the site"),
    AttachmentKind.OTHER: _l("Add the other document"),
}


def steps_done(project: Project) -> set[str]:
    return {s for s in (project.steps_done or "").split(",") if s}


def mark_step_done(project: Project, step: Step) -> None:
    done = steps_done(project) | {str(step)}
    project.steps_done = ",".join(s for s in Step if s in done)


def first_step_to_do(project: Project) -> Step | None:
    done = steps_done(project)
    return next((s for s in Step if s not in done), None)


def add_document_phrase(kind: str) -> str:
    try:
        return str(ADD_DOCUMENT[AttachmentKind(kind)])
    except ValueError:
        return _("Add the document: %(kind)s", kind=kind)


def kind_label(kind: str) -> str:
    try:
        return str(ATTACHMENT_KIND_LABELS[AttachmentKind(kind)])
    except ValueError:
        return kind


# --- figures of the plan -----------------------------------------------------------------------


def plan_figures(project: Project) -> PlanFigures:
    """The saved budget and financing plan of ``project`` as the rules read them (whole XOF)."""
    by_source = dict.fromkeys(FundingSource, 0)
    for line in project.financing_lines:
        by_source[FundingSource(line.source)] += line.amount_xof
    return PlanFigures(
        total_budget=sum(line.amount_xof for line in project.budget_lines),
        association_cash=by_source[FundingSource.ASSOCIATION_CASH],
        association_in_kind=by_source[FundingSource.ASSOCIATION_IN_KIND],
        community=by_source[FundingSource.COMMUNITY],
        commune=by_source[FundingSource.COMMUNE],
        other=by_source[FundingSource.OTHER],
        requested_grant=project.requested_grant_xof or 0,
    )


# --- checks: each returns the problems in words (an empty list when all is well) ----------------

Check = Callable[[Project], list[str]]


def association_verified(project: Project) -> list[str]:
    if project.association.status == AssociationStatus.VERIFIED:
        return []
    return [_("Your association must be verified by the ministry before it can submit a project.")]


def call_accepting(project: Project) -> list[str]:
    call = project.call
    if call.is_accepting():
        return []
    if call.closes_at is not None and call.closes_at <= utcnow():
        return [_("The call closed on %(date)s: projects can no longer be submitted to it.",
                  date=format_datetime(call.closes_at, "medium"))]
    return [_("The call is not open for submissions.")]


def steps_complete(project: Project) -> list[str]:
    done = steps_done(project)
    return [_("Complete the step “%(step)s”.", step=step.label) for step in Step if step not in done]


def eligible_place_and_sector(project: Project) -> list[str]:
    call, problems = project.call, []
    if project.sector and call.sector_codes and project.sector not in call.sector_codes:
        problems.append(_("The call does not fund projects of this sector: choose one of its sectors."))
    if project.region and call.region_codes and project.region not in call.region_codes:
        problems.append(_("The call does not fund projects in this region: choose a commune of an eligible region."))
    return problems


def required_attachments(project: Project) -> list[str]:
    present = {a.kind for a in project.attachments}
    return [
        _("Attach the required document: %(kind)s.", kind=kind_label(kind))
        for kind in project.call.required_kinds
        if kind not in present
    ]


def plan_rules(project: Project) -> list[str]:
    return [check.message for check in check_plan(project.call, plan_figures(project)) if not check.ok]


SUBMISSION_CHECKS: tuple[Check, ...] = (
    association_verified,
    call_accepting,
    steps_complete,
    eligible_place_and_sector,
    required_attachments,
    plan_rules,
)


# --- effects: what else happens when a transition fires ----------------------------------------


def assign_reference(project: Project) -> None:
    """The reference is given at the first submission only, and kept ever after."""
    if project.reference is None:
        project.reference = next_reference(utcnow().year)


def stamp_submission(project: Project) -> None:
    project.submitted_at = utcnow()


# --- the table ---------------------------------------------------------------------------------

MESSAGE_NONE, MESSAGE_OPTIONAL, MESSAGE_REQUIRED = "none", "optional", "required"


@dataclass(frozen=True)
class Transition:
    name: str  # the action written to the history and the audit log
    sources: frozenset[ProjectStatus]
    target: ProjectStatus
    roles: frozenset[str]
    label: Any  # lazy string: the button
    refused: Any = _l("This change is not possible yet:")  # lazy string: heads the list of problems
    own_association: bool = False  # the person must be a member of the project's association
    message: str = MESSAGE_NONE
    checks: tuple[Check, ...] = ()
    effects: tuple[Callable[[Project], None], ...] = field(default=())


TRANSITIONS: list[Transition] = [
    Transition(
        "submitted", frozenset({S.DRAFT, S.RETURNED}), S.SUBMITTED, frozenset({Role.ASSOCIATION}),
        _l("Submit the project"), _l("The project cannot be submitted yet:"), own_association=True,
        checks=SUBMISSION_CHECKS,
        effects=(assign_reference, stamp_submission),
    ),
    Transition(
        "returned", frozenset({S.SUBMITTED}), S.RETURNED, frozenset({Role.OFFICER}),
        _l("Return for changes"), message=MESSAGE_REQUIRED,
    ),
    Transition(
        "withdrawn", frozenset({S.DRAFT, S.SUBMITTED, S.RETURNED}), S.WITHDRAWN, frozenset({Role.ASSOCIATION}),
        _l("Withdraw the project"), own_association=True, message=MESSAGE_OPTIONAL,
    ),
]


def register(*transitions: Transition) -> None:
    """Add the rows of a later step of the programme (reviews, grants) to the one table.

    Called at import time by ``codev.reviews.workflow`` and ``codev.grants.workflow``; a row whose
    (sources, target) pair is already in the table is refused, so two steps cannot disagree.
    """
    for transition in transitions:
        if transition in TRANSITIONS:
            continue
        for source in transition.sources:
            if find_transition(source, transition.target) is not None:
                raise ValueError(f"transition {source} → {transition.target} is already in the table")
        TRANSITIONS.append(transition)


def find_transition(source: str, target: str) -> Transition | None:
    return next((t for t in TRANSITIONS if source in t.sources and t.target == target), None)


def may_fire(transition: Transition, project: Project, user: Any) -> bool:
    """Whether ``user`` holds a role (and a membership) that lets them fire ``transition``."""
    if not getattr(user, "is_authenticated", False) or user.role not in transition.roles:
        return False
    if transition.own_association:
        return user.role == Role.ASSOCIATION and user.association_id == project.association_id
    return True


def available(project: Project, user: Any) -> list[Transition]:
    """The transitions ``user`` may try from the project's current status (checks not run)."""
    return [t for t in TRANSITIONS if project.status in t.sources and may_fire(t, project, user)]


def problems_for(project: Project, target: ProjectStatus) -> list[str]:
    """What stands in the way of moving ``project`` to ``target`` (empty when nothing does)."""
    transition = find_transition(project.status, target)
    if transition is None:
        return [_("This change is not possible for a project in this state.")]
    return [problem for check in transition.checks for problem in check(project)]


def fire(project: Project, to_status: ProjectStatus, user: Any, message: str | None = None) -> ProjectEvent:
    """Move ``project`` to ``to_status`` if the table allows it; the one place a status changes.

    Raises :class:`TransitionRefused` (with every problem listed) when the move is not allowed.
    Writes the history entry and the audit event and flushes; the caller commits.
    """
    source = str(project.status)
    transition = find_transition(source, to_status)
    if transition is None:
        raise TransitionRefused(
            _("A project in the state “%(state)s” cannot become “%(target)s”.",
              state=S(source).label, target=S(to_status).label)
        )
    if not may_fire(transition, project, user):
        raise TransitionRefused(_("You are not allowed to make this change."))
    message = (message or "").strip() or None
    if transition.message == MESSAGE_REQUIRED and not message:
        raise TransitionRefused(_("Write a message explaining the change."))
    problems = [problem for check in transition.checks for problem in check(project)]
    if problems:
        raise TransitionRefused(str(transition.refused), problems)
    for effect in transition.effects:
        effect(project)
    project.status = transition.target
    project.updated_at = utcnow()
    event = ProjectEvent(
        project=project, actor_id=user.id, action=transition.name,
        from_status=source, to_status=str(transition.target), message=message,
    )
    db.session.add(event)
    audit.record(
        f"project.{transition.name}", project, actor=user,
        before={"status": source}, after={"status": str(transition.target), "reference": project.reference},
    )
    try:
        db.session.flush()
    except StaleDataError as exc:  # another member changed the project between loading and this change
        raise TransitionRefused(
            _("Someone else saved this project meanwhile. Reload the page to see their changes, then make yours again.")
        ) from exc
    return event
