"""Demo grants: the approver approves the demo's approved projects. Never in production.

Run after the committee's demo (``seed_committee``): each project the committee approved receives its
grant through the service (envelope, snapshot, tranches, letters in French and English, emails) — the
committee's amount when it proposed one, else the request, never more than the rules and the envelope
allow. The second grant's letter is then re-issued once (a corrected contact), so the demo shows a
superseded letter on its verification page. With no approved project, nothing happens.
"""

from __future__ import annotations

from flask import current_app, has_request_context
from sqlalchemy import select

from codev.accounts.models import Role, User
from codev.extensions import db
from codev.grants.award.approval import GrantError, approval_facts, approve_grant, awaiting_approval
from codev.grants.award.letters import LetterError, reissue_letters
from codev.grants.models import Grant

REISSUE_REASON = "Nom de la personne de contact de l'association corrigé à sa demande."


def seed_grants(calls: dict | None = None, officer: User | None = None, approver: User | None = None) -> list[Grant]:
    """Approve the approved demo projects (flushed, not committed); returns the grants made."""
    approver = approver or _first(Role.APPROVER)
    officer = officer or _first(Role.OFFICER)
    if approver is None:
        return []
    if has_request_context():
        return _seed(officer, approver)
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        return _seed(officer, approver)


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
