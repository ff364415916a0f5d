"""The fuzz tests' world: the demo programme and what it lacks for every form to have something to act
on (an open invitation and a password-reset link, projects under review with and without evaluations, an
open committee session, a project waiting for its grant, a disbursement waiting for a second signature),
seeded once into a template SQLite file; and, for each URL argument, the demo objects' ids.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from werkzeug.datastructures import FileStorage

from codev.extensions import db


def config(folder: Path) -> dict:
    return {
        "ENV_NAME": "test", "TESTING": True, "SECRET_KEY": "fuzz-test-key", "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'live.sqlite3'}", "UPLOAD_FOLDER": str(folder / "up"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SERVER_NAME": "localhost", "MAIL_SERVER": None,
    }


def seed_world(app) -> dict:
    """The demo programme plus what it lacks for every form; returns the links' tokens."""
    from codev.demo import seed_demo

    db.create_all()
    seed_demo()
    db.session.commit()
    tokens = _links()
    _review_extras()
    _money_extras(app)
    _duplicate_extras()
    _api_token_extras()
    tokens.append(_assisted_extras())
    db.session.commit()
    return {"tokens": tokens}


def _assisted_extras() -> str:
    """A paper application the officer filed for an association (verified, its draft on an open call, a
    hand-over link emailed, a quote uploaded by the officer): the officer's file and its scan, start and hand-over
    forms, the remove button of its documents, the take-over page."""
    from codev.accounts.assisted import file_association, send_handover
    from codev.accounts.associations.services import verify_association
    from codev.calls.models import AttachmentKind
    from codev.calls.services import accepting_calls
    from codev.core.models import OutboxMessage
    from codev.projects.assisted import start_on_behalf
    from codev.projects.attachments import add_attachment
    from tests.factories_projects import PDF_BYTES

    officer = _demo_user("agent@codev.demo")
    association = file_association({
        "name": "Union des Ressortissants de Dapaong à Abidjan", "acronym": "URDA", "country": "CI",
        "city": "Abidjan", "contact_name": "Lardja Kombaté", "contact_email": "urda@fuzz.example.org",
        "domains": ["water"], "locale": "fr"}, "embassy", officer)
    verify_association(association, officer)
    project = start_on_behalf(association, accepting_calls()[0], "Forage de Nano", officer)
    quote = FileStorage(io.BytesIO(PDF_BYTES), filename="devis.pdf", content_type="application/pdf")
    add_attachment(project, AttachmentKind.QUOTE.value, quote, officer)  # the officer's remove button is fuzzed
    send_handover(association, officer)
    db.session.flush()
    outbox = db.session.scalar(db.select(OutboxMessage).order_by(OutboxMessage.id.desc()))
    return re.search(r"/projects/assisted/take-over/([\w.-]+)", outbox.body).group(1)


def _duplicate_extras() -> None:
    """A second file for ARKF, waiting for verification (same registration number, a name alike): the
    officer's page of either shows the possible duplicate with its "not a duplicate" and "merge" forms."""
    from codev.accounts.models import Association, AssociationStatus

    db.session.add(Association(
        name="Ressortissants de Kpalimé (France)", acronym="ARKF", country="FR", city="Paris", embassy="paris",
        contact_name="Komi Amegah", contact_email="arkf.bis@fuzz.example.org", registration_number="W 751 234 567",
        status=AssociationStatus.PENDING, locale="fr"))
    db.session.flush()


def _api_token_extras() -> None:
    """A partner's live API token: the admin's list shows its revoke form."""
    from datetime import timedelta

    from codev.accounts.api_tokens import issue_token
    from codev.core.timeutil import utcnow

    issue_token(_demo_user("admin@codev.demo"), partner="Fuzz partner", scopes=["public:read"],
                expires_on=(utcnow() + timedelta(days=30)).date())
    db.session.flush()


def _demo_user(email: str):
    from codev.accounts.models import User

    return db.session.scalar(db.select(User).where(User.email == email))


def _links() -> list[str]:
    """An open invitation to ARKF and a password-reset link: the tokens of their public forms."""
    from codev.accounts.associations.services import invite_member
    from codev.accounts.services import make_reset_token
    from codev.core.models import OutboxMessage

    member = _demo_user("association@codev.demo")
    invite_member(member.association, member, "invitee@fuzz.example.org")
    db.session.flush()
    outbox = db.session.scalar(db.select(OutboxMessage).order_by(OutboxMessage.id.desc()))
    invitation = re.search(r"/associations/invitation/([\w.-]+)", outbox.body).group(1)
    return [invitation, make_reset_token(_demo_user("maryland@codev.demo"))]


