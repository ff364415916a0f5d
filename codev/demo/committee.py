"""A past session of the selection committee for the demo programme. Never in production.

On the open demo call, the committee met a week ago and decided on the qualified projects in ranking
order: the first approved, the second approved with conditions, the third deferred (as many of these as
there are qualified projects; none when there is none). Everything goes through the services, as the
officer and the approver would do it. Run after the reviews' own demo (``seed_reviews``).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, has_request_context
from sqlalchemy import func, select

from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.projects.models import Project, ProjectStatus
from codev.reviews.committee import DecisionData, SessionData, close_session, create_session, decide, session_ranking
from codev.reviews.models import CommitteeSession, DecisionOutcome

MEMBERS = "\n".join([
    "Essi Lawson, directrice des Togolais de l'extérieur (présidente)",
    "Kodjo Agbeko, chargé de programme, ministère des Affaires étrangères",
    "Représentant du ministère de l'Économie et des Finances",
    "Représentant du ministère de la Décentralisation et du Développement des territoires",
    "Représentante de l'Agence nationale d'appui au développement à la base (ANADEB)",
])

DECISIONS = [
    (DecisionOutcome.APPROVED,
     "Projet pertinent et bien préparé ; le partenaire local est engagé et l'apport de l'association est réuni.",
     None),
    (DecisionOutcome.CONDITIONALLY_APPROVED,
     "Projet utile à la population ; le dossier technique doit être complété avant l'attribution.",
     "Fournir le devis actualisé d'une deuxième entreprise et la délibération du conseil municipal "
     "s'engageant sur l'entretien."),
    (DecisionOutcome.DEFERRED,
     "Le comité souhaite une visite de terrain de la structure partenaire avant de se prononcer.",
     None),
]

MINUTES = (
    "Le comité s'est réuni sous la présidence de la directrice des Togolais de l'extérieur. Le quorum "
    "étant atteint, il a examiné les projets qualifiés dans l'ordre du classement, au vu des notes "
    "consolidées des structures partenaires et de l'enveloppe restante de l'appel. Les décisions "
    "ci-dessus ont été prises à l'unanimité des membres présents."
)


def seed_committee(calls: dict, officer, approver) -> CommitteeSession | None:
    """The demo session (flushed, not committed); None when the open call has no qualified project."""
    if has_request_context():
        return _seed(calls, officer, approver)
    # From the CLI: the decisions email the associations, and emails are rendered like pages.
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        return _seed(calls, officer, approver)


def _seed(calls: dict, officer, approver) -> CommitteeSession | None:
    call = calls.get("open")
    if call is None or not db.session.scalar(
        select(func.count(Project.id)).where(Project.call_id == call.id, Project.status == ProjectStatus.QUALIFIED)
    ):
        return None
    data = SessionData(
        call_id=call.id, held_on=(utcnow() - timedelta(days=7)).date(),
        place="Lomé, ministère des Affaires étrangères, salle de conférence", members=MEMBERS,
        chair="Essi Lawson, directrice des Togolais de l'extérieur",
        tie_breaks=("led_by_women", "least_funded_commune", "earliest_submission"),
    )
    session = create_session(data, officer)
    rows = [r for r in session_ranking(session).rows if r.candidate.status == ProjectStatus.QUALIFIED]
    for row, (outcome, reason, conditions) in zip(rows, DECISIONS, strict=False):
        project = db.session.get(Project, row.candidate.project_id)
        decide(session, project, DecisionData(str(outcome), reason, conditions), approver)
    close_session(session, MINUTES, officer)
    return session
