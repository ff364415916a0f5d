"""The counterpart ledger: the association declares the money it brought, an officer verifies it.

The ledger is append-only (the database refuses UPDATE and DELETE): a declaration (``declared``) is
followed by at most one decision (``verified`` or ``rejected``) and a verified one by at most one
``reversal``. The state of a declaration and the eligible verified money ``V`` follow from the entries
alone: :func:`read_ledger` computes them from a list of entries (pure, so the property tests can use
it) and :func:`verified_sums` aggregates the same in SQL for the pages.

V = Σ verified, not reversed, association cash + ⌊Σ same for in kind × in_kind_counts_bps / 10 000⌋;
the community's, the commune's and other partners' money is recorded but does not count toward V.

Forms sent once: the declaration form carries an idempotency key (as do the report and disbursement
forms). :func:`keyed_record` finds what a key recorded on a grant; the form's service records once per
key (:class:`Sent` says whether the record is new), and a key of another grant is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, and_, cast, exists, func, select, text
from sqlalchemy.orm import aliased
from werkzeug.datastructures import FileStorage

from codev.accounts.models import Role, User
from codev.calls.rates import to_xof
from codev.core import audit
from codev.core.mail import queue_mail
from codev.core.money import CURRENCIES, MAX_XOF, MoneyError, disbursable, eligible_money, format_xof
from codev.core.storage import discard_file, store_upload
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db
from codev.grants.models import ContributionEntry, Disbursement, EntryKind, Grant, GrantStatus
from codev.projects.models import FundingSource

PROOF_FORMATS = ("pdf", "jpeg", "png")
DEFAULT_PROOF_MAX_BYTES = 10 * 1024 * 1024
XOF_RATE = 1_000_000
# Grants whose ledger is still open to declarations and decisions.
OPEN_STATUSES = (GrantStatus.AWARDED, GrantStatus.ACTIVE)
ELIGIBLE_SOURCES = (FundingSource.ASSOCIATION_CASH, FundingSource.ASSOCIATION_IN_KIND)


class LedgerError(DomainError):
    """A refused operation on a grant's money; ``str()`` is meant for the person, ``field`` names the input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field=field)


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


def lock_grant(grant: Grant) -> None:
    """Serialise the money operations of one grant until the transaction ends.

    A no-op UPDATE takes the row lock on PostgreSQL and the write lock on SQLite (where SELECT alone
    takes none), so two disbursements, or a disbursement and a reversal, never both read the same D
    and V. The grant is then read again: another transaction may have changed it meanwhile.
    """
    db.session.execute(text("UPDATE grants SET status = status WHERE id = :id"), {"id": grant.id})
    db.session.refresh(grant)


# --- forms sent once ---------------------------------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True)
class Sent(Generic[T]):
    """What a form with an idempotency key recorded, and whether an earlier sending had recorded it."""

    record: T
    duplicate: bool = False


def valid_key(key: str | None) -> bool:
    """An idempotency key as the forms make them: a UUID, written the way :mod:`uuid` writes it."""
    try:
        return key is not None and len(key) == 36 and str(uuid.UUID(key)) == key
    except ValueError:
        return False


def form_expired() -> LedgerError:
    """The refusal of a form whose key is no key, or belongs to another grant."""
    return LedgerError(_("This form has expired: reload the page and fill it in again."), "idempotency_key")


def keyed_record(model: Any, grant: Grant, key: str | None) -> Any | None:
    """The row of ``model`` that the idempotency ``key`` recorded on ``grant`` (None if nothing, or no key).

    What the views read before a form is validated, to answer "already recorded".
    """
    if not valid_key(key):
        return None
    found = db.session.scalar(select(model).where(model.idempotency_key == key))
    return found if found is not None and found.grant_id == grant.id else None


def sent_before(model: Any, grant: Grant, key: str) -> Any | None:
    """What ``key`` already recorded on ``grant`` (None if nothing); a malformed key or one of another grant
    is refused (:func:`form_expired`)."""
    if not valid_key(key):
        raise form_expired()
    found = db.session.scalar(select(model).where(model.idempotency_key == key))
    if found is not None and found.grant_id != grant.id:
        raise form_expired()
    return found


def claim_key(model: Any, grant: Grant, key: str | None) -> Any | None:
    """Before a keyed form records anything: the grant is locked, then what the key recorded is read again.

    Two sendings at once (a double click, two workers) both pass the first look; the second waits for
    the lock, then finds the first one's record. Returns that record, or None when the form is new (and
    nothing when there is no key: the demo and scripts record without one).
    """
    if key is None:
        return None
    lock_grant(grant)
    return sent_before(model, grant, key)


# --- services -----------------------------------------------------------------------------------


def proof_max_bytes() -> int:
    return int(current_app.config.get("PROOF_MAX_BYTES") or DEFAULT_PROOF_MAX_BYTES)


