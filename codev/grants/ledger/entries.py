"""The counterpart ledger, read: the state of each declaration and the association's verified money V.

The ledger is append-only (the database refuses UPDATE and DELETE): a declaration (``declared``) is
followed by at most one decision (``verified`` or ``rejected``) and a verified one by at most one
``reversal``. The state of a declaration and the eligible verified money ``V`` follow from the entries
alone: :func:`read_ledger` computes them from a list of entries (pure, so the property tests can use
it) and :func:`verified_sums` aggregates the same in SQL for the pages. The services that write the
ledger are in :mod:`codev.grants.ledger.contributions`.

V = Σ verified, not reversed, association cash + ⌊Σ same for in kind × in_kind_counts_bps / 10 000⌋;
the community's, the commune's and other partners' money is recorded but does not count toward V.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import BigInteger, and_, cast, exists, func, select
from sqlalchemy.orm import aliased

from codev.accounts.models import Role
from codev.core.i18n import lazy_gettext as _l
from codev.core.money import eligible_money
from codev.extensions import db
from codev.grants.common import OPEN_STATUSES
from codev.grants.models import ContributionEntry, Disbursement, EntryKind, Grant
from codev.projects.models import FundingSource

ELIGIBLE_SOURCES = (FundingSource.ASSOCIATION_CASH, FundingSource.ASSOCIATION_IN_KIND)


class DeclarationState(StrEnum):
    DECLARED = "declared"  # waits for an officer
    VERIFIED = "verified"
    REJECTED = "rejected"
    REVERSED = "reversed"  # was verified, then cancelled

    @property
    def label(self) -> str:
        return str(DECLARATION_STATE_LABELS[self])


DECLARATION_STATE_LABELS = {
    DeclarationState.DECLARED: _l("To verify"),
    DeclarationState.VERIFIED: _l("Verified"),
    DeclarationState.REJECTED: _l("Not accepted"),
    DeclarationState.REVERSED: _l("Reversed after verification"),
}


# --- the pure reading of a ledger -------------------------------------------------------------


class EntryLike(Protocol):
    id: int
    kind: str
    refers_to_id: int | None
    source: str
    amount_xof: int


@dataclass
class Ledger:
    """What a list of entries says: each declaration's state and the money verified by source."""

    in_kind_counts_bps: int
    states: dict[int, DeclarationState] = field(default_factory=dict)
    decisions: dict[int, Any] = field(default_factory=dict)  # declaration id → verified/rejected entry
    reversals: dict[int, Any] = field(default_factory=dict)  # declaration id → reversal entry
    verified_by_source: dict[str, int] = field(default_factory=dict)
    pending_xof: int = 0  # declared, not decided yet

    @property
    def verified_cash(self) -> int:
        return self.verified_by_source.get(FundingSource.ASSOCIATION_CASH, 0)

    @property
    def verified_in_kind(self) -> int:
        return self.verified_by_source.get(FundingSource.ASSOCIATION_IN_KIND, 0)

    @property
    def eligible_verified(self) -> int:
        """V: the association's verified money that the match counts."""
        return eligible_money(self.verified_cash, self.verified_in_kind, self.in_kind_counts_bps)


def read_ledger(entries: Iterable[EntryLike], in_kind_counts_bps: int) -> Ledger:
    """The state of every declaration and the verified money, from the entries alone (pure)."""
    entries = list(entries)
    ledger = Ledger(in_kind_counts_bps)
    for entry in entries:
        if entry.kind in (EntryKind.VERIFIED, EntryKind.REJECTED):
            ledger.decisions[entry.refers_to_id] = entry
        elif entry.kind == EntryKind.REVERSAL:
            ledger.reversals[entry.refers_to_id] = entry
    for entry in entries:
        if entry.kind != EntryKind.DECLARED:
            continue
        decision = ledger.decisions.get(entry.id)
        if decision is None:
            state = DeclarationState.DECLARED
            ledger.pending_xof += entry.amount_xof
        elif decision.kind == EntryKind.REJECTED:
            state = DeclarationState.REJECTED
        elif entry.id in ledger.reversals:
            state = DeclarationState.REVERSED
        else:
            state = DeclarationState.VERIFIED
            ledger.verified_by_source[entry.source] = ledger.verified_by_source.get(entry.source, 0) + entry.amount_xof
        ledger.states[entry.id] = state
    return ledger


def eligible_verified(entries: Iterable[EntryLike], in_kind_counts_bps: int) -> int:
    """V computed from the entries (pure): the reference the SQL version must agree with."""
    return read_ledger(entries, in_kind_counts_bps).eligible_verified


# --- the same in SQL, for pages and lists ------------------------------------------------------


