"""Score arithmetic on hand-computed examples: one evaluation, the mean, elimination, threshold, spread.

Grid of the examples (CallFactory's): relevance weight 40 out of 10, feasibility 35 out of 10
(eliminatory under 4), sustainability 25 out of 5; threshold 60; 2 evaluators; flag above 20 points.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from codev.projects.models import ProjectStatus
from codev.reviews.models import ReviewResult
from codev.reviews.scoring import (
    EvaluationScore,
    consolidate,
    div_half_up,
    evaluation_score_centi,
    project_result,
    refresh_result,
)
from tests.factories_reviews import draft, evaluator, in_review_project, submitted


def criterion(id_, weight, max_score, code="c", eliminatory_min=None):
    return SimpleNamespace(id=id_, code=code, weight=weight, max_score=max_score, eliminatory_min=eliminatory_min)


GRID = [criterion(1, 40, 10, "relevance"), criterion(2, 35, 10, "feasibility", 4),
        criterion(3, 25, 5, "sustainability")]


def call(**kwargs):
    values = {"criteria": GRID, "min_evaluators": 2, "qualification_threshold": 60, "score_gap_flag": 20}
    values.update(kwargs)
    return SimpleNamespace(**values)


def evaluation(centi, scores=(7, 6, 3), id_=1):
    return EvaluationScore(id_, id_, centi, dict(zip((1, 2, 3), scores, strict=True)))


@pytest.mark.parametrize(("scores", "expected"), [
    ((7, 6, 3), 6400),    # 40×7/10 + 35×6/10 + 25×3/5 = 28 + 21 + 15 = 64.00
    ((8, 9, 4), 8350),    # 32 + 31.5 + 20 = 83.50
    ((5, 4, 2), 4400),    # 20 + 14 + 10 = 44.00
    ((10, 10, 5), 10000),
    ((0, 0, 0), 0),
    ((8, 5, 2), 5950),    # 32 + 17.5 + 10 = 59.50
])
def test_one_evaluation(scores, expected):
    assert evaluation_score_centi(GRID, dict(zip((1, 2, 3), scores, strict=True))) == expected


def test_a_missing_score_counts_zero_in_a_draft_total():
    assert evaluation_score_centi(GRID, {1: 7}) == 2800


def test_rounding_is_half_up_once_at_the_end():
    # One criterion weight 100 out of 32: a score of 1 is 3.125 → 3.13 (half-up, not banker's 3.12).
    assert evaluation_score_centi([criterion(1, 100, 32)], {1: 1}) == 313
    # Out of 3: 33.333… → 33.33 and 66.666… → 66.67.
    assert evaluation_score_centi([criterion(1, 100, 3)], {1: 1}) == 3333
    assert evaluation_score_centi([criterion(1, 100, 3)], {1: 2}) == 6667
    # Three thirds of weight 33/33/34 out of 7: 33×1/7 + 33×1/7 + 34×1/7 = 100/7 = 14.2857 → 14.29.
    grid = [criterion(1, 33, 7), criterion(2, 33, 7), criterion(3, 34, 7)]
    assert evaluation_score_centi(grid, {1: 1, 2: 1, 3: 1}) == 1429
    assert div_half_up(5, 2) == 3 and div_half_up(7, 2) == 4 and div_half_up(1, 3) == 0


def test_no_float_anywhere():
    assert isinstance(evaluation_score_centi(GRID, {1: 7, 2: 6, 3: 3}), int)
    assert isinstance(consolidate(call(), 1, [evaluation(6400), evaluation(8351)]).score_centi, int)


def test_one_evaluation_is_not_enough_to_qualify():
    result = consolidate(call(), 1, [evaluation(6400)])
    assert (result.evaluations_count, result.score_centi, result.spread_centi) == (1, 6400, 0)
    assert result.qualified is None and result.spread_flagged is False
    assert consolidate(call(min_evaluators=1), 1, [evaluation(6400)]).qualified is True


def test_three_evaluations():
    # (6400 + 8350 + 4400) / 3 = 6383.33 → 63.83; feasibility mean (6 + 9 + 4) / 3 = 6.33 ≥ 4.
    result = consolidate(call(), 1, [evaluation(6400, (7, 6, 3), 1), evaluation(8350, (8, 9, 4), 2),
                                     evaluation(4400, (5, 4, 2), 3)])
    assert result.score_centi == 6383 and result.eliminated_by is None
    assert result.spread_centi == 3950 and result.spread_flagged is True
    assert result.qualified is True


def test_the_mean_is_rounded_half_up():
    assert consolidate(call(), 1, [evaluation(6400), evaluation(6401)]).score_centi == 6401  # 6400.5


def test_the_eliminatory_minimum_is_read_on_the_mean():
    # Feasibility 2 and 5: mean 3.5 < 4 eliminates, although one evaluator gave 5 and the score is high.
    high = [evaluation(7200, (10, 2, 5), 1), evaluation(8250, (10, 5, 5), 2)]
    result = consolidate(call(), 1, high)
    assert result.eliminated_by == "feasibility" and result.qualified is False
    # Feasibility 3 and 5: mean exactly 4 is not under the minimum.
    result = consolidate(call(), 1, [evaluation(6650, (9, 3, 4), 1), evaluation(6550, (7, 5, 4), 2)])
    assert result.eliminated_by is None and result.qualified is True


def test_the_first_eliminating_criterion_in_grid_order_is_named():
    grid = [criterion(1, 50, 10, "first", 5), criterion(2, 50, 10, "second", 5)]
    result = consolidate(call(criteria=grid), 1, [EvaluationScore(1, 1, 2000, {1: 2, 2: 2}),
                                                  EvaluationScore(2, 2, 2000, {1: 2, 2: 2})])
    assert result.eliminated_by == "first"


@pytest.mark.parametrize(("scores", "qualified"), [
    ((6000, 6000), True),    # exactly the threshold qualifies
    ((6000, 5999), True),    # mean 5999.5 → 60.00 (half-up) → qualifies
    ((5999, 5998), False),   # mean 5998.5 → 59.99
])
def test_threshold_boundary(scores, qualified):
    result = consolidate(call(), 1, [evaluation(scores[0], id_=1), evaluation(scores[1], id_=2)])
    assert result.qualified is qualified


@pytest.mark.parametrize(("low", "high", "flagged"), [(4000, 6000, False), (4000, 6001, True), (5000, 5000, False)])
def test_spread_flag_boundary(low, high, flagged):
    result = consolidate(call(), 1, [evaluation(low, id_=1), evaluation(high, id_=2)])
    assert result.spread_centi == high - low and result.spread_flagged is flagged


def test_no_evaluation():
    result = consolidate(call(), 7, [])
    assert (result.project_id, result.evaluations_count, result.score_centi, result.qualified) == (7, 0, None, None)


@pytest.mark.backends
def test_from_the_database_drafts_recused_and_withdrawn_are_ignored(db):
    project = in_review_project()
    submitted(project, evaluator(), (7, 6, 3))
    draft(project, evaluator(), (0, 0, 0))
    result = project_result(project)
    assert (result.evaluations_count, result.score_centi, result.qualified) == (1, 6400, None)
    row = db.session.scalar(db.select(ReviewResult).where(ReviewResult.project_id == project.id))
    assert (row.evaluations_count, row.score_centi, row.qualified) == (1, 6400, None)
    assert project.status == ProjectStatus.IN_REVIEW

    submitted(project, evaluator(), (8, 9, 4))  # the second evaluation qualifies the project
    db.session.refresh(project)
    row = db.session.scalar(db.select(ReviewResult).where(ReviewResult.project_id == project.id))
    assert (row.evaluations_count, row.score_centi, row.spread_centi, row.spread_flagged) == (2, 7375, 1950, False)
    assert row.qualified is True and project.status == ProjectStatus.QUALIFIED


def test_refresh_result_upserts_one_row(db):
    project = in_review_project()
    first = refresh_result(project)
    again = refresh_result(project)
    assert first.id == again.id and first.score_centi is None and first.qualified is None
    assert db.session.scalar(db.select(db.func.count(ReviewResult.id))) == 1


def test_an_eliminated_project_is_not_qualified(db):
    project = in_review_project()
    submitted(project, evaluator(), (10, 2, 5))
    submitted(project, evaluator(), (10, 5, 5))
    db.session.refresh(project)
    assert project.status == ProjectStatus.NOT_QUALIFIED
    assert project_result(project).eliminated_by == "feasibility"
    assert project.events[-1].actor_id is None  # the history names no evaluator
