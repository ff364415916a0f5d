"""The dashboard's seeded programme: the register's funded projects (tests/factories_oversight.py) with their
submission dates, projects at every other stage, reports waiting (one for long), contributions waiting (one for
long) and a grant past its contribution deadline — written straight into the tables."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.models import ContributionEntry, GrantStatus, Report
from codev.projects.models import ProjectStatus
from tests.factories import AssociationFactory
from tests.factories_oversight import SPECS, seed_programme
from tests.factories_projects import ProjectFactory

# (call, status, region, prefecture, sector, country, year of submission or None for a draft)
OTHERS = [
    ("A", ProjectStatus.DRAFT, "TG-P", "Agou", "water", "FR", None),
    ("A", ProjectStatus.SUBMITTED, "TG-P", "Kloto", "health", "FR", 2026),
    ("A", ProjectStatus.IN_REVIEW, "TG-M", "Zio", "water", "DE", 2026),
    ("A", ProjectStatus.QUALIFIED, "TG-GL", "Golfe", "education", "SN", 2025),
    ("B", ProjectStatus.NOT_QUALIFIED, "TG-K", "Kozah", "agriculture", "FR", 2026),
    ("B", ProjectStatus.REJECTED, "TG-S", "Tône", "health", "CA", 2025),
    ("B", ProjectStatus.WITHDRAWN, "TG-P", "Amou", "agriculture", "BE", 2024),
    ("B", ProjectStatus.INELIGIBLE, "TG-C", "Tchaoudjo", "water", "US", 2026),
]


def seed_dashboard(specs=None, others=None) -> dict:
    """The programme, committed; returns the register's facts plus the other projects."""
    facts = seed_programme(specs or SPECS)
    now = utcnow()
    for grant in facts["grants"]:
        grant.project.submitted_at = grant.approved_at - timedelta(days=100)
    associations = {}
    projects = []
    for number, (call, status, region, prefecture, sector, country, year) in enumerate(
            others if others is not None else OTHERS):
        if country not in associations:
            associations[country] = AssociationFactory(verified=True, country=country)
        project = ProjectFactory(
            association=associations[country], call=facts["calls"][call], status=status, region=region,
            prefecture=prefecture, commune=f"{prefecture} 1", sector=sector,
            submitted_at=datetime(year, 4, 1, tzinfo=UTC) if year else None,
            reference=f"CODEV-{year}-9{number:03d}-{uuid.uuid4().hex[:4]}" if year else None,
        )
        projects.append(project)
    grants = facts["grants"]
    if grants:
        first = grants[0]
        member_id = first.project.created_by_id
        # Reports waiting to be read: one for 20 days (overdue), one since yesterday.
        for days in (20, 1):
            db.session.add(Report(grant_id=first.id, kind="progress", narrative="Travaux en cours", progress_pct=40,
                                  submitted_by_id=member_id, submitted_at=now - timedelta(days=days)))
        # A declaration waiting for 30 days.
        db.session.add(ContributionEntry(
            grant_id=first.id, kind="declared", source="association_cash", currency="XOF", amount_minor=250_000,
            rate_millionths=1_000_000, amount_xof=250_000, value_date=date(2026, 1, 5), created_by_id=member_id,
            created_at=now - timedelta(days=30)))
    # Awarded grants past their contribution deadline.
    for grant in grants:
        if grant.status == GrantStatus.AWARDED:
            grant.contribution_deadline = now.date() - timedelta(days=3)
    db.session.commit()
    return {**facts, "others": projects}