@dataclass(frozen=True)
class VerifiedSums:
    cash: int = 0
    in_kind: int = 0
    other: int = 0  # community, commune, other partners: recorded, not counted
    in_kind_counts_bps: int = 0

    @property
    def eligible(self) -> int:
        return eligible_money(self.cash, self.in_kind, self.in_kind_counts_bps)


def _standing_declarations():
    """Declarations with a verified entry and no reversal (a correlated SQL condition)."""
    decision = aliased(ContributionEntry)
    reversal = aliased(ContributionEntry)
    declared = ContributionEntry
    return and_(
        declared.kind == EntryKind.DECLARED,
        exists().where(decision.refers_to_id == declared.id, decision.kind == EntryKind.VERIFIED),
        ~exists().where(reversal.refers_to_id == declared.id, reversal.kind == EntryKind.REVERSAL),
    )


def verified_by_source(grant_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Verified, not reversed, money by grant and source, in one query."""
    ids = list(dict.fromkeys(grant_ids))
    result: dict[int, dict[str, int]] = {grant_id: {} for grant_id in ids}
    if not ids:
        return result
    rows = db.session.execute(
        select(ContributionEntry.grant_id, ContributionEntry.source,
               cast(func.sum(ContributionEntry.amount_xof), BigInteger))
        .where(ContributionEntry.grant_id.in_(ids), _standing_declarations())
        .group_by(ContributionEntry.grant_id, ContributionEntry.source)
    ).all()
    for grant_id, source, total in rows:
        result[grant_id][source] = int(total or 0)
    return result


def sums_of(by_source: dict[str, int], in_kind_counts_bps: int) -> VerifiedSums:
    return VerifiedSums(
        cash=by_source.get(FundingSource.ASSOCIATION_CASH, 0),
        in_kind=by_source.get(FundingSource.ASSOCIATION_IN_KIND, 0),
        other=sum(v for k, v in by_source.items() if k not in ELIGIBLE_SOURCES),
        in_kind_counts_bps=in_kind_counts_bps,
    )


def verified_sums(grants: Iterable[Grant]) -> dict[int, VerifiedSums]:
    """Verified money of each grant (cash, in kind, others and V), in one query."""
    grants = list(grants)
    by_grant = verified_by_source(g.id for g in grants)
    return {g.id: sums_of(by_grant[g.id], g.in_kind_counts_bps) for g in grants}


def eligible_verified_sql(grant: Grant) -> int:
    """V of one grant, aggregated in the database."""
    return verified_sums([grant])[grant.id].eligible


def disbursed_total(grant_id: int) -> int:
    """D: everything paid out of the grant so far."""
    total = db.session.scalar(
        select(cast(func.coalesce(func.sum(Disbursement.amount_xof), 0), BigInteger))
        .where(Disbursement.grant_id == grant_id)
    )
    return int(total or 0)


def grant_entries(grant_id: int) -> list[ContributionEntry]:
    """Every entry of a grant's ledger in order, with proofs and authors, in one query."""
    from sqlalchemy.orm import joinedload

    return list(db.session.scalars(
        select(ContributionEntry).where(ContributionEntry.grant_id == grant_id)
        .options(joinedload(ContributionEntry.proof), joinedload(ContributionEntry.created_by))
        .order_by(ContributionEntry.id)
    ))


def _undecided():
    """Declarations of open grants without a decision (a correlated SQL condition)."""
    decision = aliased(ContributionEntry)
    return and_(
        ContributionEntry.kind == EntryKind.DECLARED, Grant.status.in_(OPEN_STATUSES),
        ~exists().where(decision.refers_to_id == ContributionEntry.id,
                        decision.kind.in_((EntryKind.VERIFIED, EntryKind.REJECTED))),
    )


def count_to_verify() -> int:
    """Declarations that wait for an officer (the officer's home card)."""
    return db.session.scalar(
        select(func.count(ContributionEntry.id)).join(Grant, Grant.id == ContributionEntry.grant_id)
        .where(_undecided())
    ) or 0


def to_verify_query():
    """Declarations that wait for an officer, oldest first (the officer's list)."""
    return (
        select(ContributionEntry).join(Grant, Grant.id == ContributionEntry.grant_id).where(_undecided())
        .order_by(ContributionEntry.created_at, ContributionEntry.id)
    )


# --- who may do what ----------------------------------------------------------------------------


def is_member(user: Any, grant: Grant) -> bool:
    """A member of the association whose project received ``grant`` (the rule of :mod:`codev.grants.access`)."""
    from codev.grants.access import is_grant_member

    return is_grant_member(user, grant)


def can_declare(user: Any, grant: Grant) -> bool:
    return is_member(user, grant) and grant.status in OPEN_STATUSES


def can_decide(user: Any, grant: Grant | None = None) -> bool:
    """Officers verify, reject and reverse declarations."""
    return getattr(user, "is_authenticated", False) and user.role == Role.OFFICER
