"""The evaluator's work: the conflict-of-interest declaration, the draft, the submission, the consolidation.

An evaluator first declares a conflict (→ recused, officers told) or none (→ accepted). Only then may
they score. A draft keeps whatever is typed; a submission requires every score and a recommendation,
locks the evaluation (the assignment's row is locked first, so two submissions racing each other cannot
both pass; the assignment's status moves through the one engine, :data:`codev.reviews.workflows.ASSIGNMENT`),
refreshes the project's consolidated result, and once the call's minimum of evaluations is in, moves the
project to qualified or not qualified through the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import format_datetime
from sqlalchemy import select

from codev.accounts.models import Role, User
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.i18n import locale_name
from codev.core.mail import queue_mail
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.projects.models import Project, ProjectStatus
from codev.projects.workflow import fire
from codev.reviews.assignments import ReviewError, lock_assignment
from codev.reviews.models import Assignment, AssignmentStatus, CriterionScore, Evaluation, Recommendation
from codev.reviews.scoring import evaluation_score_centi, refresh_result
from codev.reviews.workflows import ASSIGNMENT

A = AssignmentStatus


# --- the declaration ----------------------------------------------------------------------------


def declare(assignment: Assignment, user: User, conflict: bool, note: str | None) -> Assignment:
    """Record the evaluator's declaration: a conflict recuses them (officers emailed), none lets them score."""
    if assignment.evaluator_id != user.id:
        raise ReviewError(_("Only the evaluator assigned can make this declaration."))
    lock_assignment(assignment)
    if assignment.status != A.ASSIGNED:
        raise ReviewError(_("You have already made your declaration for this project."))
    note = (note or "").strip() or None
    assignment.conflict_declared = conflict
    assignment.conflict_note = note
    assignment.declared_at = utcnow()
    ASSIGNMENT.fire(assignment, A.RECUSED if conflict else A.ACCEPTED, user,
                    audit_after={"conflict": conflict, "note": note})
    if conflict:
        project = assignment.project
        officers = db.session.scalars(
            select(User).where(User.role == Role.OFFICER, User.active.is_(True)).order_by(User.id))
        from flask import url_for

        url = url_for("reviews.project", project_id=project.id, _external=True)
        for officer in officers:
            queue_mail(officer.email, officer.locale, "review_recused", name=officer.name, evaluator=user.name,
                       title=project.title, reference=project.reference, note=note, url=url)
    return assignment


# --- scoring ------------------------------------------------------------------------------------


@dataclass
class EvaluationData:
    scores: dict[int, int | None] = field(default_factory=dict)  # criterion id → score (None: not yet)
    comments: dict[int, str | None] = field(default_factory=dict)
    overall_comment: str | None = None
    recommendation: str | None = None


def _check_editable(assignment: Assignment, user: User) -> None:
    if assignment.evaluator_id != user.id:
        raise ReviewError(_("Only the evaluator assigned can score this project."))
    evaluation = assignment.evaluation
    if assignment.status == A.SUBMITTED or (evaluation is not None and evaluation.submitted_at is not None):
        when = evaluation.submitted_at if evaluation is not None and evaluation.submitted_at else None
        if when is not None:
            raise ReviewError(_("This evaluation was submitted on %(date)s: it can no longer be changed.",
                                date=format_datetime(when, "medium")))
        raise ReviewError(_("This evaluation has been submitted: it can no longer be changed."))
    if assignment.status == A.ASSIGNED:
        raise ReviewError(_("Declare first whether you have a conflict of interest with this project."))
    if assignment.status != A.ACCEPTED:
        raise ReviewError(_("This assignment is closed."))


