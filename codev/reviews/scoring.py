"""Score arithmetic: one evaluation's score, a project's consolidated result, the ReviewResult row.

Everything is integer arithmetic (no float ever holds a score). Scores are kept in hundredths of a
point out of 100 (``7350`` = 73.50 / 100) and rounded half-up once, at the end of each computation.

- One evaluation: ``Σ weight × score / max_score`` over the call's grid, out of 100. The weights of a
  call add up to 100; should they not, the sum is scaled by ``100 / Σ weight`` so it stays out of 100.
  A criterion without a score (a draft) counts 0.
- A project: the mean of its *submitted* evaluations' scores (drafts, recused and withdrawn
  assignments are ignored); a criterion whose mean score falls under its eliminatory minimum
  eliminates the project; the spread is ``max − min`` of the evaluations' scores and is flagged when it
  exceeds the call's ``score_gap_flag`` points; the project qualifies at or above the call's threshold
  once at least ``min_evaluators`` evaluations are in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import lcm

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from codev.calls.models import Call, Criterion
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.projects.models import Project
from codev.reviews.models import Assignment, AssignmentStatus, Evaluation, ReviewResult

CENTI = 100  # hundredths of a point


@dataclass(frozen=True)
class EvaluationScore:
    """A submitted evaluation as the consolidation reads it."""

    evaluation_id: int
    evaluator_id: int
    score_centi: int
    scores: dict[int, int]  # criterion_id → score on the criterion's scale


@dataclass(frozen=True)
class ProjectResult:
    project_id: int
    evaluations_count: int
    score_centi: int | None  # mean of submitted evaluations, hundredths of /100, half-up
    eliminated_by: str | None  # code of the first criterion (grid order) whose MEAN is under its minimum
    spread_centi: int | None  # max − min of the evaluations' scores
    spread_flagged: bool  # spread > call.score_gap_flag points
    qualified: bool | None  # None while fewer than call.min_evaluators submitted


def div_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-up, for a non-negative numerator and positive denominator."""
    if denominator <= 0 or numerator < 0:
        raise ValueError("div_half_up expects numerator >= 0 and denominator > 0")
    return (2 * numerator + denominator) // (2 * denominator)


def evaluation_score_centi(criteria: Sequence[Criterion], scores: dict[int, int]) -> int:
    """Σ weight × score / max_score, out of 100, in hundredths, rounded half-up (integers only).

    ``scores`` maps criterion ids to scores; a missing (or None) score counts 0. Scores above a
    criterion's maximum are capped at it (the forms refuse them before this is reached).
    """
    criteria = list(criteria)
    if not criteria:
        return 0
    total_weight = sum(c.weight for c in criteria)
    if total_weight <= 0:
        return 0
    common = lcm(*(c.max_score for c in criteria))
    # Σ w × s / m = (Σ w × s × (common / m)) / common ; out of 100 in hundredths: × 100 × 100 / Σ w.
    numerator = sum(
        c.weight * min(max(scores.get(c.id) or 0, 0), c.max_score) * (common // c.max_score) for c in criteria
    )
    return div_half_up(numerator * 100 * CENTI, common * total_weight)


def consolidate(call: Call, project_id: int, evaluations: Sequence[EvaluationScore]) -> ProjectResult:
    """The consolidated result of ``evaluations`` (the submitted ones) under ``call``'s rules."""
    count = len(evaluations)
    if count == 0:
        return ProjectResult(project_id, 0, None, None, None, False, None)
    score = div_half_up(sum(e.score_centi for e in evaluations), count)
    eliminated_by = None
    for criterion in call.criteria:  # grid order
        if criterion.eliminatory_min is None:
            continue
        total = sum(e.scores.get(criterion.id) or 0 for e in evaluations)
        if total < criterion.eliminatory_min * count:  # mean < minimum, without dividing
            eliminated_by = criterion.code
            break
    values = [e.score_centi for e in evaluations]
    spread = max(values) - min(values)
    flagged = spread > call.score_gap_flag * CENTI
    qualified = None
    if count >= max(call.min_evaluators, 1):
        qualified = eliminated_by is None and score >= call.qualification_threshold * CENTI
    return ProjectResult(project_id, count, score, eliminated_by, spread, flagged, qualified)


def _submitted_query(project_ids: Iterable[int]):
    return (
        select(Evaluation, Assignment.project_id, Assignment.evaluator_id)
        .join(Assignment, Evaluation.assignment_id == Assignment.id)
        .where(
            Assignment.project_id.in_(list(project_ids)),
            Assignment.status == AssignmentStatus.SUBMITTED,
            Evaluation.submitted_at.is_not(None),
        )
        .options(selectinload(Evaluation.scores))
        .order_by(Evaluation.submitted_at, Evaluation.id)
    )


def submitted_scores(projects: Sequence[Project]) -> dict[int, list[EvaluationScore]]:
    """The submitted evaluations of several projects, in two queries (for lists and rankings)."""
    by_project: dict[int, list[EvaluationScore]] = {p.id: [] for p in projects}
    if not by_project:
        return by_project
    calls = {p.id: p.call for p in projects}
    for evaluation, project_id, evaluator_id in db.session.execute(_submitted_query(by_project)).all():
        scores = {s.criterion_id: s.score for s in evaluation.scores if s.score is not None}
        score = evaluation_score_centi(calls[project_id].criteria, scores)
        by_project[project_id].append(EvaluationScore(evaluation.id, evaluator_id, score, scores))
    return by_project


def project_result(project: Project) -> ProjectResult:
    """The consolidated result of ``project`` from its submitted evaluations in the database."""
    return consolidate(project.call, project.id, submitted_scores([project])[project.id])


def refresh_result(project: Project) -> ReviewResult:
    """Compute ``project``'s result and upsert its ReviewResult row (flushed; the caller commits)."""
    result = project_result(project)
    row = db.session.scalar(select(ReviewResult).where(ReviewResult.project_id == project.id))
    if row is None:
        row = ReviewResult(project_id=project.id)
        db.session.add(row)
    row.evaluations_count = result.evaluations_count
    row.score_centi = result.score_centi
    row.eliminated_by = result.eliminated_by
    row.spread_centi = result.spread_centi
    row.spread_flagged = result.spread_flagged
    row.qualified = result.qualified
    row.computed_at = utcnow()
    db.session.flush()
    return row


def format_centi(value: int | None) -> str:
    """``7350`` → ``"73.50"`` (templates localise the decimal mark with :func:`format_score`)."""
    if value is None:
        return "—"
    return f"{value // CENTI}.{value % CENTI:02d}"
