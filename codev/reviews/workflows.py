"""The reviews' tables, read by the one engine (:mod:`codev.core.workflow`): evaluator assignments and
committee sessions.

- **Assignment**: the officer assigns (``assigned``); the evaluator declares no conflict of interest
  (``assigned → accepted``) or a conflict (``assigned → recused``: no access to the project any more);
  the evaluator submits the evaluation (``accepted → submitted``: it is locked); until then the officer
  may take the project back (``assigned | accepted → withdrawn``).
- **Committee session**: ``open → closed`` by an officer or an approver; nothing in it changes after.

The project's own rows fired by the reviews (screening, qualification, the committee's decisions) are
in the project table (:mod:`codev.projects.workflow`); the reviews' checks on them are attached in
:mod:`codev.reviews.workflow`. Nothing but :meth:`~codev.core.workflow.Workflow.fire` assigns the status
of an assignment or of a session.
"""

from __future__ import annotations

from typing import Any

from codev.accounts.models import Role
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.timeutil import utcnow
from codev.core.workflow import Workflow, register, row
from codev.reviews.models import Assignment, AssignmentStatus, CommitteeSession, SessionStatus

A, S = AssignmentStatus, SessionStatus
EVALUATOR, OFFICER, APPROVER = Role.EVALUATOR, Role.OFFICER, Role.APPROVER


# --- assignments ---------------------------------------------------------------------------------


def own_assignment(assignment: Assignment, user: Any) -> bool:
    """The person is the evaluator the project was assigned to."""
    return assignment.evaluator_id == getattr(user, "id", None)


def conflict_declared(assignment: Assignment) -> list[str]:
    """A recusal rests on a declared conflict of interest."""
    if assignment.conflict_declared is True:
        return []
    return [_("The declaration of a conflict of interest is missing.")]


def no_conflict_declared(assignment: Assignment) -> list[str]:
    """Access to the project rests on a declaration of no conflict of interest."""
    if assignment.conflict_declared is False:
        return []
    return [_("The declaration of no conflict of interest is missing.")]


def evaluation_complete(assignment: Assignment) -> list[str]:
    """Only a complete evaluation (its score computed, a recommendation chosen) is submitted."""
    evaluation = assignment.evaluation
    if evaluation is None or evaluation.score_centi is None or evaluation.recommendation is None:
        return [_("Give every score and your recommendation before submitting the evaluation.")]
    return []


ASSIGNMENT = Workflow(
    name="assignment", states=AssignmentStatus, initial=frozenset({A.ASSIGNED}),
    transitions=(
        row("accepted", {A.ASSIGNED}, A.ACCEPTED, {EVALUATOR},
            _l("I have no conflict of interest with this project or its association"),
            guard=own_assignment, checks=(no_conflict_declared,)),
        row("recused", {A.ASSIGNED}, A.RECUSED, {EVALUATOR},
            _l("I have a conflict of interest: I withdraw from this evaluation"),
            guard=own_assignment, checks=(conflict_declared,)),
        row("submitted", {A.ACCEPTED}, A.SUBMITTED, {EVALUATOR}, _l("Submit the evaluation"),
            refused=_l("The evaluation cannot be submitted yet:"), guard=own_assignment,
            checks=(evaluation_complete,)),
        row("withdrawn", {A.ASSIGNED, A.ACCEPTED}, A.WITHDRAWN, {OFFICER}, _l("Withdraw")),
    ),
    audit_extra=lambda assignment: {"project_id": assignment.project_id, "evaluator_id": assignment.evaluator_id},
)


# --- committee sessions --------------------------------------------------------------------------


def stamp_closing(session: CommitteeSession) -> None:
    session.closed_at = utcnow()


SESSION = Workflow(
    name="committee_session", states=SessionStatus, initial=frozenset({S.OPEN}),
    transitions=(
        row("closed", {S.OPEN}, S.CLOSED, {OFFICER, APPROVER}, _l("Save and close the session"),
            effects=(stamp_closing,)),
    ),
    audit_extra=lambda session: {"call_id": session.call_id,
                                 "closed_at": session.closed_at.isoformat() if session.closed_at else None},
)

register(ASSIGNMENT, SESSION)