def _problems(assignment: Assignment, data: EvaluationData, complete: bool) -> list[str]:
    problems = []
    for criterion in assignment.project.call.criteria:
        score = data.scores.get(criterion.id)
        if score is None:
            if complete:
                problems.append(_("Give a score for “%(criterion)s”.", criterion=criterion.label(locale_name())))
        elif not 0 <= score <= criterion.max_score:
            problems.append(_("The score of “%(criterion)s” must be a whole number from 0 to %(max)s.",
                              criterion=criterion.label(locale_name()), max=criterion.max_score))
    if data.recommendation is not None and data.recommendation not in {r.value for r in Recommendation}:
        problems.append(_("Choose a recommendation from the list."))
    elif complete and data.recommendation is None:
        problems.append(_("Choose your recommendation."))
    return problems


def save_evaluation(assignment: Assignment, user: User, data: EvaluationData) -> Evaluation:
    """Keep the draft as typed (scores may be missing, never outside the scale)."""
    lock_assignment(assignment)  # a draft saved while the evaluation is being submitted changes nothing
    _check_editable(assignment, user)
    problems = _problems(assignment, data, complete=False)
    if problems:
        raise ReviewError(" ".join(problems))
    evaluation = _write(assignment, data)
    audit.record("review.draft_saved", evaluation, actor=user,
                 after={"scores": {str(k): v for k, v in data.scores.items()}})
    db.session.flush()
    return evaluation


def submit_evaluation(assignment: Assignment, user: User, data: EvaluationData) -> Evaluation:
    """Lock the evaluation, refresh the project's result, and qualify the project once enough are in."""
    lock_assignment(assignment)  # of two submissions racing each other, the second reads the first
    _check_editable(assignment, user)
    problems = _problems(assignment, data, complete=True)
    if problems:
        raise ReviewError(" ".join(problems))
    evaluation = _write(assignment, data)
    criteria = assignment.project.call.criteria
    evaluation.score_centi = evaluation_score_centi(criteria, {k: v for k, v in data.scores.items() if v is not None})
    evaluation.submitted_at = utcnow()
    ASSIGNMENT.fire(assignment, A.SUBMITTED, user)
    audit.record("review.submitted", evaluation, actor=user,
                 after={"score_centi": evaluation.score_centi, "recommendation": evaluation.recommendation})
    consolidate(assignment.project, user)
    return evaluation


def _write(assignment: Assignment, data: EvaluationData) -> Evaluation:
    evaluation = assignment.evaluation
    if evaluation is None:
        evaluation = Evaluation(assignment=assignment)
        db.session.add(evaluation)
    by_criterion = {s.criterion_id: s for s in evaluation.scores}
    for criterion in assignment.project.call.criteria:
        row = by_criterion.get(criterion.id)
        if row is None:
            row = CriterionScore(criterion_id=criterion.id)
            evaluation.scores.append(row)
        row.score = data.scores.get(criterion.id)
        row.comment = (data.comments.get(criterion.id) or "").strip() or None
    evaluation.overall_comment = (data.overall_comment or "").strip() or None
    evaluation.recommendation = data.recommendation
    evaluation.updated_at = utcnow()
    db.session.flush()
    return evaluation


# --- consolidation ------------------------------------------------------------------------------


class _Consolidation:
    """The consolidation of the evaluations, firing the qualification in the officers' stead.

    It carries no person's id, so the project's history (which the association reads) names nobody:
    associations never learn who evaluated their project. The audit log records who triggered it.
    """

    id = None
    role = Role.OFFICER
    is_authenticated = True
    name = "codev"


CONSOLIDATION = _Consolidation()


def consolidate(project: Project, triggered_by: Any) -> ProjectStatus | None:
    """Refresh the result; once enough evaluations are in, fire qualified or not_qualified. Returns the new status."""
    result = refresh_result(project)
    if project.status != ProjectStatus.IN_REVIEW or result.qualified is None:
        return None
    target = ProjectStatus.QUALIFIED if result.qualified else ProjectStatus.NOT_QUALIFIED
    fire(project, target, CONSOLIDATION)
    audit.record("review.consolidated", project, actor=triggered_by,
                 after={"status": str(target), "score_centi": result.score_centi,
                        "eliminated_by": result.eliminated_by, "evaluations": result.evaluations_count})
    db.session.flush()
    return target
