"""The demo's reserve list and amended grants: a small call whose envelope runs out. Never in production.

A call of 13 000 000 F CFA receives four projects, all qualified by two evaluators. The committee
approves the first two (6 000 000 and 5 000 000), defers the third (3 000 000: it does not fit in the
2 000 000 left) and leaves the fourth (2 500 000) in the ranking; the session closes and its ranking is
frozen. The approver grants the first two. Then the first grant is reduced to 4 500 000 (a cheaper
updated quote): 1 500 000 returns to the envelope, the reserve list offers the third project, which is
approved from the reserve and granted. The second grant's deadline is extended, then the grant reduced
to 3 000 000 (the commune equips the delivery room): the money returned now fits the fourth project,
which the approver finds offered on the home page. Everything goes through the services. Run after the
other demo seeds.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, has_request_context
from sqlalchemy import select

from codev.accounts.models import Association, AssociationStatus, User
from codev.calls import services as call_services
from codev.calls import workflow as call_workflow
from codev.calls.models import Call, CallStatus
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.demo import projects as projects_demo
from codev.demo import reviews as reviews_demo
from codev.demo.calls import _at, _open_call_data
from codev.extensions import db
from codev.grants.award.approval import approve_grant
from codev.grants.life import amendments
from codev.grants.life.reserve import approve_from_reserve
from codev.grants.models import Grant
from codev.projects.models import ProjectStatus
from codev.reviews.committee import DecisionData, SessionData, close_session, create_session, decide

ENVELOPE = 13_000_000


def _spec(key, association, title, sector, commune, village, summary, budget, cash, women=False, **extra):
    return {
        "key": key, "association": association, "state": "submitted", "title": title, "sector": sector,
        "led_by_women": women, "commune": commune, "village": village, "summary": summary,
        "partner": extra.get("partner", (f"Commune de {commune}", "commune", "La commune entretient l'ouvrage.")),
        "problem": extra["problem"], "objectives": extra["objectives"], "activities": extra["activities"],
        "beneficiaries": extra["beneficiaries"], "duration": extra.get("duration", 8),
        "budget": budget,
        "financing": [("association_cash", "Cotisations et collectes des membres", "XOF", cash),
                      ("community", "Main-d'œuvre et matériaux locaux", "XOF", 500_000),
                      ("commune", f"Commune de {commune}", "XOF", 500_000)],
    }


PROJECTS = [
    (_spec("danyi_school", "ATB", "Bloc de trois salles de classe à l'EPP de Danyi-Élavagnon", "education",
           "Danyi 1", "Élavagnon", "Trois salles de classe, un bureau et des latrines pour les 380 élèves de l'EPP.",
           [("works", "Bloc de trois salles et bureau", 1, 11_000_000), ("equipment", "Tables-bancs et tableaux", 1,
                                                                           2_000_000)], 6_000_000,
           problem="Deux classes se tiennent sous un hangar de paille.", beneficiaries=(380, 190, 380),
           objectives="Toutes les classes sous un toit en dur.", activities="Construction ; mobilier ; latrines."),
     {"relevance": 9, "feasibility": 9, "partnership": 9, "sustainability": 8, "inclusion": 9}),
    (_spec("gape_maternity", "TDAM", "Maternité du centre médico-social de Gapé", "health", "Zio 3", "Gapé",
           "Une salle d'accouchement, deux salles de suites de couches et un forage pour le centre de santé.",
           [("works", "Bâtiment de la maternité", 1, 8_500_000), ("equipment", "Tables d'accouchement et lits", 1,
                                                                2_500_000)], 5_000_000,
           problem="Les femmes accouchent à 25 km, à Tsévié.", beneficiaries=(6200, 3400, 1800),
           objectives="Accoucher en sécurité à Gapé.", activities="Construction ; équipement ; forage."),
     {"relevance": 9, "feasibility": 8, "partnership": 8, "sustainability": 7, "inclusion": 8}),
    (_spec("amou_mill", "ARKF", "Moulin et décortiqueuse des femmes d'Amlamé", "agriculture", "Amou 1", "Amlamé",
           "Un moulin, une décortiqueuse et leur abri pour le groupement des transformatrices d'Amlamé.",
           [("equipment", "Moulin et décortiqueuse", 1, 4_500_000), ("works", "Abri et dalle", 1, 2_500_000)],
           3_000_000, women=True,
           partner=("Groupement des femmes transformatrices d'Amlamé", "other", "Le groupement gère le moulin."),
           problem="Le maïs est moulu à la main ou à 12 km.", beneficiaries=(640, 520, 200),
           objectives="Moudre et décortiquer sur place.", activities="Abri ; achat et pose ; formation."),
     {"relevance": 8, "feasibility": 7, "partnership": 7, "sustainability": 7, "inclusion": 8}),
    (_spec("vogan_library", "THH", "Bibliothèque scolaire du CEG de Vogan", "education", "Vo 1", "Vogan",
           "Une bibliothèque de 2 000 ouvrages et une salle de lecture pour les 900 élèves du CEG.",
           [("works", "Aménagement de la salle de lecture", 1, 3_500_000), ("equipment", "Ouvrages et rayonnages", 1,
                                                                             2_500_000)], 2_500_000,
           problem="Les élèves n'ont aucun livre en dehors des manuels.", beneficiaries=(900, 470, 900),
           objectives="Un livre à portée de chaque élève.", activities="Aménagement ; achats ; bibliothécaire."),
     {"relevance": 7, "feasibility": 7, "partnership": 6, "sustainability": 6, "inclusion": 7}),
]

MINUTES = ("Le comité a examiné les quatre projets qualifiés du guichet restreint dans l'ordre du classement. "
           "L'enveloppe de 13 000 000 F CFA permet d'en financer deux ; les deux autres restent sur la liste de "
           "réserve, dans l'ordre, pour le cas où de l'argent reviendrait à l'enveloppe.")


def seed_reserve(calls: dict, officer: User | None, approver: User | None) -> list[Grant]:
    """The reserve story (flushed, not committed); returns its grants (none when a piece is missing)."""
    if officer is None or approver is None:
        return []
    if has_request_context():
        return _seed(officer, approver)
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        return _seed(officer, approver)


def _call(officer: User) -> Call:
    today = utcnow().date()
    data = _open_call_data(_at(today - timedelta(days=60), 8), _at(today + timedelta(days=30), 23, 59))
    data.title = f"Guichet restreint {today.year} — écoles, santé et transformation agricole"
    data.title_en = f"{today.year} small window — schools, health and food processing"
    data.envelope_xof = ENVELOPE
    data.max_grant_xof = 6_000_000
    call = call_services.create_call(data, officer)
    call_workflow.fire(call, CallStatus.OPEN, officer)
    return call


def _seed(officer: User, approver: User) -> list[Grant]:
    evaluators = reviews_demo._evaluators()
    associations = {a.acronym: a for a in db.session.scalars(
        select(Association).where(Association.status == AssociationStatus.VERIFIED).order_by(Association.id))}
    if len(evaluators) < 2 or not associations:
        return []
    call = _call(officer)
    first, second = evaluators["evaluateur@codev.demo"], evaluators["evaluatrice@codev.demo"]
    projects = []
    for index, (spec, scores) in enumerate(PROJECTS):
        association = associations.get(spec["association"]) or list(associations.values())[index % len(associations)]
        member = projects_demo._member(association, {})
        if member is None:
            return []
        project = projects_demo._project(spec, call, member, officer)
        projects.append((project, scores))
    # Closed on the day its projects were in; it stays closed (the demo's calls step through their own states).
    call_workflow.fire(call, CallStatus.CLOSED, officer)
    for project, scores in projects:
        reviews_demo._screen(project, officer)
        reviews_demo._evaluate(project, first, officer, scores, "qualify")
        reviews_demo._evaluate(project, second, officer, scores, "qualify")
    school, maternity, mill, library = (project for project, _scores in projects)
    if any(p.status != ProjectStatus.QUALIFIED for p in (school, maternity, mill, library)):
        return []

    session = create_session(SessionData(
        call_id=call.id, held_on=(utcnow() - timedelta(days=40)).date(), place="Lomé, ministère, salle B",
        members="Essi Lawson, présidente\nKodjo Agbeko, chargé de programme\nReprésentant du ministère des Finances",
        chair="Essi Lawson", tie_breaks=("led_by_women", "least_funded_commune", "earliest_submission"),
    ), officer)
    for project in (school, maternity):
        decide(session, project, DecisionData("approved", "Projet prioritaire, dossier complet, apport réuni."),
               approver)
    decide(session, mill, DecisionData("deferred", "Projet de qualité, mais l'enveloppe restante (2 000 000 F CFA) "
                                                   "ne suffit pas : il reste sur la liste de réserve."), approver)
    close_session(session, MINUTES, officer)

    grants = [approve_grant(p, approver, p.requested_grant_xof, approver.name, approver.title or "Ordonnatrice")
              for p in (school, maternity)]
    try:
        amendments.reduce_amount(grants[0], approver, 4_500_000,
                                 "Le devis actualisé de l'entreprise retenue est inférieur de 1 500 000 F CFA au "
                                 "devis initial.")
        approve_from_reserve(session, mill, "L'argent revenu à l'enveloppe finance le projet suivant du classement.",
                             approver)
        grants.append(approve_grant(mill, approver, mill.requested_grant_xof, approver.name,
                                    approver.title or "Ordonnatrice"))
        amendments.extend_deadline(grants[1], approver, grants[1].contribution_deadline + timedelta(days=45),
                                   "Les virements des membres aux États-Unis ont pris du retard.")
        amendments.reduce_amount(grants[1], approver, 3_000_000,
                                 "La commune de Zio 3 équipe elle-même la salle d'accouchement (délibération du "
                                 "conseil municipal).")
    except DomainError:  # a rule refused a step: the demo keeps what went through
        pass
    db.session.flush()
    return grants
