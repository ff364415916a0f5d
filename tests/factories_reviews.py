"""Helpers for the reviews tests: evaluators of structures, projects under review, assignments, evaluations.

The grid of ``CallFactory``: relevance (weight 40, out of 10), feasibility (35, out of 10, eliminatory
under 4), sustainability (25, out of 5); threshold 60, two evaluators, a spread flag above 20 points.
Scores are given as ``(relevance, feasibility, sustainability)``.
"""

from __future__ import annotations

from datetime import timedelta

from codev.accounts.models import PartnerRegion, PartnerSector
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.projects.models import Project, ProjectStatus
from codev.projects.workflow import fire
from codev.reviews import assignments, evaluations
from codev.reviews.evaluations import EvaluationData
from codev.reviews.models import Assignment, Screening
from tests.factories import PartnerStructureFactory, UserFactory
from tests.factories_projects import submitted_project


def english(user):
    user.locale = "en"
    return user


def officer():
    return UserFactory(officer=True)


def evaluator(regions=(), sectors=(), **kwargs):
    """An evaluator of a new structure covering ``regions`` and ``sectors``."""
    structure = PartnerStructureFactory()
    structure.regions = [PartnerRegion(region=r) for r in regions]
    structure.sectors = [PartnerSector(sector=s) for s in sectors]
    return UserFactory(evaluator=True, partner_structure=structure, **kwargs)


def in_review_project(member=None, call=None, by=None, **overrides) -> Project:
    """A submitted project screened eligible (a Screening row and the transition, as the service leaves them)."""
    project = submitted_project(member, call, **overrides)
    by = by or officer()
    db.session.add(Screening(project_id=project.id, officer_id=by.id, outcome="eligible", checklist=[]))
    fire(project, ProjectStatus.IN_REVIEW, by)
    db.session.commit()
    return project


def assign(project, evaluator_user, by=None, due_in_days=21, declare=None) -> Assignment:
    """Assign through the service; ``declare`` = False (no conflict) or True (conflict) answers at once."""
    by = by or officer()
    assignment = assignments.assign(project, evaluator_user, by, utcnow().date() + timedelta(days=due_in_days))
    if declare is not None:
        evaluations.declare(assignment, evaluator_user, declare, "Membre de l'association" if declare else None)
    db.session.commit()
    return assignment


def scores_of(project, values) -> dict[int, int | None]:
    return {c.id: v for c, v in zip(project.call.criteria, values, strict=True)}


def draft(project, evaluator_user, values, by=None) -> Assignment:
    assignment = assign(project, evaluator_user, by, declare=False)
    evaluations.save_evaluation(assignment, evaluator_user, EvaluationData(scores=scores_of(project, values)))
    db.session.commit()
    return assignment


def submitted(project, evaluator_user, values, recommendation="qualify", by=None) -> Assignment:
    """An evaluation submitted through the service (which consolidates the project's result)."""
    assignment = assign(project, evaluator_user, by, declare=False)
    evaluations.submit_evaluation(assignment, evaluator_user, EvaluationData(
        scores=scores_of(project, values), comments={}, overall_comment="Projet solide.",
        recommendation=recommendation))
    db.session.commit()
    return assignment