def convert(amount_minor: int, currency: str, value_date: date) -> tuple[int, int]:
    """(francs, rate in millionths) of an amount typed in ``currency``: XOF amounts are francs already."""
    if currency == "XOF":
        return amount_minor, XOF_RATE
    return to_xof(amount_minor, currency, value_date)


def declare_contribution(
    grant: Grant, user: User, *, source: str, currency: str, amount_minor: int, value_date: date,
    proof: FileStorage | None, today: date | None = None,
) -> ContributionEntry:
    """Declare a contribution outside any form (the demo, scripts, tests): see :func:`declare_from_form`."""
    return declare_from_form(grant, user, source=source, currency=currency, amount_minor=amount_minor,
                             value_date=value_date, proof=proof, idempotency_key=None, today=today).record


def declare_from_form(
    grant: Grant, user: User, *, source: str, currency: str, amount_minor: int, value_date: date,
    proof: FileStorage | None, idempotency_key: str | None, today: date | None = None,
) -> Sent[ContributionEntry]:
    """The association declares money it brought, with a proof; an officer will verify it.

    ``amount_minor`` is francs for XOF and cents for the other currencies; the amount is converted at
    the value date's rate and both figures are kept. Once per idempotency key: the form sent again
    returns the first declaration, marked duplicate, and its proof is not stored a second time.
    """
    today = today or utcnow().date()
    if not is_member(user, grant):
        raise LedgerError(_("Only the members of the association can declare its contributions."))
    if idempotency_key is not None and (found := sent_before(ContributionEntry, grant, idempotency_key)):
        return Sent(found, duplicate=True)
    if grant.status not in OPEN_STATUSES:
        raise LedgerError(_("This grant is “%(state)s”: contributions can no longer be declared.",
                            state=GrantStatus(grant.status).label))
    if source not in {s.value for s in FundingSource}:
        raise LedgerError(_("Choose who brought this money."), "source")
    if currency not in CURRENCIES:
        raise LedgerError(_("Choose one of the listed currencies."), "currency")
    if not isinstance(amount_minor, int) or amount_minor <= 0:
        raise LedgerError(_("The amount must be greater than zero."), "amount")
    if value_date > today:
        raise LedgerError(_("The value date cannot be in the future."), "value_date")
    try:
        amount_xof, rate = convert(amount_minor, currency, value_date)
    except MoneyError as exc:
        raise LedgerError(str(exc), "amount") from exc
    if amount_xof <= 0:
        raise LedgerError(_("This amount is less than one franc CFA."), "amount")
    if amount_xof > MAX_XOF:
        raise LedgerError(_("This amount is too large."), "amount")
    if proof is None or not proof.filename:
        raise LedgerError(_("Attach the proof of this contribution (receipt, bank statement, photo)."), "proof")
    if found := claim_key(ContributionEntry, grant, idempotency_key):
        return Sent(found, duplicate=True)
    stored = store_upload(proof, kind="proof_of_payment", allowed=PROOF_FORMATS, max_bytes=proof_max_bytes(),
                          uploaded_by_id=user.id)
    try:
        entry = ContributionEntry(
            grant_id=grant.id, kind=EntryKind.DECLARED, source=source, currency=currency,
            amount_minor=amount_minor, rate_millionths=rate, amount_xof=amount_xof, value_date=value_date,
            proof_id=stored.id, created_by_id=user.id, idempotency_key=idempotency_key,
        )
        db.session.add(entry)
        db.session.flush()
        audit.record("contribution.declared", entry, actor=user, after=_entry_facts(entry))
        db.session.flush()
    except Exception:
        discard_file(stored)
        raise
    return Sent(entry)


def _entry_facts(entry: ContributionEntry) -> dict:
    return {"grant_id": entry.grant_id, "kind": str(entry.kind), "source": str(entry.source),
            "currency": entry.currency, "amount_minor": entry.amount_minor, "rate": entry.rate_millionths,
            "amount_xof": entry.amount_xof, "value_date": entry.value_date.isoformat(),
            "refers_to_id": entry.refers_to_id, "note": entry.note}


def _declaration(grant: Grant, entry_id: int) -> tuple[ContributionEntry, Ledger]:
    ledger = read_ledger(grant_entries(grant.id), grant.in_kind_counts_bps)
    entry = db.session.get(ContributionEntry, entry_id)
    if entry is None or entry.grant_id != grant.id or entry.kind != EntryKind.DECLARED:
        raise LedgerError(_("This declaration does not exist."))
    return entry, ledger


