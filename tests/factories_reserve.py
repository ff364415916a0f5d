"""Factories for the reserve list and amendment tests: ranked projects with full plans, closed sessions."""

from __future__ import annotations

from codev.extensions import db
from codev.projects.models import Project, ProjectStatus
from codev.reviews.committee import DecisionData, close_session, decide
from codev.reviews.models import CommitteeSession, ReviewResult
from tests.factories_committee import committee_session
from tests.factories_grants import approved_project


def ranked_project(call, score_centi: int, requested: int, status=ProjectStatus.QUALIFIED, **overrides) -> Project:
    """A project before the committee (qualified by default) whose plan passes approval (B = 10 000 000,
    A = 4 500 000: any grant up to ``requested`` ≤ 4 500 000 is within the rules)."""
    project = approved_project(call=call, status=status, requested_grant_xof=requested, **overrides)
    db.session.add(ReviewResult(project_id=project.id, evaluations_count=2, score_centi=score_centi,
                                spread_centi=300, spread_flagged=False, qualified=True))
    db.session.flush()
    return project


def closed_session(call, officer, approve=(), defer=(), minutes: str = "Le comité a siégé.") -> CommitteeSession:
    """A session of ``call`` that approved (and deferred) the projects given, then closed (ranking frozen)."""
    session = committee_session(call, officer)
    for project in approve:
        decide(session, project, DecisionData("approved", "Projet prêt."), officer)
    for project in defer:
        decide(session, project, DecisionData("deferred", "Visite de terrain d'abord."), officer)
    close_session(session, minutes, officer)
    db.session.flush()
    return session
