"""The committee's rows of the project workflow: a qualified (or deferred) project is decided.

Both "approved" and "approved with conditions" move the project to ``approved`` (the outcome and the
conditions are on the :class:`~codev.reviews.models.CommitteeDecision`); a deferred project comes back
before a later session, which approves or rejects it. Officers and approvers record decisions, always
with the reason, which becomes the message of the history entry. Registered at import time.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from codev.accounts.models import Role
from codev.projects.models import ProjectStatus as S
from codev.projects.workflow import MESSAGE_REQUIRED, Transition, register

DECIDERS = frozenset({Role.OFFICER, Role.APPROVER})

COMMITTEE_TRANSITIONS = (
    Transition(
        "approved", frozenset({S.QUALIFIED, S.DEFERRED}), S.APPROVED, DECIDERS,
        _l("Approve"), message=MESSAGE_REQUIRED,
    ),
    Transition(
        "rejected", frozenset({S.QUALIFIED, S.DEFERRED}), S.REJECTED, DECIDERS,
        _l("Reject"), message=MESSAGE_REQUIRED,
    ),
    Transition(
        "deferred", frozenset({S.QUALIFIED}), S.DEFERRED, DECIDERS,
        _l("Defer to a later session"), message=MESSAGE_REQUIRED,
    ),
)

register(*COMMITTEE_TRANSITIONS)
