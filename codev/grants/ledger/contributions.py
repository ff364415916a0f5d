"""Writing the counterpart ledger: the association declares the money it brought, an officer verifies,
rejects or reverses it. Every write is a new entry (the ledger is append-only); the reading is in
:mod:`codev.grants.ledger.entries`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from werkzeug.datastructures import FileStorage

from codev.accounts.models import User
from codev.calls.rates import to_xof
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.money import CURRENCIES, MAX_XOF, MoneyError, disbursable, eligible_money, format_xof
from codev.core.storage import discard_file, store_upload
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.common import (
    OPEN_STATUSES,
    LedgerError,
    Sent,
    claim_key,
    lock_grant,
    long_date,
    mail_members,
    sent_before,
)
from codev.grants.ledger.entries import (
    DeclarationState,
    Ledger,
    can_decide,
    disbursed_total,
    grant_entries,
    is_member,
    read_ledger,
)
from codev.grants.models import ContributionEntry, EntryKind, Grant, GrantStatus
from codev.projects.models import FundingSource

PROOF_FORMATS = ("pdf", "jpeg", "png")
DEFAULT_PROOF_MAX_BYTES = 10 * 1024 * 1024
XOF_RATE = 1_000_000


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


def _tell_members(grant: Grant, template: str, declaration: ContributionEntry, **context: Any) -> None:
    from codev.core.money import format_xof

    amount = declaration.amount_xof
    mail_members(grant, template, amount=lambda locale: format_xof(amount, locale),
                 value_date=long_date(declaration.value_date), **context)
