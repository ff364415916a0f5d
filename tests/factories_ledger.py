"""Factories and helpers for the grants' money tests: grants as the approval leaves them, declared and
verified contributions through the services, small proof files."""

from __future__ import annotations

import io
from datetime import date, timedelta

from werkzeug.datastructures import FileStorage

from codev.calls.models import TrancheCondition
from codev.core.money import Ratio
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.award.approval import rules_snapshot
from codev.grants.ledger import contributions
from codev.grants.models import Grant, GrantStatus, GrantTranche
from codev.projects.models import BudgetLine, ProjectStatus
from codev.projects.workflow import plan_figures
from tests.factories import CallFactory, UserFactory
from tests.factories_projects import PDF_BYTES, ProjectFactory

PLAN = ((4000, TrancheCondition.CONTRIBUTION_VERIFIED), (4000, TrancheCondition.PROGRESS_REPORT),
        (2000, TrancheCondition.FINAL_REPORT))


def make_grant(member=None, *, amount: int = 10_000_000, ratio: tuple[int, int] = (1, 1), in_kind_bps: int = 5000,
               required: int | None = None, plan=PLAN, deadline: date | None = None, status=GrantStatus.AWARDED,
               approver=None, call=None) -> Grant:
    """A grant as the approval leaves it: a funded project, the amount committed on the call's envelope."""
    member = member or UserFactory(member=True)
    approver = approver or UserFactory(approver=True)
    call = call or CallFactory(open=True, committed_xof=0)
    call.committed_xof += amount
    project = ProjectFactory(association=member.association, call=call, status=ProjectStatus.FUNDED,
                             reference=f"CODEV-2026-{db.session.query(Grant).count() + 1:04d}-{call.id}",
                             requested_grant_xof=amount, created_by_id=member.id)
    project.budget_lines = [
        BudgetLine(position=0, category="works", description="Forage et pompe", quantity=1,
                   unit_cost_xof=7_000_000, amount_xof=7_000_000),
        BudgetLine(position=1, category="equipment", description="Château d'eau", quantity=2,
                   unit_cost_xof=1_500_000, amount_xof=3_000_000),
    ]
    num, den = ratio
    grant = Grant(
        project=project, call=call, amount_xof=amount, ratio_num=num, ratio_den=den, in_kind_counts_bps=in_kind_bps,
        rules_snapshot=rules_snapshot(call, plan_figures(project), amount, amount),
        required_association_xof=required if required is not None else Ratio(num, den).required_for(amount),
        contribution_deadline=deadline or utcnow().date() + timedelta(days=90), status=status,
        approved_by_id=approver.id,
    )
    shares = [share for share, _ in plan]
    amounts = [amount * share // 10_000 for share in shares[:-1]]
    amounts.append(amount - sum(amounts))  # the last tranche takes the rounding rest
    grant.tranches = [GrantTranche(number=i + 1, share_bps=share, amount_xof=a, condition=condition)
                      for i, ((share, condition), a) in enumerate(zip(plan, amounts, strict=True))]
    db.session.add(grant)
    db.session.flush()
    return grant


def proof(data: bytes = PDF_BYTES, name: str = "recu.pdf") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="application/pdf")


def declare(grant, member, amount: int, *, source: str = "association_cash", currency: str = "XOF",
            value_date: date | None = None):
    return contributions.declare_contribution(grant, member, source=source, currency=currency, amount_minor=amount,
                                       value_date=value_date or utcnow().date() - timedelta(days=1), proof=proof())


def verified(grant, member, officer, amount: int, *, source: str = "association_cash"):
    """A declaration verified by ``officer`` (returns the declaration)."""
    entry = declare(grant, member, amount, source=source)
    contributions.verify_contribution(grant, entry.id, officer)
    return entry


def member_of_grant(grant):
    return UserFactory(role="association", association=grant.project.association)


def page_text(response) -> str:
    """The page as text, with the narrow and non-breaking spaces of French numbers made plain spaces."""
    return response.get_data(as_text=True).replace("\u202f", " ").replace("\xa0", " ")
