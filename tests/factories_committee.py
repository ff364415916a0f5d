"""Factories for the committee tests: qualified projects with their consolidated results, sessions, form data."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.projects.models import Project, ProjectStatus
from codev.reviews.models import CommitteeSession, ReviewResult, SessionStatus
from tests.factories import AssociationFactory, CallFactory, UserFactory
from tests.factories_projects import ProjectFactory

_numbers = itertools.count(9001)


def qualified_project(
    call=None, *, score_centi: int | None = 7000, requested: int = 4_000_000,
    status: ProjectStatus = ProjectStatus.QUALIFIED, spread_flagged: bool = False, association=None,
    **overrides,
) -> Project:
    """A project in ``status`` with its consolidated result (a reference, a commune, a submission date)."""
    number = next(_numbers)
    values = dict(
        reference=f"CODEV-2026-{number:04d}", title=f"Projet {number}", commune="Kloto 1", region="TG-P",
        prefecture="Kloto", sector="water", submitted_at=utcnow() - timedelta(days=30),
    )
    values.update(overrides)
    project = ProjectFactory(
        call=call or CallFactory(open=True), association=association or AssociationFactory(verified=True),
        status=status, requested_grant_xof=requested, **values,
    )
    if score_centi is not None:
        db.session.add(ReviewResult(project_id=project.id, evaluations_count=2, score_centi=score_centi,
                                    spread_centi=500, spread_flagged=spread_flagged, qualified=True))
    db.session.flush()
    return project


def committee_session(call, officer=None, **overrides) -> CommitteeSession:
    officer = officer or UserFactory(officer=True)
    values = dict(
        held_on=date(2026, 5, 12), place="Lomé, salle du conseil", chair="Essi Lawson, présidente",
        members="Essi Lawson, présidente\nKodjo Agbeko, chargé de programme\nAma Kouma, ministère des Finances",
        tie_breaks="led_by_women,least_funded_commune", status=SessionStatus.OPEN,
    )
    values.update(overrides)
    session = CommitteeSession(call_id=call.id, created_by_id=officer.id, **values)
    db.session.add(session)
    db.session.flush()
    return session


def decision_form(outcome: str, reason: str = "Projet pertinent et bien préparé.", **extra) -> dict:
    return {"outcome": outcome, "reason": reason, "amount": extra.pop("amount", ""),
            "conditions": extra.pop("conditions", ""), **extra}
