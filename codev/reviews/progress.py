"""Where a project stands in its study, as its association sees it: screened → in review → decided.

The association reads the dates of each step and, once the committee has decided, the decision and its
reasons (with the conditions and the amount proposed). It never reads who evaluated the project, nor
any score: neither the evaluators' nor the consolidated one, nor the rank. Ministry roles get a link to
the committee session that decided instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import format_date
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from codev.core.i18n import gettext as _
from codev.core.money import format_xof
from codev.extensions import db
from codev.projects.models import Project, ProjectEvent, ProjectStatus
from codev.projects.services import is_member
from codev.reviews.models import CommitteeDecision, DecisionOutcome

S = ProjectStatus
# Statuses after a submission that the study has taken up (a returned or withdrawn project is not).
STUDIED = frozenset({
    S.SUBMITTED, S.INELIGIBLE, S.IN_REVIEW, S.QUALIFIED, S.NOT_QUALIFIED, S.APPROVED, S.REJECTED,
    S.DEFERRED, S.FUNDED, S.COMPLETED, S.CLOSED,
})
SCREENED = frozenset({S.IN_REVIEW, S.INELIGIBLE})
REVIEWED = frozenset({S.QUALIFIED, S.NOT_QUALIFIED})
DECIDED = frozenset({S.APPROVED, S.REJECTED, S.DEFERRED})
AFTER_DECISION = DECIDED | {S.FUNDED, S.COMPLETED, S.CLOSED}

DONE, CURRENT, TODO, STOPPED = "done", "current", "todo", "stopped"


@dataclass(frozen=True)
class StepView:
    label: str
    state: str  # done / current / todo / stopped (the study ended at an earlier step)
    date: str = ""
    note: str = ""


def _last(events: list[ProjectEvent], targets: frozenset[ProjectStatus]) -> ProjectEvent | None:
    return next((e for e in reversed(events) if e.to_status in targets), None)


def _date(event: ProjectEvent | None) -> str:
    return format_date(event.at, "long") if event is not None else ""


def steps(project: Project) -> list[StepView]:
    """The three steps of the study with their dates, from the project's history."""
    status, events = ProjectStatus(project.status), list(project.events)
    screened, reviewed, decided = _last(events, SCREENED), _last(events, REVIEWED), _last(events, DECIDED)
    if status == S.SUBMITTED:
        return [StepView(_("Admissibility check"), CURRENT, note=_("The ministry is checking the application.")),
                StepView(_("Evaluation"), TODO), StepView(_("Committee decision"), TODO)]
    if status == S.INELIGIBLE:
        return [StepView(_("Admissibility check"), DONE, _date(screened), _("Not admissible")),
                StepView(_("Evaluation"), STOPPED), StepView(_("Committee decision"), STOPPED)]
    first = StepView(_("Admissibility check"), DONE, _date(screened), _("Admissible"))
    if status == S.IN_REVIEW:
        return [first, StepView(_("Evaluation"), CURRENT, _date(screened),
                                _("Partner structures are studying the project.")),
                StepView(_("Committee decision"), TODO)]
    if status == S.NOT_QUALIFIED:
        return [first, StepView(_("Evaluation"), DONE, _date(reviewed), _("Not qualified")),
                StepView(_("Committee decision"), STOPPED)]
    second = StepView(_("Evaluation"), DONE, _date(reviewed), _("Qualified"))
    if status == S.QUALIFIED:
        return [first, second, StepView(_("Committee decision"), CURRENT,
                                        note=_("The project awaits the selection committee."))]
    note = _("Deferred to a later session") if status == S.DEFERRED else ""
    return [first, second, StepView(_("Committee decision"), DONE, _date(decided), note)]


def latest_decision(project: Project) -> CommitteeDecision | None:
    return db.session.scalar(
        select(CommitteeDecision).where(CommitteeDecision.project_id == project.id)
        .options(joinedload(CommitteeDecision.session))
        .order_by(CommitteeDecision.decided_at.desc(), CommitteeDecision.id.desc()).limit(1)
    )


def decision_view(decision: CommitteeDecision) -> dict:
    """What the association reads of a decision: outcome, reasons, conditions, amount, date."""
    return {
        "outcome": DecisionOutcome(decision.outcome).label,
        # the badge's colour: an approval with conditions is still an approval
        "outcome_code": "approved" if decision.outcome == DecisionOutcome.CONDITIONALLY_APPROVED
        else str(decision.outcome),
        "reason": decision.reason,
        "conditions": decision.conditions or "",
        "amount": format_xof(decision.amount_proposed_xof) if decision.amount_proposed_xof else "",
        "date": format_date(decision.session.held_on, "long"),
    }


def review_progress(project: Project) -> dict | None:
    """The partial's data for the person reading the project page (None: nothing to show them)."""
    user: Any = current_user
    if project.status not in STUDIED or not getattr(user, "is_authenticated", False):
        return None
    if is_member(user, project):
        decision = latest_decision(project) if project.status in AFTER_DECISION else None
        return {"for_member": True, "steps": steps(project),
                "decision": decision_view(decision) if decision is not None else None}
    if user.is_ministry:
        decision = latest_decision(project)
        if decision is None:
            return None
        return {"for_member": False, "decision": decision_view(decision),
                "url": url_for("reviews.committee.session", session_id=decision.session_id,
                               project=project.id, _anchor=f"project-{project.id}")}
    return None
