"""The life of a call as one table: draft → open → closed → evaluating → decided → archived.

:data:`CALL` is read by the one engine (:mod:`codev.core.workflow`): each row names the roles that may
fire it, the checks it runs and its effects. :func:`can_transition` answers ``(allowed, reason)`` so a
page can say why a button is disabled, and :func:`missing_pieces` lists, in words, what a call lacks
before it can open.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, has_request_context, url_for
from sqlalchemy import select

from codev.accounts.models import Association, AssociationStatus, Role
from codev.calls.models import Call, CallStatus
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.mail import queue_mail
from codev.core.money import format_xof
from codev.core.timeutil import utcnow
from codev.core.workflow import SYSTEM_ROLE, Transition, Workflow, register, row
from codev.extensions import db


def missing_pieces(call: Call) -> list[str]:
    """Everything a call still lacks before it can open, one sentence each (empty when complete)."""
    now = utcnow()
    problems = []
    if not call.title:
        problems.append(_("The call has no title."))
    if not call.sectors:
        problems.append(_("No eligible sector is chosen."))
    if not call.regions:
        problems.append(_("No eligible region is chosen."))
    if not call.envelope_xof:
        problems.append(_("The envelope is 0 F CFA: enter the money available for the call."))
    if not call.criteria:
        problems.append(_("The evaluation grid has no criterion."))
    else:
        total = sum(c.weight for c in call.criteria)
        if total != 100:
            problems.append(_("The weights of the criteria add up to %(total)s; they must total 100.", total=total))
    if not call.tranches:
        problems.append(_("The tranche plan is empty."))
    else:
        total_bps = sum(t.share_bps for t in call.tranches)
        if total_bps != 10_000:
            problems.append(
                _("The tranches add up to %(total)s %%; they must total 100 %%.", total=_percent(total_bps))
            )
    if call.closes_at is None:
        problems.append(_("The closing date is missing."))
    elif call.closes_at <= now:
        problems.append(_("The closing date is in the past."))
    if call.opens_at and call.closes_at and call.opens_at >= call.closes_at:
        problems.append(_("The call opens after it closes."))
    if not call.contribution_deadline_days:
        problems.append(_("The contribution deadline (days after the award) is missing."))
    if call.committed_xof > call.envelope_xof:
        problems.append(_("The envelope is below the grants already committed."))
    return problems


def _percent(bps: int) -> str:
    units, rest = divmod(bps, 100)
    return f"{units}" if not rest else f"{units}.{rest:02d}".rstrip("0")


def _on_open(call: Call) -> None:
    """Opening starts now unless a later opening date was set; associations are told."""
    now = utcnow()
    if call.opens_at is None:
        call.opens_at = now
    _notify_associations(call)


def _on_close(call: Call) -> None:
    """Closing before the planned date records the real closing time."""
    now = utcnow()
    if call.closes_at is None or call.closes_at > now:
        call.closes_at = now
        if call.opens_at is not None and call.opens_at >= now:  # closed before it even started
            call.opens_at = now - timedelta(microseconds=1)


def _notify_associations(call: Call) -> None:
    """An email to every verified association, in its language, announcing the call."""
    rows = db.session.execute(
        select(Association.contact_email, Association.locale, Association.name).where(
            Association.status == AssociationStatus.VERIFIED
        )
    ).all()
    if not rows:
        return
    if has_request_context():
        url = url_for("calls.public_detail", call_id=call.id, _external=True)
    else:  # CLI (demo data): no request to build the address from
        url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/calls/{call.id}"
    for email, locale, name in rows:
        locale = locale or "fr"
        queue_mail(
            email, locale, "call_opened", call=call, title=call.title_for(locale), association_name=name,
            envelope=format_xof(call.envelope_xof, locale), url=url,
        )


S = CallStatus
OFFICER = Role.OFFICER

CALL = Workflow(
    name="call", states=CallStatus, initial=frozenset({S.DRAFT}),
    transitions=(
        row("open", {S.DRAFT}, S.OPEN, {OFFICER, SYSTEM_ROLE}, _l("Open the call"),
            refused=_l("The call cannot change status yet:"), checks=(missing_pieces,), effects=(_on_open,)),
        row("closed", {S.OPEN}, S.CLOSED, {OFFICER, SYSTEM_ROLE}, _l("Close the call"), effects=(_on_close,)),
        row("evaluating", {S.CLOSED}, S.EVALUATING, {OFFICER}, _l("Start the evaluation")),
        row("decided", {S.EVALUATING}, S.DECIDED, {OFFICER, Role.APPROVER},
            _l("Record that the committee has decided")),
        row("archived", {S.DECIDED}, S.ARCHIVED, {OFFICER, Role.ADMIN}, _l("Archive the call")),
    ),
)
register(CALL)


def transitions_from(status: str) -> list[Transition]:
    return [t for t in CALL.transitions if str(status) in t.sources]


def can_transition(call: Call, target: str, user) -> tuple[bool, str]:
    """Whether ``user`` may move ``call`` to ``target`` now, and if not why, in one sentence."""
    return CALL.can(call, target, user)


def fire(call: Call, target: str, user) -> Call:
    """Move ``call`` to ``target`` through the engine (checks, effects, audit, flush)."""
    CALL.fire(call, target, user)
    return call
