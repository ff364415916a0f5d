"""Cancellation (DESIGN.md rule 6): an approver cancels an awarded or active grant, with the reason.

The project is abandoned, the association dissolved, a declaration proved false: the grant stops. What
was disbursed stays disbursed (D); the unspent balance G − D returns to the call's envelope through the
one guarded statement (:func:`codev.core.money.release_envelope`), so the envelope stays exact however
many approvals and cancellations run at once, and is offered to the reserve list
(:func:`codev.grants.life.reserve.money_returned`). ``grants.released_xof`` records it. The grant's valid
letters are revoked with the reason (the public verification page says the grant was cancelled), the
project moves funded → lapsed, every move goes through the one engine, and the association's members
and the officers are told in their language.

A disbursement waiting for its second signature is money on its way out: it must be signed or refused
first, so that the balance returned is the one that stays unspent. The grant is locked for the whole
operation (:func:`codev.grants.common.lock_grant`), as disbursements lock it, so a payment and a
cancellation never both read the same D.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from codev.accounts.models import Role, User
from codev.core.i18n import gettext as _
from codev.core.i18n import ngettext
from codev.core.money import format_xof, release_envelope
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.award.letters import revoke_valid_letters, valid_letters
from codev.grants.common import OPEN_STATUSES, LedgerError, lock_grant, mail_members
from codev.grants.disbursements.tranches import MoneyFacts, money_facts
from codev.grants.life.reserve import money_returned
from codev.grants.models import AwardLetter, DisbursementRequest, Grant, GrantStatus, RequestStatus
from codev.grants.workflows import GRANT
from codev.projects.models import ProjectStatus
from codev.projects.workflow import PROJECT


class CancellationError(LedgerError):
    """A refused cancellation; the message says why, ``field`` names the input it is about."""


def can_cancel(user: Any) -> bool:
    """Approvers cancel grants (the table's row ``cancelled`` says the same)."""
    return getattr(user, "is_authenticated", False) and user.role == Role.APPROVER


@dataclass(frozen=True)
class CancellationFacts:
    """What a cancellation of the grant would do now: the money that returns, the letters revoked."""

    grant_amount: int  # G
    disbursed: int  # D: stays disbursed
    pending: int  # awaiting a second signature: blocks the cancellation
    pending_count: int
    letters: list[AwardLetter]  # valid letters, revoked by the cancellation

    @property
    def returned(self) -> int:
        """G − D: what goes back to the call's envelope."""
        return self.grant_amount - self.disbursed


def cancellation_facts(grant: Grant, facts: MoneyFacts | None = None) -> CancellationFacts:
    facts = facts or money_facts([grant])[grant.id]
    return CancellationFacts(grant.amount_xof, facts.d, facts.pending, len(pending_requests(grant)),
                             valid_letters(grant))


def pending_requests(grant: Grant) -> list[DisbursementRequest]:
    """The grant's disbursements that wait for a second signature, oldest first."""
    return list(db.session.scalars(select(DisbursementRequest).where(
        DisbursementRequest.grant_id == grant.id, DisbursementRequest.status == RequestStatus.PENDING)
        .order_by(DisbursementRequest.id)))


def cancellation_problem(grant: Grant, facts: CancellationFacts) -> str | None:
    """Why the grant cannot be cancelled now (None when it can)."""
    if grant.status == GrantStatus.CANCELLED:
        return _("This grant is already cancelled.")
    if grant.status not in OPEN_STATUSES:
        return _("A grant that is “%(state)s” cannot be cancelled.", state=GrantStatus(grant.status).label)
    if facts.pending_count:
        return ngettext(
            "A disbursement of %(amount)s awaits a second signature: an approver must sign or refuse it before "
            "the grant can be cancelled.",
            "%(num)d disbursements (%(amount)s in all) await a second signature: an approver must sign or refuse "
            "them before the grant can be cancelled.",
            facts.pending_count, amount=format_xof(facts.pending))
    return None


def cancel_grant(grant: Grant, user: User, reason: str) -> CancellationFacts:
    """Cancel ``grant``: G − D back to the envelope, letters revoked, project lapsed, everyone told.

    Raises :class:`CancellationError` (or the engine's ``TransitionRefused``) with a message for the
    person; flushes, never commits. Returns what the cancellation did.
    """
    if not can_cancel(user):
        raise CancellationError(_("Only an approver can cancel a grant."))
    reason = (reason or "").strip()
    if not reason:
        raise CancellationError(_("Say why the grant is cancelled: the association and the verification page "
                                  "will read it."), "reason")
    lock_grant(grant)  # a disbursement, a signature or another cancellation may be on its way
    facts = cancellation_facts(grant)
    problem = cancellation_problem(grant, facts)
    if problem:
        raise CancellationError(problem)
    returned = facts.returned
    if not release_envelope(db.session, grant.call_id, returned):
        raise CancellationError(_("The call's envelope does not hold this grant's money: nothing was changed."))
    grant.released_xof = returned
    grant.cancelled_at = utcnow()
    grant.cancelled_by_id = user.id
    grant.cancel_reason = reason
    GRANT.fire(grant, GrantStatus.CANCELLED, user, reason, audit_after={
        "released_xof": returned, "disbursed_xof": facts.disbursed,
        "letters": [letter.reference for letter in facts.letters]})
    revoke_valid_letters(grant, user, reason)
    project = grant.project
    if project.status == ProjectStatus.FUNDED:
        PROJECT.fire(project, ProjectStatus.LAPSED, user, _("The grant was cancelled: %(reason)s", reason=reason))
    db.session.expire(grant, ["call"])  # the call row was changed behind the ORM's back
    if returned:
        money_returned(grant.call_id, returned, user)
    mail_members(grant, "grant_cancelled", officers=True, reason=reason, released=returned,
                 disbursed=facts.disbursed, by=user.name)
    return facts
