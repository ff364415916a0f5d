"""Demo grants: the approver approves the demo's approved projects. Never in production.

Run after the committee's demo (``seed_committee``): each project the committee approved receives its
grant through the service (envelope, snapshot, tranches, letters in French and English, emails) — the
committee's amount when it proposed one, else the request, never more than the rules and the envelope
allow. The second grant's letter is then re-issued once (a corrected contact), so the demo shows a
superseded letter on its verification page. With no approved project, nothing happens.

Then two grants whose life ended (:func:`seed_endings`, on the open call, when the demo calls are given):
a borehole in Est-Mono, approved, its match verified and its first tranche paid, cancelled by the approver
when a land dispute made the association abandon it (the unspent balance returns to the envelope, the
letters are revoked, the project lapses and waits for its file to be closed); and a cassava-processing
unit in Ogou whose match never came: approved four months ago (demo history: the dates of the grant and
its letters are set back, the statuses still move through the workflow), it lapses in the nightly job and
the officer closes the project's file.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from flask import current_app, has_request_context
from sqlalchemy import select

from codev.accounts.models import Association, Role, User
from codev.calls.models import Call
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.core.workflow import SYSTEM
from codev.demo import projects as projects_demo
from codev.demo import reviews as reviews_demo
from codev.demo.money import _declare
from codev.extensions import db
from codev.grants.award import letters as award_letters
from codev.grants.award.approval import GrantError, approval_facts, approve_grant, awaiting_approval
from codev.grants.award.letters import LetterError, reissue_letters
from codev.grants.disbursements.payments import four_eyes_threshold, record_disbursement
from codev.grants.ledger import contributions
from codev.grants.life import lapse
from codev.grants.life.cancellation import cancel_grant
from codev.grants.life.closing import close_project
from codev.grants.models import AwardLetter, Grant, GrantStatus
from codev.projects.models import Project, ProjectStatus
from codev.projects.workflow import PROJECT

REISSUE_REASON = "Nom de la personne de contact de l'association corrigé à sa demande."


def seed_grants(calls: dict | None = None, officer: User | None = None, approver: User | None = None) -> list[Grant]:
    """Approve the approved demo projects (flushed, not committed); returns the grants made."""
    approver = approver or _first(Role.APPROVER)
    officer = officer or _first(Role.OFFICER)
    if approver is None:
        return []
    if has_request_context():
        return _seed_all(calls, officer, approver)
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        return _seed_all(calls, officer, approver)


def _seed_all(calls: dict | None, officer: User | None, approver: User) -> list[Grant]:
    grants = _seed(officer, approver)
    call = (calls or {}).get("open")
    if isinstance(call, Call) and officer is not None and call.is_accepting():
        seed_endings(call, officer, approver)
    return grants


def _first(role: Role) -> User | None:
    return db.session.scalar(select(User).where(User.role == role, User.active.is_(True)).order_by(User.id))


def _seed(officer: User | None, approver: User) -> list[Grant]:
    projects, _count = awaiting_approval(limit=50)
    grants = []
    for project in projects:
        facts = approval_facts(project)
        amount = min(facts.proposed, facts.requested, facts.max_allowed, facts.remaining)
        if amount <= 0:
            continue
        try:
            grants.append(approve_grant(project, approver, amount, approver.name,
                                        approver.title or "Ordonnateur"))
        except GrantError:  # refused before anything is written: the project stays approved
            continue
    if len(grants) >= 2:
        try:
            reissue_letters(grants[1], officer or approver, REISSUE_REASON)
        except LetterError:
            pass
    db.session.flush()
    return grants


# --- grants whose life ended ---------------------------------------------------------------------------

CANCEL_REASON = ("Le terrain du forage fait l'objet d'un litige foncier entre deux familles ; l'association "
                 "renonce au projet et le ministère annule la subvention.")
CLOSE_MESSAGE = ("La contribution de l'association n'est pas arrivée avant la date limite ; dossier clos. "
                 "L'association pourra présenter un nouveau projet à un prochain appel.")
APPROVED_MESSAGE = "Approuvé par le comité de sélection."
SCORES = {"relevance": 8, "feasibility": 8, "partnership": 7, "sustainability": 7, "inclusion": 8}


def _ending_spec(key, association, title, sector, commune, village, summary, budget, cash, **extra):
    return {
        "key": key, "association": association, "state": "submitted", "title": title, "sector": sector,
        "led_by_women": extra.get("women", False), "commune": commune, "village": village, "summary": summary,
        "partner": (f"Commune de {commune}", "commune", "La commune entretient l'ouvrage après le projet."),
        "problem": extra["problem"], "objectives": extra["objectives"], "activities": extra["activities"],
        "beneficiaries": extra["beneficiaries"], "duration": 8, "budget": budget,
        "financing": [("association_cash", "Cotisations et collectes des membres", "XOF", cash),
                      ("community", "Main-d'œuvre et matériaux locaux", "XOF", 500_000),
                      ("commune", f"Commune de {commune}", "XOF", 500_000)],
    }


ENDINGS = {
    "cancelled": _ending_spec(
        "estmono_borehole", "ATB", "Forage et château d'eau d'Elavagnon", "water", "Est-Mono 1", "Elavagnon",
        "Un forage de 70 m, une pompe solaire et un château d'eau de 15 m³ pour le quartier nord d'Elavagnon.",
        [("works", "Forage, tubage et château d'eau", 1, 7_000_000), ("equipment", "Pompe solaire", 1, 3_000_000)],
        4_500_000, problem="Le quartier nord puise l'eau d'un marigot à 2 km.", beneficiaries=(1800, 950, 700),
        objectives="De l'eau potable à moins de 500 m de chaque ménage.",
        activities="Forage ; pompe et panneaux ; château d'eau ; comité de gestion."),
    "lapsed": _ending_spec(
        "ogou_cassava", "THH", "Unité de transformation du manioc de Glei", "agriculture", "Ogou 1", "Glei",
        "Une râpeuse, une presse et un four à gari pour le groupement des femmes de Glei.",
        [("equipment", "Râpeuse, presse et four", 1, 5_000_000), ("works", "Hangar et dalle", 1, 3_000_000)],
        3_500_000, women=True, problem="Le manioc est râpé à la main ; une partie de la récolte se perd.",
        beneficiaries=(450, 380, 150), objectives="Transformer la récolte en gari sur place.",
        activities="Hangar ; achat et pose du matériel ; formation du groupement."),
}


def seed_endings(call: Call, officer: User, approver: User) -> list[Grant]:
    """A cancelled grant (project lapsed, its file still open) and a lapsed one (project closed)."""
    evaluators = reviews_demo._evaluators()
    associations = {a.acronym: a for a in db.session.scalars(select(Association))}
    done = []
    for story, spec in ENDINGS.items():
        member = projects_demo._member(associations[spec["association"]], {}) \
            if spec["association"] in associations else None
        if member is None or len(evaluators) < 2:
            continue
        try:
            grant = _approved_grant(spec, call, member, officer, approver, list(evaluators.values())[:2])
            if story == "cancelled":
                _cancelled_story(grant, member, officer, approver)
            else:
                _lapsed_story(grant, member, officer)
        except DomainError:  # a demo whose data does not fit the story keeps what it has
            continue
        done.append(grant)
    db.session.flush()
    return done


def _approved_grant(spec: dict, call: Call, member: User, officer: User, approver: User,
                    evaluators: list[User]) -> Grant:
    """The project through the programme: submitted, screened, two evaluations (qualified), approved, granted."""
    project = projects_demo._project(spec, call, member, officer)
    reviews_demo._screen(project, officer)
    for evaluator in evaluators:
        reviews_demo._evaluate(project, evaluator, officer, SCORES, "qualify")
    project = db.session.get(Project, project.id)
    if project.status != ProjectStatus.QUALIFIED:
        raise GrantError(f"demo project {spec['key']} did not qualify")
    PROJECT.fire(project, ProjectStatus.APPROVED, approver, APPROVED_MESSAGE)
    facts = approval_facts(project)
    amount = min(facts.requested, facts.max_allowed, facts.remaining)
    return approve_grant(project, approver, amount, approver.name, approver.title or "Ordonnateur")


def _cancelled_story(grant: Grant, member: User, officer: User, approver: User) -> None:
    """The match verified, the first tranche paid, then the project abandoned: the approver cancels."""
    entry = _declare(grant, member, grant.required_association_xof, 0)
    contributions.verify_contribution(grant, entry.id, officer)
    first = grant.tranches[0]
    recorder = officer if first.amount_xof <= four_eyes_threshold() else approver
    record_disbursement(grant, recorder, tranche_number=first.number, amount_xof=first.amount_xof,
                        value_date=utcnow().date(), bank_reference="ECOBANK-VIR-2026-0112",
                        idempotency_key=str(uuid.uuid4()))
    cancel_grant(grant, approver, CANCEL_REASON)


def _lapsed_story(grant: Grant, member: User, officer: User) -> None:
    """Approved four months ago, a quarter of the match verified: the nightly job lapses it, the officer
    closes the project's file."""
    _set_back(grant, days=120)
    entry = _declare(grant, member, grant.required_association_xof // 4, 100)
    contributions.verify_contribution(grant, entry.id, officer)
    if lapse.lapse_grant(grant, SYSTEM):
        close_project(grant, officer, CLOSE_MESSAGE)


def _set_back(grant: Grant, days: int) -> None:
    """Demo history: the grant (and its letters, rendered again with their date) approved ``days`` ago."""
    issued = utcnow() - timedelta(days=days)
    grant.approved_at = issued
    grant.contribution_deadline = issued.date() + (grant.contribution_deadline - utcnow().date())
    project = grant.project
    for letter in db.session.scalars(select(AwardLetter).where(AwardLetter.grant_id == grant.id)):
        _facts, fingerprint, pdf = award_letters.render_letter(
            grant, project, language=letter.language, version=letter.version, issued_at=issued,
            signatory_name=letter.signatory_name, signatory_title=letter.signatory_title)
        letter.issued_at, letter.pdf, letter.content_sha256 = issued, pdf, fingerprint
        letter.sha256 = hashlib.sha256(pdf).hexdigest()
    db.session.flush()
    if grant.status != GrantStatus.AWARDED:
        raise GrantError("the demo grant to set back is no longer awarded")