def _review_extras() -> None:
    """On the open call: a project under review with no evaluator yet (one assignment waiting for its
    declaration), one with both evaluations in, a qualified project before an open committee session,
    and a project the committee approved that waits for its grant."""
    from codev.calls.models import Call
    from codev.core.timeutil import utcnow
    from codev.projects.models import ProjectStatus
    from codev.reviews import evaluations
    from codev.reviews.evaluations import EvaluationData
    from codev.reviews.models import Screening
    from tests.factories_committee import committee_session, qualified_project
    from tests.factories_grants import approved_project
    from tests.factories_projects import ready_project
    from tests.factories_reviews import assign

    call = db.session.scalar(db.select(Call).where(Call.status == "open").order_by(Call.id))
    officer = _demo_user("agent@codev.demo")
    member = _demo_user("association@codev.demo")

    def in_review(title: str, number: int):
        project = ready_project(member, call, title=title, status=ProjectStatus.IN_REVIEW,
                                reference=f"CODEV-2026-{number:04d}", submitted_at=utcnow())
        db.session.add(Screening(project_id=project.id, officer_id=officer.id, outcome="eligible", checklist=[]))
        db.session.flush()
        return project

    waiting = in_review("Adduction d'eau de Kuma-Konda", 8001)
    assign(waiting, _demo_user("evaluateur@codev.demo"), by=officer)
    scored = in_review("Forage de Tomégbé", 8002)
    for email in ("evaluateur@codev.demo", "evaluatrice@codev.demo"):
        evaluator = _demo_user(email)
        assignment = assign(scored, evaluator, by=officer, declare=False)
        evaluations.submit_evaluation(assignment, evaluator, EvaluationData(
            scores={c.id: c.max_score for c in call.criteria}, comments={}, overall_comment="Projet solide.",
            recommendation="qualify"))
    qualified_project(call, association=member.association, title="Château d'eau de Yikpa")
    committee_session(call, officer)
    approved_project(member, call, title="Pompe solaire de Danyi", reference="CODEV-2026-8003")


def _money_extras(app) -> None:
    """On the grant waiting for its match: a contribution verified and a first tranche waiting for the
    approver's second signature (the demo's other contribution still waits for the officer)."""
    from codev.core.timeutil import utcnow
    from codev.grants.disbursements.payments import record_disbursement
    from codev.grants.ledger import contributions
    from codev.grants.models import Grant, GrantStatus
    from tests.factories_ledger import proof

    grant = db.session.scalar(db.select(Grant).where(Grant.status == GrantStatus.AWARDED).order_by(Grant.id))
    member = grant.project.association.members[0]
    officer = _demo_user("agent@codev.demo")
    first = grant.tranches[0]
    entry = contributions.declare_contribution(grant, member, source="association_cash", currency="XOF",
                                        amount_minor=first.amount_xof, value_date=utcnow().date(), proof=proof())
    contributions.verify_contribution(grant, entry.id, officer)
    # Most of the tranche waits for the approver (the demo's tranches are below the real threshold); the
    # rest (500 000, what a person fills the disbursement form with) can still be recorded.
    threshold = app.config.get("FOUR_EYES_THRESHOLD_XOF")
    app.config["FOUR_EYES_THRESHOLD_XOF"] = 1_000_000
    recorded = record_disbursement(grant, officer, tranche_number=first.number, amount_xof=first.amount_xof - 500_000,
                                   value_date=utcnow().date(), bank_reference="FUZZ-0001",
                                   idempotency_key="0f2d8c3e-6a51-4b7e-9c3d-2e8f5a7b1c40")
    app.config["FOUR_EYES_THRESHOLD_XOF"] = threshold
    assert recorded.request is not None


def candidate_values(tokens: list[str]) -> dict[str, list]:
    """URL argument name → values naming demo objects (read from the template database)."""
    tables = {
        "project_id": "projects", "call_id": "calls", "grant_id": "grants", "entry_id": "contribution_entries",
        "request_id": "disbursement_requests", "report_id": "reports", "letter_id": "award_letters",
        "assignment_id": "assignments", "session_id": "committee_sessions", "association_id": "associations",
        "invitation_id": "invitations", "structure_id": "partner_structures", "user_id": "users",
        "file_id": "project_attachments", "message_id": "outbox_messages",
    }
    values: dict[str, list] = {arg: db.session.scalars(db.text(f"SELECT id FROM {table} ORDER BY id")).all()  # noqa: S608
                               for arg, table in tables.items()}
    values["reference"] = db.session.scalars(db.text("SELECT reference FROM award_letters ORDER BY id")).all()
    values["token"] = tokens
    values["to"] = ["open", "closed", "draft", "archived", "nowhere"]
    return values
