"""Demo reviews for ``flask --app codev seed-demo``: screenings, assignments, drafts, submitted evaluations.

On the open call: the health post in Kozah goes under review (one evaluator has submitted, the other has
declared no conflict and keeps a draft); three more projects are submitted, screened and evaluated by two
evaluators each — a water supply in Agou and a cereal store in Tchaoudjo qualify (the second with a large
spread between its evaluators), a computer room in Haho does not (feasibility under its minimum). The
borehole of Kpimé-Séva stays submitted, to screen. Everything goes through the services and the
workflow, as officers and evaluators would do it. Never in production.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from flask import current_app, has_request_context
from sqlalchemy import select

from codev.accounts.models import Association, AssociationStatus, Role, User
from codev.calls.models import Call
from codev.core.timeutil import utcnow
from codev.demo import projects as projects_demo
from codev.extensions import db
from codev.projects.models import Project, ProjectStatus
from codev.reviews import assignments, evaluations, screening
from codev.reviews.evaluations import EvaluationData

HEALTH_POST = "Case de santé de Lama-Tessi"
EVALUATORS = ("evaluateur@codev.demo", "evaluatrice@codev.demo", "reviewer@codev.demo")

# Scores in tenths of each criterion's scale, by criterion code (a criterion not listed gets 6/10).
EXTRA = [
    {
        "key": "agou_water", "association": "ARKF", "state": "submitted",
        "title": "Mini-adduction d'eau potable d'Agou-Nyogbo", "sector": "water", "led_by_women": False,
        "commune": "Agou 1", "village": "Agou-Nyogbo",
        "summary": "Un forage, un réservoir de 20 m³ et six bornes-fontaines pour les 2 300 habitants de Nyogbo.",
        "partner": ("Commune d'Agou 1", "commune", "La commune gère le service de l'eau avec un fermier privé."),
        "problem": "Les deux puits du village tarissent de décembre à mars.",
        "objectives": "De l'eau potable toute l'année à moins de 400 m de chaque ménage.",
        "activities": "Forage ; réservoir ; réseau de 2,5 km ; bornes-fontaines ; comité de gestion.",
        "beneficiaries": (2300, 1200, 800), "duration": 10,
        "budget": [("works", "Forage, réservoir et réseau", 1, 12_000_000),
                   ("equipment", "Pompe solaire", 1, 4_000_000)],
        "financing": [("association_cash", "Cotisations des membres", "XOF", 7_200_000),
                      ("community", "Main-d'œuvre", "XOF", 800_000), ("commune", "Commune d'Agou 1", "XOF", 800_000)],
        "evaluators": ("evaluateur@codev.demo", "evaluatrice@codev.demo"),
        "scores": [{"relevance": 9, "feasibility": 8, "partnership": 8, "sustainability": 7, "inclusion": 7},
                   {"relevance": 8, "feasibility": 7, "partnership": 7, "sustainability": 6, "inclusion": 8}],
        "recommendations": ("qualify", "qualify"),
    },
    {
        "key": "cereal_store", "association": "THH", "state": "submitted",
        "title": "Magasin de stockage de céréales de Kpangalam", "sector": "agriculture", "led_by_women": True,
        "commune": "Tchaoudjo 2", "village": "Kpangalam",
        "summary": "Un magasin de 200 tonnes et une décortiqueuse pour la coopérative des femmes de Kpangalam.",
        "partner": ("Coopérative des femmes de Kpangalam", "other", "La coopérative gère le magasin et le warrantage."),
        "problem": "Les récoltes sont vendues à bas prix faute de lieu de stockage.",
        "objectives": "Stocker la récolte et la vendre en période de soudure.",
        "activities": "Construction du magasin ; décortiqueuse ; formation au warrantage.",
        "beneficiaries": (420, 300, 120), "duration": 8,
        "budget": [("works", "Magasin de 200 tonnes", 1, 9_000_000), ("equipment", "Décortiqueuse", 1, 2_000_000)],
        "financing": [("association_cash", "Verein Togo-Hilfe Hamburg", "XOF", 5_000_000),
                      ("community", "Briques et main-d'œuvre", "XOF", 500_000),
                      ("commune", "Commune de Tchaoudjo 2", "XOF", 500_000)],
        "evaluators": ("evaluatrice@codev.demo", "reviewer@codev.demo"),
        "scores": [{"relevance": 9, "feasibility": 9, "partnership": 8, "sustainability": 8, "inclusion": 9},
                   {"relevance": 6, "feasibility": 6, "partnership": 6, "sustainability": 5, "inclusion": 6}],
        "recommendations": ("qualify", "qualify_with_reservations"),
    },
    {
        "key": "computer_room", "association": "ATB", "state": "submitted",
        "title": "Salle informatique au lycée de Notsé", "sector": "education", "led_by_women": False,
        "commune": "Haho 1", "village": "Notsé",
        "summary": "Vingt ordinateurs, une installation solaire et la formation de deux enseignants.",
        "partner": ("Association des parents d'élèves du lycée de Notsé", "committee", "L'APE paie l'entretien."),
        "problem": "Les élèves passent le BAC sans avoir jamais utilisé un ordinateur.",
        "objectives": "Des cours d'informatique pour les 900 élèves du lycée.",
        "activities": "Aménagement de la salle ; achat du matériel ; installation solaire ; formation.",
        "beneficiaries": (900, 420, 900), "duration": 6,
        "budget": [("equipment", "Vingt ordinateurs et un serveur", 1, 7_000_000),
                   ("equipment", "Installation solaire", 1, 3_000_000)],
        "financing": [("association_cash", "Cotisations des membres", "XOF", 4_500_000),
                      ("community", "Aménagement de la salle", "XOF", 500_000),
                      ("commune", "Commune de Haho 1", "XOF", 500_000)],
        "evaluators": ("reviewer@codev.demo", "evaluateur@codev.demo"),
        "scores": [{"relevance": 5, "feasibility": 3, "partnership": 5, "sustainability": 4, "inclusion": 6},
                   {"relevance": 6, "feasibility": 4, "partnership": 5, "sustainability": 5, "inclusion": 5}],
        "recommendations": ("not_qualify", "qualify_with_reservations"),
    },
]

HEALTH_SCORES = {"relevance": 8, "feasibility": 7, "partnership": 8, "sustainability": 7, "inclusion": 9}
HEALTH_DRAFT = {"relevance": 7, "feasibility": 6}


def seed_reviews(calls: Mapping[str, Any], projects: Mapping[str, Project] | Iterable[Project] | None = None) -> dict:
    """Add the demo reviews (flushed, not committed); returns the projects touched by title.

    ``projects`` are the demo projects, by title or as a list (default: every project of the open call).
    """
    call = calls.get("open") if calls else None
    if not isinstance(call, Call):
        return {}
    if projects is None:
        projects = db.session.scalars(select(Project).where(Project.call_id == call.id))
    by_title = dict(projects) if isinstance(projects, Mapping) else {p.title: p for p in projects}
    officer = db.session.scalar(select(User).where(User.role == Role.OFFICER, User.active.is_(True)).order_by(User.id))
    evaluators = _evaluators()
    if officer is None or len(evaluators) < 2:
        return {}
    if has_request_context():
        return _seed(call, by_title, officer, evaluators)
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        return _seed(call, by_title, officer, evaluators)


def _evaluators() -> dict[str, User]:
    """The demo evaluators by email (others stand in for any that is missing)."""
    found = {u.email: u for u in db.session.scalars(
        select(User).where(User.role == Role.EVALUATOR, User.active.is_(True)).order_by(User.id))}
    spare = [u for email, u in found.items() if email not in EVALUATORS]
    result = {}
    for email in EVALUATORS:
        if email in found:
            result[email] = found[email]
        elif spare:
            result[email] = spare.pop(0)
    return result


def _seed(call: Call, by_title: dict[str, Project], officer: User, evaluators: dict[str, User]) -> dict:
    touched = {}
    health = by_title.get(HEALTH_POST)
    if health is not None and health.status == ProjectStatus.SUBMITTED and len(evaluators) >= 3:
        _screen(health, officer)
        first = evaluators["evaluatrice@codev.demo"]
        second = evaluators["reviewer@codev.demo"]
        _evaluate(health, first, officer, HEALTH_SCORES, "qualify")
        pending = _assign(health, second, officer)
        evaluations.declare(pending, second, False, None)
        evaluations.save_evaluation(pending, second, EvaluationData(
            scores=_scores(health, HEALTH_DRAFT), comments={}, overall_comment="Premières notes, à compléter."))
        touched[health.title] = health
    associations = {a.acronym: a for a in db.session.scalars(
        select(Association).where(Association.status == AssociationStatus.VERIFIED).order_by(Association.id))}
    if not associations or not call.is_accepting():
        return touched
    existing = set(db.session.scalars(select(Project.title).where(Project.call_id == call.id)))
    for index, spec in enumerate(EXTRA):
        if spec["title"] in existing or len({e for e in spec["evaluators"] if e in evaluators}) < 2:
            continue
        association = associations.get(spec["association"]) or list(associations.values())[index % len(associations)]
        member = projects_demo._member(association, {})
        if member is None:
            continue
        project = projects_demo._project(spec, call, member, officer)
        _screen(project, officer)
        for email, scores, recommendation in zip(spec["evaluators"], spec["scores"], spec["recommendations"],
                                                 strict=True):
            _evaluate(project, evaluators[email], officer, scores, recommendation)
        touched[project.title] = project
    return touched


def _screen(project: Project, officer: User) -> None:
    confirmations = {item.code: screening.Confirmation(True, None) for item in screening.ITEMS}
    screening.screen_project(project, officer, "eligible", confirmations, None)


def _assign(project: Project, evaluator: User, officer: User) -> Any:
    return assignments.assign(project, evaluator, officer, utcnow().date() + timedelta(days=14))


def _scores(project: Project, tenths: dict[str, int]) -> dict[int, int]:
    return {c.id: tenths[c.code] * c.max_score // 10 for c in project.call.criteria if c.code in tenths}


def _evaluate(project: Project, evaluator: User, officer: User, tenths: dict[str, int], recommendation: str) -> None:
    assignment = _assign(project, evaluator, officer)
    evaluations.declare(assignment, evaluator, False, None)
    scores = {c.id: tenths.get(c.code, 6) * c.max_score // 10 for c in project.call.criteria}
    comments = {c.id: None for c in project.call.criteria}
    evaluations.submit_evaluation(assignment, evaluator, EvaluationData(
        scores=scores, comments=comments, recommendation=recommendation,
        overall_comment="Projet bien préparé ; le devis est cohérent avec les prix du marché local."
        if recommendation == "qualify" else "Le budget et l'entretien après le projet restent à préciser."))
