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

from flask_babel import gettext as _
from sqlalchemy import select, text

from codev.accounts.models import Role, User
from codev.core.mail import queue_mail
from codev.core.money import format_xof
from codev.core.unit_of_work import DomainError
from codev.extensions import db
from codev.grants.models import Grant, GrantStatus

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
