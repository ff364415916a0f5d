"""What every part of a grant's money shares: its refusal, its lock, its open statuses, its mail, and
forms sent once.

Forms sent once: the declaration, report and disbursement forms carry an idempotency key.
:func:`keyed_record` finds what a key recorded on a grant; the form's service records once per key
(:class:`Sent` says whether the record is new), and a key of another grant is refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from sqlalchemy import select, text

from codev.accounts.models import Role, User
from codev.core.i18n import gettext as _
from codev.core.mail import queue_mail
from codev.core.money import format_xof
from codev.core.unit_of_work import DomainError
from codev.extensions import db
from codev.grants.models import AwardLetter, Grant, GrantStatus, LetterStatus

# Grants whose money is still open to declarations, decisions and payments.
OPEN_STATUSES = (GrantStatus.AWARDED, GrantStatus.ACTIVE)


class LedgerError(DomainError):
    """A refused operation on a grant's money; ``str()`` is meant for the person, ``field`` names the input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field=field)



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


# --- mail ----------------------------------------------------------------------------------------


def grant_url(grant: Grant) -> str:
    """The grant page's address, also from the command line (no request: the public base URL)."""
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for("grants.detail", grant_id=grant.id, _external=True)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/grants/{grant.id}"


def grant_members(grant: Grant) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.association_id == grant.project.association_id, User.role == Role.ASSOCIATION,
                           User.active.is_(True)).order_by(User.id)
    ))


def mail_members(grant: Grant, template: str, *, officers: bool = False, **context: Any) -> None:
    """Email every active member of the grant's association, each in their language; with ``officers``,
    the programme officers too (the template's ``_officer`` variant).

    Every email knows the project, the grant (its amount written the reader's way, and as a number with
    ``xof`` to format it), the contribution required and its deadline, and the reference of the valid
    letter in the reader's language. A callable in ``context`` is called with the reader's locale (an
    amount or a date written their way).
    """
    project = grant.project
    letters = dict(db.session.execute(
        select(AwardLetter.language, AwardLetter.reference)
        .where(AwardLetter.grant_id == grant.id, AwardLetter.status == LetterStatus.VALID)
    ).all())

    def send(person: User, name: str, letter_language: str) -> None:
        with force_locale(person.locale):
            values = {"title": project.title, "reference": project.reference,
                      "association": project.association.display_name, "url": grant_url(grant),
                      "grant": format_xof(grant.amount_xof, person.locale), "amount": grant.amount_xof,
                      "required": grant.required_association_xof, "deadline": grant.contribution_deadline,
                      **context}
            values = {k: (v(person.locale) if callable(v) else v) for k, v in values.items()}
        queue_mail(person.email, person.locale, name, name=person.name, xof=format_xof,
                   letter=letters.get(letter_language, ""), **values)

    for person in grant_members(grant):
        send(person, template, project.association.locale)
    if officers:
        for person in db.session.scalars(
            select(User).where(User.role == Role.OFFICER, User.active.is_(True)).order_by(User.id)
        ):
            send(person, f"{template}_officer", person.locale)


def long_date(day: date):
    """A date written out in the recipient's language (for :func:`mail_members`)."""
    from flask_babel import format_date

    return lambda locale: format_date(day, "long")
