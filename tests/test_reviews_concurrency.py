"""Assignments under concurrency: the row is locked before the table is read, so of several requests
racing each other on one assignment, exactly one moves it.

Each thread has its own app context (its own session and connection), as concurrent requests would, on a
file SQLite database and, when configured, on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from codev.accounts.models import User
from codev.core.models import AuditEvent
from codev.core.workflow import TransitionRefused
from codev.extensions import db as _db
from codev.reviews import assignments, evaluations
from codev.reviews.assignments import ReviewError
from codev.reviews.evaluations import EvaluationData
from codev.reviews.models import Assignment, AssignmentStatus, Evaluation
from tests.factories_reviews import assign, evaluator, in_review_project, officer, scores_of

THREADS = 6


@pytest.fixture
def app_config(app_config):
    """A connection per thread."""
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 2, "max_overflow": 5}}


def race(app, assignment_id: int, works: list[tuple[int, Callable]]) -> tuple[list[int], list[str]]:
    """Run each ``(user id, work(assignment, user))`` in its own thread at once; (who won, the refusals)."""
    barrier = threading.Barrier(len(works))
    won, refused, lock = [], [], threading.Lock()

    def run(index: int, user_id: int, work: Callable) -> None:
        with app.app_context():
            try:
                assignment = _db.session.get(Assignment, assignment_id)
                user = _db.session.get(User, user_id)
                barrier.wait(timeout=30)
                work(assignment, user)
                _db.session.commit()
                with lock:
                    won.append(index)
            except (ReviewError, TransitionRefused) as exc:
                _db.session.rollback()
                with lock:
                    refused.append(str(exc))
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(i, user_id, work)) for i, (user_id, work) in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return won, refused


def audit_count(db, action: str, object_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == action, AuditEvent.object_id == object_id))


@pytest.mark.backends
def test_of_several_submissions_at_once_one_is_recorded(app, db, backend):
    project = in_review_project()
    reviewer = evaluator()
    row = assign(project, reviewer, declare=False)
    scores = scores_of(project, (7, 6, 3))

    def submit(assignment, user):
        evaluations.submit_evaluation(assignment, user, EvaluationData(
            scores=scores, comments={}, overall_comment="Projet solide.", recommendation="qualify"))

    won, refused = race(app, row.id, [(reviewer.id, submit)] * THREADS)
    assert len(won) == 1 and len(refused) == THREADS - 1, refused
    assert all("no longer be changed" in message or "ne peut plus être modifiée" in message for message in refused)
    db.session.expire_all()
    assert db.session.get(Assignment, row.id).status == AssignmentStatus.SUBMITTED
    assert audit_count(db, "assignment.submitted", row.id) == 1
    assert db.session.scalar(select(func.count(Evaluation.id)).where(Evaluation.assignment_id == row.id)) == 1


@pytest.mark.backends
def test_a_withdrawal_and_a_declaration_at_once_leave_one_of_them(app, db, backend):
    project = in_review_project()
    reviewer, by = evaluator(), officer()
    row = assign(project, reviewer, by=by)
    _db.session.commit()

    def declare(assignment, user):
        evaluations.declare(assignment, user, True, "Mon frère préside l'association.")

    def withdraw(assignment, user):
        assignments.withdraw(assignment, user)

    won, refused = race(app, row.id, [(reviewer.id, declare), (by.id, withdraw)] * (THREADS // 2))
    assert len(won) == 1 and len(refused) == THREADS - 1, refused
    db.session.expire_all()
    status = db.session.get(Assignment, row.id).status
    assert status in (AssignmentStatus.RECUSED, AssignmentStatus.WITHDRAWN)
    moves = audit_count(db, "assignment.recused", row.id) + audit_count(db, "assignment.withdrawn", row.id)
    assert moves == 1
