"""The association's table, read by the one engine (:mod:`codev.core.workflow`).

An association signs up ``pending``; a programme officer verifies it (``pending → verified``) or
rejects it with the reason its members will read (``pending → rejected``). A member who corrects the
profile or sends new statutes of a rejected association sends it back for verification
(``rejected → pending``). The decision is kept on the association itself: who decided and when, and the
reason of a rejection (kept when it goes back to pending, so the officer reads what was asked). A verified
association merged into another as its duplicate is closed (``verified → rejected``). Nothing
but :meth:`~codev.core.workflow.Workflow.fire` assigns ``association.status``.
"""

from __future__ import annotations

from typing import Any

from codev.accounts.models import Association, AssociationStatus, Role
from codev.core.i18n import lazy_gettext as _l
from codev.core.timeutil import utcnow
from codev.core.workflow import MESSAGE_REQUIRED, Transition, Workflow, register, row

S = AssociationStatus


def own_association(association: Association, user: Any) -> bool:
    """The person is a member of the association."""
    return getattr(user, "role", None) == Role.ASSOCIATION and getattr(user, "association_id", None) == association.id


def keep_decision(association: Association, transition: Transition, source: str, user: Any,
                  message: str | None) -> None:
    """The association's history is its last decision: who verified or rejected it, when, and why."""
    if transition.target == S.PENDING:  # back for verification: undecided again, the last reason kept
        association.verified_by_id = None
        association.verified_at = None
        return
    association.verified_by_id = getattr(user, "id", None)
    association.verified_at = utcnow()
    association.status_reason = message if transition.target == S.REJECTED else None


ASSOCIATION = Workflow(
    name="association", states=AssociationStatus, initial=frozenset({S.PENDING}),
    transitions=(
        row("verify", {S.PENDING}, S.VERIFIED, {Role.OFFICER}, _l("Verify the association")),
        row("reject", {S.PENDING}, S.REJECTED, {Role.OFFICER}, _l("Reject the association"),
            message=MESSAGE_REQUIRED),
        # A verified association found to be a duplicate of another is closed by the merge
        # (codev.accounts.duplicates); a pending one goes through "reject".
        row("close_duplicate", {S.VERIFIED}, S.REJECTED, {Role.OFFICER}, _l("Close as a duplicate"),
            message=MESSAGE_REQUIRED),
        row("resubmit", {S.REJECTED}, S.PENDING, {Role.ASSOCIATION}, _l("Send back for verification"),
            guard=own_association),
    ),
    history=keep_decision,
    audit_extra=lambda association: {"status_reason": association.status_reason},
)

register(ASSOCIATION)
