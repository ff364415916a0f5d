"""Irreversible actions ask first: one confirm step, without JavaScript.

An action that cannot be undone (closing a committee session, approving a grant, revoking a letter,
recording a disbursement, rejecting an association, …) posts its form as always; the view checks the
form, then, while the post lacks the ``confirm`` field, answers with a confirmation page instead of
acting: what will happen, with the real figures, what cannot be undone, a "Yes, …" button that posts
the same fields again with ``confirm=yes`` (what was typed kept in hidden fields, a fresh CSRF token)
and a link back. Only the confirmed post acts::

    if not form.validate_on_submit():
        return render_detail(grant, 400, revoke_form=form)
    if not confirmed():
        return ask(Confirmation(title=…, cannot_undo=…, button=_("Yes, revoke the letter"), back=…))
    with unit_of_work(form) as work:
        …

A confirmed post sent twice meets the view's usual answer to a second sending: the idempotency key of
a money form, or the refused transition of an object already moved on (a message, never a 500).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import render_template, request

CONFIRM_FIELD = "confirm"
CONFIRM_VALUE = "yes"
# Never carried: the token is issued afresh on the confirmation page, and the confirm field is the page's own.
NOT_CARRIED = frozenset({"csrf_token", CONFIRM_FIELD})


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation page says: the action with its figures, what cannot be undone, the buttons."""

    title: str  # the action in one sentence, with its figures: "Approve a grant of 4 000 000 F CFA to …"
    cannot_undo: str  # in plain words, what stays done
    button: str  # "Yes, approve the grant"
    back: str  # where "No, go back" leads: the page the action was asked from
    facts: Sequence[tuple[str, str]] = ()  # (label, value): the amounts, names, reasons typed
    consequences: Sequence[str] = ()  # what else happens (the association told, the envelope committed, …)
    action: str | None = None  # where "Yes" posts; the address this post came to when None
    danger: bool = True  # a red button (a rejection, a revocation) or the primary one (an approval)
    extra: dict[str, str] = field(default_factory=dict)  # more fields to post with the confirmation


def confirmed() -> bool:
    """True when this request is the confirmed post of an irreversible action."""
    return request.method == "POST" and request.form.get(CONFIRM_FIELD) == CONFIRM_VALUE


def carried_fields(skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """The posted fields, each value as typed (repeated names kept), to post again with the confirmation."""
    return [(name, value) for name, value in request.form.items(multi=True)
            if name not in NOT_CARRIED and name not in skip]


def confirm_action() -> str:
    """The address this post came to, with its query string: "Yes" posts there again."""
    return request.full_path if request.query_string else request.path


def ask(confirmation: Confirmation, step_up: Any = None, status: int = 200) -> tuple[str, int]:
    """The confirmation page of an irreversible action, in place of acting on this post.

    ``step_up`` is a form whose fields the page shows above its buttons, never carried from a post (the
    second factor's code asked again, codev.accounts.two_factor.step_up); ``status`` 400 when it was wrong.
    """
    own = frozenset(f.name for f in step_up) if step_up is not None else frozenset()
    fields = [*carried_fields(own), *confirmation.extra.items()]
    return render_template("core/confirm.html", confirmation=confirmation, fields=fields, step_up=step_up,
                           action=confirmation.action or confirm_action()), status
