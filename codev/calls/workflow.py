"""The life of a call as one table: draft → open → closed → evaluating → decided → archived.

Each transition names the roles that may fire it and the checks it runs; :func:`fire` is the only code
that assigns ``Call.status``. :func:`can_transition` answers ``(allowed, reason)`` so a page can say why
a button is disabled, and :func:`missing_pieces` lists, in words, what a call lacks before it can open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from codev.accounts.models import Association, AssociationStatus, Role
from codev.calls.models import Call, CallStatus
from codev.core import audit
from codev.core.mail import queue_mail
from codev.core.money import format_xof
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db


class WorkflowError(DomainError):
    """A refused transition; ``problems`` lists every reason, in words, for the page."""


@dataclass(frozen=True)
class Transition:
    source: CallStatus
    target: CallStatus
    roles: frozenset[str]
    label: object  # lazy string: the button
    checks: tuple[Callable[[Call], list[str]], ...] = ()
    effect: Callable[[Call], None] | None = None


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


OFFICER = frozenset({Role.OFFICER.value})

TRANSITIONS: tuple[Transition, ...] = (
    Transition(CallStatus.DRAFT, CallStatus.OPEN, OFFICER, _l("Open the call"), (missing_pieces,), _on_open),
    Transition(CallStatus.OPEN, CallStatus.CLOSED, OFFICER, _l("Close the call"), (), _on_close),
    Transition(CallStatus.CLOSED, CallStatus.EVALUATING, OFFICER, _l("Start the evaluation")),
    Transition(
        CallStatus.EVALUATING, CallStatus.DECIDED,
        frozenset({Role.OFFICER.value, Role.APPROVER.value}), _l("Record that the committee has decided"),
    ),
    Transition(
        CallStatus.DECIDED, CallStatus.ARCHIVED,
        frozenset({Role.OFFICER.value, Role.ADMIN.value}), _l("Archive the call"),
    ),
)


def transition(source: str, target: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.source == source and t.target == target), None)


def transitions_from(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == status]


def _refusal(call: Call, target: str, user) -> tuple[str | None, list[str]]:
    """(the reason a transition is refused, the list of missing pieces) — (None, []) when allowed."""
    step = transition(call.status, target)
    if step is None:
        return (
            _("A call that is %(status)s cannot become %(target)s.",
              status=CallStatus(call.status).label.lower(), target=CallStatus(target).label.lower()),
            [],
        )
    if user is None or getattr(user, "role", None) not in step.roles:
        return _("Your role does not allow this step."), []
    problems = [problem for check in step.checks for problem in check(call)]
    if problems:
        return _("The call cannot change status yet:"), problems
    return None, []


def can_transition(call: Call, target: str, user) -> tuple[bool, str]:
    """Whether ``user`` may move ``call`` to ``target`` now, and if not why, in one sentence."""
    reason, problems = _refusal(call, target, user)
    if reason is None:
        return True, ""
    return False, " ".join([reason, *problems])


def fire(call: Call, target: str, user) -> Call:
    """Move ``call`` to ``target`` after the table's checks; audit, flush. Raises :class:`WorkflowError`."""
    reason, problems = _refusal(call, target, user)
    if reason is not None:
        raise WorkflowError(reason, problems)
    step = transition(call.status, target)
    before = {"status": str(call.status)}
    call.status = step.target
    if step.effect is not None:
        step.effect(call)
    audit.record(f"call.{step.target.value}", call, actor=user, before=before, after={"status": step.target.value})
    db.session.flush()
    return call
