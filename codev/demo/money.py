"""Demo money on demo grants: contributions declared and verified, a first tranche paid, a progress report.

Used by the demo seed after grants are approved; it does nothing (and says so) when there is no grant.
Everything goes through the services, so the demo ledger obeys the same rules as a real one.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from codev.accounts.models import Role, User
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants import common
from codev.grants.common import LedgerError
from codev.grants.disbursements import payments as disbursements
from codev.grants.ledger import contributions
from codev.grants.models import Grant, GrantStatus
from codev.grants.reports import services as reports

# A one-page PDF standing in for a bank receipt.
RECEIPT = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
           b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def _receipt(name: str) -> FileStorage:
    return FileStorage(io.BytesIO(RECEIPT), filename=name, content_type="application/pdf")


def _first(role: str, **where) -> User | None:
    query = select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
    for column, value in where.items():
        query = query.where(getattr(User, column) == value)
    return db.session.scalar(query.limit(1))


def _declare(grant: Grant, member: User, amount: int, days_ago: int, source: str = "association_cash",
             currency: str = "XOF"):
    return contributions.declare_contribution(grant, member, source=source, currency=currency, amount_minor=amount,
                                       value_date=utcnow().date() - timedelta(days=days_ago),
                                       proof=_receipt(f"recu-{days_ago}.pdf"))


def _full_story(grant: Grant, member: User, officer: User, approver: User | None) -> None:
    """All of the match verified (part in euros), tranche 1 paid, a progress report waiting to be read."""
    required = grant.required_association_xof
    euros = _declare(grant, member, 300_000, 40, currency="EUR")  # 3 000 € from the members' fund-raising
    contributions.verify_contribution(grant, euros.id, officer)
    rest = required - euros.amount_xof
    if rest > 0:
        contributions.verify_contribution(grant, _declare(grant, member, rest, 20).id, officer)
    community = _declare(grant, member, 500_000, 10, source="community")  # verified too, but not counted
    contributions.verify_contribution(grant, community.id, officer)
    first = grant.tranches[0] if grant.tranches else None
    if first is not None:
        recorder = officer if first.amount_xof <= disbursements.four_eyes_threshold() or approver is None else approver
        done = disbursements.record_disbursement(
            grant, recorder, tranche_number=first.number, amount_xof=first.amount_xof, value_date=utcnow().date(),
            bank_reference="BTCI-VIR-2026-0001", idempotency_key=str(uuid.uuid4()))
        if done.request is not None and approver is not None and recorder.id != approver.id:
            disbursements.approve_request(grant, done.request.id, approver)
    if grant.status == GrantStatus.ACTIVE:
        lines = grant.project.budget_lines
        today = utcnow().date()
        reports.file_report(
            grant, member, kind="progress", period_start=today - timedelta(days=60), period_end=today,
            narrative="Les travaux ont commencé : le site est dégagé et le matériel est livré.", progress_pct=35,
            expenses={lines[0].id: lines[0].amount_xof // 3} if lines else {}, files=[])


def seed_money(grants: Iterable[Grant]) -> str:
    """Give the demo grants some money history; returns a one-line summary (tolerates no grant at all)."""
    grants = [g for g in grants if g.status in common.OPEN_STATUSES]
    officer, approver = _first(Role.OFFICER), _first(Role.APPROVER)
    if not grants or officer is None:
        return "demo money: no grant to fill"
    done = 0
    for index, grant in enumerate(grants):
        member = _first(Role.ASSOCIATION, association_id=grant.project.association_id)
        if member is None:
            continue
        try:
            if index == 0:
                _full_story(grant, member, officer, approver)
            elif index == 1:
                _declare(grant, member, max(1, grant.required_association_xof // 2), 5)  # waits for the officer
            else:
                part = _declare(grant, member, max(1, grant.required_association_xof // 4), 15)
                contributions.verify_contribution(grant, part.id, officer)
        except LedgerError:
            continue  # a demo grant whose data does not fit the story keeps what it has
        done += 1
    db.session.flush()
    return f"demo money: {done} grant{'' if done == 1 else 's'} with contributions, disbursements and reports"
