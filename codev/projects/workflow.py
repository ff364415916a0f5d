"""The project workflow: the whole table of a project's life, in one place, read by the one engine.

:data:`PROJECT` is a :class:`codev.core.workflow.Workflow`; each row says from which statuses to which
one, which roles may fire it (and whether the person must belong to the project's association), whether
a message is required, which checks must all pass (each returns the problems in words), and what else
happens on the way (the reference at the first submission). The rows of the later steps are here too,
so the table reads as DESIGN.md's workflow; the rules those steps own (the consolidated result of the
evaluations) are attached to their rows by name when the app is built (``codev.reviews.workflow``).
Nothing but :meth:`~codev.core.workflow.Workflow.fire` assigns ``project.status``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from flask_babel import format_datetime

from codev.accounts.assisted import acts_for
from codev.accounts.models import AssociationStatus, Role
from codev.calls.models import ATTACHMENT_KIND_LABELS, AttachmentKind
from codev.calls.rules import PlanFigures, check_plan
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.core.workflow import (
    MESSAGE_OPTIONAL,
    MESSAGE_REQUIRED,
    SYSTEM_ROLE,
    Transition,
    Workflow,
    row,
)
from codev.core.workflow import register as register_workflow
from codev.extensions import db
from codev.projects.models import FundingSource, Project, ProjectEvent, ProjectStatus
from codev.projects.references import next_reference

S = ProjectStatus


class ProjectError(DomainError):
    """A refused operation on a project; ``str(error)`` is meant for the person."""


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


def own_association(project: Project, user: Any) -> bool:
    """The person is a member of the project's association."""
    return user.role == Role.ASSOCIATION and user.association_id == project.association_id


def own_or_acting(project: Project, user: Any) -> bool:
    """A member, or an officer acting for an association filed by the ministry (until its hand-over)."""
    return own_association(project, user) or acts_for(user, project.association_id)


def write_history(project: Project, transition: Transition, source: str, user: Any,
                  message: str | None) -> ProjectEvent:
    """The project's history entry (the association reads it; the consolidation names nobody)."""
    event = ProjectEvent(project=project, actor_id=getattr(user, "id", None), action=transition.name,
                         from_status=source, to_status=transition.target, message=message)
    db.session.add(event)
    return event


def touch(project: Project) -> None:
    project.updated_at = utcnow()


ASSOCIATION, OFFICER, APPROVER = Role.ASSOCIATION, Role.OFFICER, Role.APPROVER
DECIDERS = (OFFICER, APPROVER)

TRANSITIONS: tuple[Transition, ...] = (
    # the association applies
    row("submitted", {S.DRAFT, S.RETURNED}, S.SUBMITTED, {ASSOCIATION, OFFICER}, _l("Submit the project"),
        refused=_l("The project cannot be submitted yet:"), guard=own_or_acting,
        checks=SUBMISSION_CHECKS, effects=(assign_reference, stamp_submission)),
    row("withdrawn", {S.DRAFT, S.SUBMITTED, S.RETURNED}, S.WITHDRAWN, {ASSOCIATION}, _l("Withdraw the project"),
        guard=own_association, message=MESSAGE_OPTIONAL),
    # screening (the officer): returned for changes, eligible (in review) or ineligible
    row("returned", {S.SUBMITTED}, S.RETURNED, {OFFICER}, _l("Return for changes"), message=MESSAGE_REQUIRED),
    row("screened_eligible", {S.SUBMITTED}, S.IN_REVIEW, {OFFICER}, _l("Declare eligible")),
    row("screened_ineligible", {S.SUBMITTED}, S.INELIGIBLE, {OFFICER}, _l("Declare ineligible"),
        message=MESSAGE_REQUIRED),
    # qualification, fired by the consolidation of the evaluations (its check is attached by reviews)
    row("qualified", {S.IN_REVIEW}, S.QUALIFIED, {OFFICER}, _l("Qualify"),
        refused=_l("The project cannot be qualified:")),
    row("not_qualified", {S.IN_REVIEW}, S.NOT_QUALIFIED, {OFFICER}, _l("Do not qualify"),
        refused=_l("The project cannot be declared not qualified:")),
    # the committee decides, always with the reason; a deferred project comes back before a later session,
    # or is funded from the reserve list of a closed session when money returns to the envelope
    row("approved", {S.QUALIFIED, S.DEFERRED}, S.APPROVED, DECIDERS, _l("Approve"), message=MESSAGE_REQUIRED),
    row("rejected", {S.QUALIFIED, S.DEFERRED}, S.REJECTED, DECIDERS, _l("Reject"), message=MESSAGE_REQUIRED),
    row("deferred", {S.QUALIFIED}, S.DEFERRED, DECIDERS, _l("Defer to a later session"), message=MESSAGE_REQUIRED),
    # the grant: approval funds the project; the final report and the last tranche complete it
    row("funded", {S.APPROVED}, S.FUNDED, {APPROVER}, _l("Approve the grant"),
        refused=_l("The grant cannot be approved:")),
    row("completed", {S.FUNDED}, S.COMPLETED, DECIDERS, _l("Complete the project"),
        refused=_l("The project cannot be completed yet:")),
    # its grant lapsed (the nightly job, or an officer) or was cancelled (an approver)
    row("lapsed", {S.FUNDED}, S.LAPSED, {SYSTEM_ROLE, OFFICER, APPROVER}, _l("The grant lapsed"),
        message=MESSAGE_OPTIONAL),
    # the file is closed: after the final report, or after the grant lapsed or was cancelled
    row("closed", {S.COMPLETED, S.LAPSED}, S.CLOSED, DECIDERS, _l("Close the project"), message=MESSAGE_OPTIONAL),
)

PROJECT = Workflow(
    name="project", states=ProjectStatus, initial=frozenset({S.DRAFT}), transitions=TRANSITIONS,
    history=write_history, stamp=touch,
    audit_extra=lambda project: {"reference": project.reference},
    stale=_l("Someone else saved this project meanwhile. Reload the page to see their changes, then make yours again."),
)
register_workflow(PROJECT)


def find_transition(source: str, target: str) -> Transition | None:
    return PROJECT.find(source, target)


def may_fire(transition: Transition, project: Project, user: Any) -> bool:
    """Whether ``user`` holds a role (and a membership) that lets them fire ``transition``."""
    return PROJECT.may_fire(transition, project, user)


def available(project: Project, user: Any) -> list[Transition]:
    """The transitions ``user`` may try from the project's current status (checks not run)."""
    return PROJECT.available(project, user)


def problems_for(project: Project, target: ProjectStatus) -> list[str]:
    """What stands in the way of moving ``project`` to ``target`` (empty when nothing does)."""
    return PROJECT.problems_for(project, target)


def fire(project: Project, to_status: ProjectStatus, user: Any, message: str | None = None) -> ProjectEvent:
    """Move ``project`` to ``to_status`` through the engine; returns the history entry. The caller commits."""
    return PROJECT.fire(project, to_status, user, message)
