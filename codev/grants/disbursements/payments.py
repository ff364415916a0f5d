"""Disbursements: paying a tranche within rule 4, once per idempotency key, with a second signature above
the threshold (four eyes). The figures and the tranches' states are in :mod:`codev.grants.disbursements.tranches`.

Four eyes (:func:`four_eyes`, the one place the rule lives): a payment needs an approver's second
signature when it brings the amount on its tranche, or on the grant within the last
``FOUR_EYES_PERIOD_DAYS`` days, above ``FOUR_EYES_THRESHOLD_XOF``. Both amounts count what is paid and
what awaits a signature, so splitting a payment never avoids the second signature. The period is counted
by recording date (when the disbursement was recorded, or the request made), which the server sets:
the value date is typed by the officer and could be moved back to spread payments out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import BigInteger, case, cast, func, or_, select, union_all

from codev.accounts.models import Role, User
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.i18n import ngettext
from codev.core.mail import queue_mail
from codev.core.money import format_xof
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.common import grant_url, lock_grant, long_date, mail_members, valid_key
from codev.grants.disbursements.tranches import (
    DEFAULT_FOUR_EYES_THRESHOLD_XOF,
    DisbursementRefused,
    TrancheState,
    TrancheView,
    disbursement_refusal,
    maybe_complete,
    money_facts,
)
from codev.grants.models import (
    Disbursement,
    DisbursementRequest,
    Grant,
    GrantStatus,
    RequestStatus,
)
from codev.grants.workflows import DISBURSEMENT_REQUEST, GRANT


@dataclass(frozen=True)
class Recorded:
    """What a disbursement form produced: a disbursement or a request, and whether it already existed."""

    disbursement: Disbursement | None = None
    request: DisbursementRequest | None = None
    duplicate: bool = False
    four_eyes: FourEyes | None = None  # why a request needs a second signature


DEFAULT_FOUR_EYES_PERIOD_DAYS = 30


def four_eyes_threshold() -> int:
    return int(current_app.config.get("FOUR_EYES_THRESHOLD_XOF", DEFAULT_FOUR_EYES_THRESHOLD_XOF))


def four_eyes_period_days() -> int:
    return max(0, int(current_app.config.get("FOUR_EYES_PERIOD_DAYS", DEFAULT_FOUR_EYES_PERIOD_DAYS)))


@dataclass(frozen=True)
class FourEyes:
    """What a payment would bring about, and so whether it needs a second signature (whole XOF)."""

    threshold: int
    period_days: int
    tranche_number: int
    amount: int
    on_tranche: int  # paid and awaiting a signature on the tranche, this payment included
    in_period: int  # the same on the whole grant within the period, this payment included

    @property
    def needed(self) -> bool:
        return self.on_tranche > self.threshold or self.in_period > self.threshold

    @property
    def room(self) -> int:
        """The most that could be paid on the tranche right now with one signature (besides this payment)."""
        return max(0, self.threshold - max(self.on_tranche, self.in_period))

    @property
    def reason(self) -> str | None:
        """Why a second signature is needed, in words (None when it is not)."""
        if self.on_tranche > self.threshold:
            return _("this payment brings tranche %(n)s to %(total)s, above the %(threshold)s threshold",
                     n=self.tranche_number, total=format_xof(self.on_tranche), threshold=format_xof(self.threshold))
        if self.in_period > self.threshold:
            return ngettext("this payment brings what the grant pays out within %(num)d day to %(total)s, above the "
                            "%(threshold)s threshold",
                            "this payment brings what the grant pays out within %(num)d days to %(total)s, above "
                            "the %(threshold)s threshold", self.period_days,
                            total=format_xof(self.in_period), threshold=format_xof(self.threshold))
        return None


def four_eyes(grant: Grant, tranche_number: int, amount: int, *, now: datetime | None = None,
              request: DisbursementRequest | None = None) -> FourEyes:
    """The four-eyes rule: the sums (in SQL) that a payment of ``amount`` on the tranche would bring about.

    Counted: the disbursements recorded and the requests awaiting a second signature, on the tranche,
    and on the whole grant when recorded (or asked for) within the last ``FOUR_EYES_PERIOD_DAYS`` days.
    With ``request``, the same as when that request was made (for its page: why it needed a signature).
    """
    period_days = four_eyes_period_days()
    paid = select(Disbursement.tranche_number.label("tranche"), Disbursement.amount_xof.label("amount"),
                  Disbursement.recorded_at.label("at")).where(Disbursement.grant_id == grant.id)
    waiting = select(DisbursementRequest.tranche_number, DisbursementRequest.amount_xof,
                     DisbursementRequest.requested_at).where(DisbursementRequest.grant_id == grant.id)
    if request is None:
        now = now or utcnow()
        waiting = waiting.where(DisbursementRequest.status == RequestStatus.PENDING)
    else:  # what stood when the request was made: recorded before it, or awaiting a signature then
        now = request.requested_at
        paid = paid.where(Disbursement.recorded_at < now)
        waiting = waiting.where(DisbursementRequest.id != request.id, DisbursementRequest.requested_at < now,
                                or_(DisbursementRequest.decided_at.is_(None), DisbursementRequest.decided_at > now))
    rows = union_all(paid, waiting).subquery()
    since = now - timedelta(days=period_days)
    on_tranche, in_period = db.session.execute(select(
        cast(func.coalesce(func.sum(case((rows.c.tranche == tranche_number, rows.c.amount), else_=0)), 0), BigInteger),
        cast(func.coalesce(func.sum(case((rows.c.at > since, rows.c.amount), else_=0)), 0), BigInteger),
    )).one()
    return FourEyes(four_eyes_threshold(), period_days, tranche_number, amount,
                    int(on_tranche) + amount, int(in_period) + amount)


def four_eyes_hint(grant: Grant, views: list[TrancheView], *, now: datetime | None = None) -> list[str]:
    """The four-eyes rule in words for the disbursement form, and what the next tranche can take on one signature."""
    threshold, days = four_eyes_threshold(), four_eyes_period_days()
    sentences = [ngettext(
        "A payment needs an approver's second signature when it brings what is paid on its tranche, or on the "
        "grant within %(num)d day, above %(threshold)s; payments awaiting a signature count as paid.",
        "A payment needs an approver's second signature when it brings what is paid on its tranche, or on the "
        "grant within %(num)d days, above %(threshold)s; payments awaiting a signature count as paid.",
        days, threshold=format_xof(threshold))]
    unpaid = next((v for v in views if v.state != TrancheState.PAID), None)
    if unpaid is None or not unpaid.payable_xof:
        return sentences
    rule = four_eyes(grant, unpaid.number, 0, now=now)
    if rule.room >= unpaid.payable_xof:
        sentences.append(_("On tranche %(n)s, the %(payable)s payable now can be recorded without a second "
                           "signature.", n=unpaid.number, payable=format_xof(unpaid.payable_xof)))
    elif rule.room:
        sentences.append(_("On tranche %(n)s, %(room)s of the %(payable)s payable now can be recorded without a "
                           "second signature; beyond that, an approver signs.", n=unpaid.number,
                           room=format_xof(rule.room), payable=format_xof(unpaid.payable_xof)))
    elif rule.on_tranche >= threshold:
        sentences.append(_("Any payment on tranche %(n)s now needs a second signature: %(total)s is already paid "
                           "or awaiting a signature on it.", n=unpaid.number, total=format_xof(rule.on_tranche)))
    else:
        sentences.append(ngettext(
            "Any payment now needs a second signature: %(total)s of the grant is already paid or awaiting a "
            "signature within %(num)d day.",
            "Any payment now needs a second signature: %(total)s of the grant is already paid or awaiting a "
            "signature within %(num)d days.", days, total=format_xof(rule.in_period)))
    return sentences


def can_record(user: Any) -> bool:
    return getattr(user, "is_authenticated", False) and user.role in (Role.OFFICER, Role.APPROVER)


def can_sign(user: Any) -> bool:
    return getattr(user, "is_authenticated", False) and user.role == Role.APPROVER


def _by_key(key: str) -> Recorded | None:
    disbursement = db.session.scalar(select(Disbursement).where(Disbursement.idempotency_key == key))
    request = db.session.scalar(select(DisbursementRequest).where(DisbursementRequest.idempotency_key == key))
    if disbursement is None and request is None:
        return None
    return Recorded(disbursement=disbursement, request=request, duplicate=True)


def recorded_with_key(grant: Grant, key: str | None) -> Recorded | None:
    """What a disbursement form with this idempotency key already recorded on ``grant`` (None if nothing).

    Read before the form is validated: the tranche it paid may have left the form's choices since.
    """
    if not valid_key(key):
        return None
    found = _by_key(key)
    if found is None or (found.disbursement or found.request).grant_id != grant.id:
        return None
    return found


def _already(grant: Grant, key: str) -> Recorded | None:
    found = _by_key(key)
    if found is not None and (found.disbursement or found.request).grant_id != grant.id:
        raise DisbursementRefused(_("This form has expired: reload the page and fill it in again."))
    return found


def _same_transfer(grant: Grant, bank_reference: str, tranche_number: int, amount_xof: int) -> Recorded | None:
    """A bank transfer is recorded once per grant, whatever the form's key.

    Going back in the browser reloads the page (it is never cached) with a new key, while the browser
    refills what was typed: the same transfer must not be paid twice. The same reference, tranche and
    amount is that form again; the same reference with other figures is refused with the reason.
    """
    reference = bank_reference.strip().casefold()
    disbursement = db.session.scalar(select(Disbursement).where(
        Disbursement.grant_id == grant.id, func.lower(Disbursement.bank_reference) == reference))
    request = db.session.scalar(select(DisbursementRequest).where(
        DisbursementRequest.grant_id == grant.id, DisbursementRequest.status != RequestStatus.REFUSED,
        func.lower(DisbursementRequest.bank_reference) == reference))
    found = disbursement or request
    if found is None:
        return None
    if found.tranche_number == tranche_number and found.amount_xof == amount_xof:
        return Recorded(disbursement=disbursement, request=None if disbursement else request, duplicate=True)
    raise DisbursementRefused(
        _("The transfer %(reference)s is already recorded for this grant (tranche %(n)s, %(amount)s): "
          "check the bank reference.", reference=found.bank_reference, n=found.tranche_number,
          amount=format_xof(found.amount_xof)),
        "bank_reference",
    )


def check_disbursement(grant: Grant, tranche_number: int, amount_xof: int, value_date: date, bank_reference: str,
                       *, today: date | None = None, rules: bool = True) -> None:
    """Refuse (:class:`DisbursementRefused`) a disbursement :func:`record_disbursement` would refuse now.

    Asked before the confirm step too (``rules``: the tranche's rules as well), so that the person confirms
    only a payment that can be recorded; :func:`record_disbursement` asks the rules again under the lock.
    """
    today = today or utcnow().date()
    if not (bank_reference or "").strip():
        raise DisbursementRefused(_("Give the bank reference of the transfer."), "bank_reference")
    if value_date > today:
        raise DisbursementRefused(_("The value date cannot be in the future."), "value_date")
    if value_date < grant.approved_at.date():
        raise DisbursementRefused(_("The value date cannot be before the grant was approved."), "value_date")
    if rules and (refusal := disbursement_refusal(grant, money_facts([grant])[grant.id], tranche_number, amount_xof)):
        raise DisbursementRefused(refusal, "amount")


def record_disbursement(
    grant: Grant, user: User, *, tranche_number: int, amount_xof: int, value_date: date, bank_reference: str,
    idempotency_key: str, today: date | None = None, now: datetime | None = None,
) -> Recorded:
    """Record money paid on a tranche, or ask for a second signature when :func:`four_eyes` says so.

    The same idempotency key twice (a form sent twice, two tabs, two workers) records once: the
    second call returns what the first recorded, marked ``duplicate``.
    """
    now = now or utcnow()
    today = today or now.date()
    if not can_record(user):
        raise DisbursementRefused(_("Only a programme officer can record disbursements."))
    if not valid_key(idempotency_key):
        raise DisbursementRefused(_("This form has expired: reload the page and fill it in again."))
    found = _already(grant, idempotency_key)
    if found:
        return found
    bank_reference = (bank_reference or "").strip()
    check_disbursement(grant, tranche_number, amount_xof, value_date, bank_reference, today=today, rules=False)
    lock_grant(grant)
    found = _already(grant, idempotency_key)  # the same form, recorded while we waited for the lock
    if found:
        return found
    found = _same_transfer(grant, bank_reference, tranche_number, amount_xof)
    if found:
        return found
    facts = money_facts([grant])[grant.id]
    refusal = disbursement_refusal(grant, facts, tranche_number, amount_xof)
    if refusal:
        raise DisbursementRefused(refusal, "amount")
    values = dict(grant_id=grant.id, tranche_number=tranche_number, amount_xof=amount_xof, value_date=value_date,
                  bank_reference=bank_reference[:80], idempotency_key=idempotency_key)
    rule = four_eyes(grant, tranche_number, amount_xof, now=now)
    if rule.needed:
        request = DisbursementRequest(requested_by_id=user.id, requested_at=now, **values)
        db.session.add(request)
        db.session.flush()
        audit.record("disbursement.requested", request, actor=user,
                     after={**_facts_of(request), "four_eyes": {"on_tranche_xof": rule.on_tranche,
                                                                "in_period_xof": rule.in_period,
                                                                "threshold_xof": rule.threshold,
                                                                "period_days": rule.period_days}})
        db.session.flush()
        _mail_approvers(grant, request, user)
        return Recorded(request=request, four_eyes=rule)
    disbursement = _pay(grant, user, values, recorded_by=user, approved_by=None, request=None, now=now)
    return Recorded(disbursement=disbursement)


def _facts_of(obj: Disbursement | DisbursementRequest) -> dict:
    return {"grant_id": obj.grant_id, "tranche": obj.tranche_number, "amount_xof": obj.amount_xof,
            "value_date": obj.value_date.isoformat(), "bank_reference": obj.bank_reference}


def _pay(grant: Grant, actor: User, values: dict, *, recorded_by: User | int, approved_by: User | None,
         request: DisbursementRequest | None, now: datetime) -> Disbursement:
    first = grant.status == GrantStatus.AWARDED
    disbursement = Disbursement(
        recorded_by_id=getattr(recorded_by, "id", recorded_by), approved_by_id=getattr(approved_by, "id", None),
        request_id=request.id if request else None, recorded_at=now, **values,
    )
    db.session.add(disbursement)
    db.session.flush()
    audit.record("disbursement.recorded", disbursement, actor=actor,
                 after={**_facts_of(disbursement), "approved_by_id": disbursement.approved_by_id})
    if first:
        GRANT.fire(grant, GrantStatus.ACTIVE, actor, audit_after={"first_disbursement_id": disbursement.id})
    db.session.flush()
    amount, tranche = disbursement.amount_xof, disbursement.tranche_number
    mail_members(grant, "disbursement_recorded", amount=lambda locale: format_xof(amount, locale), tranche=tranche,
                 value_date=long_date(disbursement.value_date))
    maybe_complete(grant, actor)
    return disbursement


def _request(grant: Grant, request_id: int) -> DisbursementRequest:
    request = db.session.get(DisbursementRequest, request_id)
    if request is None or request.grant_id != grant.id:
        raise DisbursementRefused(_("This request does not exist."))
    return request


def approve_request(grant: Grant, request_id: int, user: User, *, now: datetime | None = None) -> Disbursement:
    """An approver other than the requester signs: the disbursement is recorded (rules checked again)."""
    now = now or utcnow()
    if not can_sign(user):
        raise DisbursementRefused(_("Only an approver can sign a disbursement."))
    lock_grant(grant)
    request = _request(grant, request_id)
    db.session.refresh(request)
    if request.status != RequestStatus.PENDING:
        raise DisbursementRefused(_("This request has already been decided."))
    if request.requested_by_id == user.id:
        raise DisbursementRefused(_("You asked for this disbursement: another approver must sign it."))
    facts = money_facts([grant])[grant.id]
    facts.pending_by_tranche[request.tranche_number] -= request.amount_xof  # this request is not extra money
    refusal = disbursement_refusal(grant, facts, request.tranche_number, request.amount_xof)
    if refusal:
        raise DisbursementRefused(refusal)
    request.decided_by_id = user.id
    request.decided_at = now
    DISBURSEMENT_REQUEST.fire(request, RequestStatus.APPROVED, user)
    values = dict(grant_id=grant.id, tranche_number=request.tranche_number, amount_xof=request.amount_xof,
                  value_date=request.value_date, bank_reference=request.bank_reference,
                  idempotency_key=request.idempotency_key)
    return _pay(grant, user, values, recorded_by=request.requested_by_id, approved_by=user, request=request, now=now)


def refuse_request(grant: Grant, request_id: int, user: User, note: str, *,
                   now: datetime | None = None) -> DisbursementRequest:
    """An approver refuses a request, saying why; nothing is paid."""
    if not can_sign(user):
        raise DisbursementRefused(_("Only an approver can sign a disbursement."))
    note = (note or "").strip()
    if not note:
        raise DisbursementRefused(_("Say why the disbursement is refused."), "note")
    lock_grant(grant)
    request = _request(grant, request_id)
    db.session.refresh(request)
    if request.status != RequestStatus.PENDING:
        raise DisbursementRefused(_("This request has already been decided."))
    if request.requested_by_id == user.id:
        raise DisbursementRefused(_("You asked for this disbursement: another approver must decide on it."))
    request.decided_by_id = user.id
    request.decided_at = now or utcnow()
    request.decision_note = note
    DISBURSEMENT_REQUEST.fire(request, RequestStatus.REFUSED, user, note, audit_after={"note": note})
    requester = db.session.get(User, request.requested_by_id)
    if requester is not None and requester.active:
        queue_mail(requester.email, requester.locale, "disbursement_refused", name=requester.name,
                   title=grant.project.title, reference=grant.project.reference, url=grant_url(grant),
                   amount=format_xof(request.amount_xof, requester.locale), tranche=request.tranche_number, note=note)
    return request


def _mail_approvers(grant: Grant, request: DisbursementRequest, requester: User) -> None:
    approvers = db.session.scalars(
        select(User).where(User.role == Role.APPROVER, User.active.is_(True), User.id != requester.id)
        .order_by(User.id)
    ).all()
    for person in approvers:
        queue_mail(person.email, person.locale, "disbursement_request", name=person.name,
                   title=grant.project.title, reference=grant.project.reference, url=grant_url(grant),
                   amount=format_xof(request.amount_xof, person.locale), tranche=request.tranche_number,
                   requester=requester.name)