def _follow_up(declaration: ContributionEntry, kind: EntryKind, user: User, note: str | None) -> ContributionEntry:
    """A new entry about ``declaration`` carrying its figures (the ledger is never edited)."""
    entry = ContributionEntry(
        grant_id=declaration.grant_id, kind=kind, refers_to_id=declaration.id, source=declaration.source,
        currency=declaration.currency, amount_minor=declaration.amount_minor,
        rate_millionths=declaration.rate_millionths, amount_xof=declaration.amount_xof,
        value_date=declaration.value_date, note=note, created_by_id=user.id,
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(f"contribution.{kind}", entry, actor=user, after=_entry_facts(entry))
    db.session.flush()
    return entry


def _require_officer(user: Any, grant: Grant) -> None:
    if not can_decide(user, grant):
        raise LedgerError(_("Only a programme officer can verify contributions."))
    if grant.status not in OPEN_STATUSES:
        raise LedgerError(_("This grant is “%(state)s”: its ledger is closed.", state=GrantStatus(grant.status).label))


def verify_contribution(grant: Grant, entry_id: int, user: User) -> ContributionEntry:
    """An officer confirms a declaration: its money now counts toward V (if the source counts)."""
    _require_officer(user, grant)
    lock_grant(grant)
    declaration, ledger = _declaration(grant, entry_id)
    if ledger.states[declaration.id] != DeclarationState.DECLARED:
        raise LedgerError(_("This declaration has already been decided."))
    entry = _follow_up(declaration, EntryKind.VERIFIED, user, None)
    _tell_members(grant, "contribution_verified", declaration)
    return entry


def reject_contribution(grant: Grant, entry_id: int, user: User, reason: str) -> ContributionEntry:
    """An officer refuses a declaration, saying why; the association may declare again."""
    _require_officer(user, grant)
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(_("Say why the declaration is rejected."), "reason")
    lock_grant(grant)
    declaration, ledger = _declaration(grant, entry_id)
    if ledger.states[declaration.id] != DeclarationState.DECLARED:
        raise LedgerError(_("This declaration has already been decided."))
    entry = _follow_up(declaration, EntryKind.REJECTED, user, reason)
    _tell_members(grant, "contribution_rejected", declaration, reason=reason)
    return entry


def reverse_contribution(grant: Grant, entry_id: int, user: User, reason: str) -> ContributionEntry:
    """An officer cancels a verified declaration (a correction is a new entry, never an edit).

    Refused when the state's money already paid relies on it (rule 4 must keep holding).
    """
    _require_officer(user, grant)
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(_("Say why the contribution is reversed."), "reason")
    lock_grant(grant)
    declaration, ledger = _declaration(grant, entry_id)
    if ledger.states[declaration.id] != DeclarationState.VERIFIED:
        raise LedgerError(_("Only a verified contribution can be reversed."))
    after = dict(ledger.verified_by_source)
    after[declaration.source] -= declaration.amount_xof
    v_after = eligible_money(after.get(FundingSource.ASSOCIATION_CASH, 0),
                             after.get(FundingSource.ASSOCIATION_IN_KIND, 0), grant.in_kind_counts_bps)
    disbursed = disbursed_total(grant.id)
    limit = disbursable(grant.amount_xof, grant.ratio, v_after)
    if disbursed > limit:
        raise LedgerError(_(
            "This contribution cannot be reversed: %(disbursed)s has already been disbursed, and without it the "
            "verified contribution would allow at most %(limit)s. Verify a replacement contribution first.",
            disbursed=format_xof(disbursed), limit=format_xof(limit)))
    entry = _follow_up(declaration, EntryKind.REVERSAL, user, reason)
    _tell_members(grant, "contribution_reversed", declaration, reason=reason)
    return entry


# --- mail ----------------------------------------------------------------------------------------


def grant_url(grant: Grant) -> str:
    """The grant page's address, also from the command line (the approval module builds it)."""
    from codev.grants.award.approval import grant_url as url

    return url(grant)


def grant_members(grant: Grant) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.association_id == grant.project.association_id, User.role == Role.ASSOCIATION,
                           User.active.is_(True)).order_by(User.id)
    ))


def mail_members(grant: Grant, template: str, **context: Any) -> None:
    """Email every active member of the grant's association, each in their language."""
    from flask_babel import force_locale

    from codev.core.money import format_xof

    project = grant.project
    for person in grant_members(grant):
        with force_locale(person.locale):
            values = {"title": project.title, "reference": project.reference, "url": grant_url(grant),
                      "grant": format_xof(grant.amount_xof, person.locale), **context}
            values = {k: (v(person.locale) if callable(v) else v) for k, v in values.items()}
        queue_mail(person.email, person.locale, template, name=person.name, **values)


def long_date(day: date):
    """A date written out in the recipient's language (for :func:`mail_members`)."""
    from flask_babel import format_date

    return lambda locale: format_date(day, "long")


def _tell_members(grant: Grant, template: str, declaration: ContributionEntry, **context: Any) -> None:
    from codev.core.money import format_xof

    amount = declaration.amount_xof
    mail_members(grant, template, amount=lambda locale: format_xof(amount, locale),
                 value_date=long_date(declaration.value_date), **context)
