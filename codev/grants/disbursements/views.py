"""Disbursements of a grant: recording a tranche payment, and the approver's second signature when four eyes
require it (:func:`codev.grants.disbursements.payments.four_eyes`)."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_babel import format_datetime

from codev.accounts.models import Role
from codev.accounts.two_factor import step_up
from codev.core.confirm import ask, confirmed
from codev.core.i18n import gettext as _
from codev.core.money import format_xof
from codev.core.permissions import current_person, roles
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db
from codev.grants import bp, confirmations
from codev.grants.access import get_grant_or_404
from codev.grants.award.forms import refusals_beside
from codev.grants.disbursements import payments as disbursements
from codev.grants.disbursements import tranches
from codev.grants.ledger.views import (
    MINISTRY,
    AlreadyRecorded,
    _back,
    _names,
    already_recorded,
    disbursement_form,
    render_money_page,
    sent_again,
    tranche_choices,
)
from codev.grants.models import DisbursementRequest, Grant, RequestStatus
from codev.grants.money_forms import DisbursementForm, NoteForm


def render_disbursement(grant: Grant, form: DisbursementForm | None = None, status: int = 200):
    facts = tranches.money_facts([grant])[grant.id]
    views = tranches.tranche_views(grant, facts)
    form = disbursement_form(grant, views, form)
    return render_money_page(grant, "disbursement_new.html", status, facts=facts, tranches=views, form=form,
                             four_eyes=disbursements.four_eyes_hint(grant, views) if form.tranche.choices else [])


def what_was_recorded(grant: Grant, done: disbursements.Recorded) -> AlreadyRecorded:
    """A disbursement form's first sending, in words, with a link: the payment in the ledger, or the request."""
    paid, asked = done.disbursement, done.request
    if paid is not None:
        return AlreadyRecorded(
            _("The disbursement of %(amount)s on tranche %(n)s (bank reference %(ref)s) was recorded on %(date)s.",
              amount=format_xof(paid.amount_xof), n=paid.tranche_number, ref=paid.bank_reference,
              date=format_datetime(paid.recorded_at, "medium")),
            url_for("grants.ledger", grant_id=grant.id, _anchor=f"disbursement-{paid.id}"),
            _("See the disbursement in the ledger"))
    state = _("it was refused") if asked.status == RequestStatus.REFUSED else _("it awaits a second signature")
    return AlreadyRecorded(
        _("The request for a disbursement of %(amount)s on tranche %(n)s (bank reference %(ref)s) was made on "
          "%(date)s: %(state)s.", amount=format_xof(asked.amount_xof), n=asked.tranche_number,
          ref=asked.bank_reference, date=format_datetime(asked.requested_at, "medium"), state=state),
        url_for("grants.disbursement_request", grant_id=grant.id, request_id=asked.id),
        _("See the request"))


def disbursement_sent_before(grant: Grant, key: str | None) -> AlreadyRecorded | None:
    done = disbursements.recorded_with_key(grant, key)
    return what_was_recorded(grant, done) if done else None


@bp.route("/grants/<int:grant_id>/disbursements/new", methods=["GET", "POST"])
@roles(Role.OFFICER, Role.APPROVER)
def disbursement_new(grant_id: int):
    """Record a disbursement (a request for a second signature above the four-eyes threshold)."""
    grant = get_grant_or_404(grant_id, current_person())
    if again := sent_again(grant, disbursement_sent_before):
        return again
    form = DisbursementForm()
    form.tranche.choices = tranche_choices(tranches.tranche_views(grant, tranches.money_facts([grant])[grant.id]))
    if not form.validate_on_submit():
        return render_disbursement(grant, form if request.method == "POST" else None,
                                   400 if request.method == "POST" else 200)
    if not confirmed():  # the confirm step, for a payment the rules allow
        with unit_of_work(form) as check, refusals_beside("amount", shown=("value_date", "bank_reference")):
            disbursements.check_disbursement(grant, form.tranche.data, form.amount.amount, form.value_date.data,
                                             form.bank_reference.data)
        if not check:
            return render_disbursement(grant, form, 400)
        rule = disbursements.four_eyes(grant, form.tranche.data, form.amount.amount)
        return ask(confirmations.disbursement(grant, form, rule.reason if rule.needed else None))
    with unit_of_work(form) as work, refusals_beside("amount", shown=("value_date", "bank_reference")):
        done = disbursements.record_disbursement(
            grant, current_person(), tranche_number=form.tranche.data, amount_xof=form.amount.amount,
            value_date=form.value_date.data, bank_reference=form.bank_reference.data,
            idempotency_key=form.idempotency_key.data)
        if done.duplicate:  # the same bank transfer, sent again with a new key (Back reloads the form)
            work.success = None
        elif done.request is not None:
            work.success = _("A second signature is needed: %(reason)s. The request is sent to the approvers.",
                             reason=done.four_eyes.reason)
        else:
            work.success = _("The disbursement of %(amount)s is recorded; the association has been told.",
                             amount=format_xof(done.disbursement.amount_xof))
    if not work:
        return render_disbursement(grant, form, 400)
    if done.duplicate:
        return already_recorded(grant, what_was_recorded(grant, done))
    if done.request is not None:
        return redirect(url_for("grants.disbursement_request", grant_id=grant.id, request_id=done.request.id))
    return _back(grant)


def _request_or_404(grant: Grant, request_id: int) -> DisbursementRequest:
    found = db.session.get(DisbursementRequest, request_id)
    if found is None or found.grant_id != grant.id:
        abort(404)
    return found


def render_request(grant: Grant, request_id: int, form: NoteForm | None = None, status: int = 200):
    found = _request_or_404(grant, request_id)
    facts, me = tranches.money_facts([grant])[grant.id], current_person()
    why = disbursements.four_eyes(grant, found.tranche_number, found.amount_xof, request=found).reason
    return render_money_page(grant, "disbursement_request.html", status, req=found, facts=facts, why=why,
                             names=_names({found.requested_by_id, found.decided_by_id} - {None}),
                             can_sign=disbursements.can_sign(me) and found.requested_by_id != me.id,
                             form=form or NoteForm(formdata=None), RequestStatus=RequestStatus)


@bp.route("/grants/<int:grant_id>/disbursement-requests/<int:request_id>")
@roles(*MINISTRY)
def disbursement_request(grant_id: int, request_id: int):
    """A disbursement waiting for (or given) its second signature."""
    return render_request(get_grant_or_404(grant_id, current_person()), request_id)


@bp.route("/grants/<int:grant_id>/disbursement-requests/<int:request_id>/approve", methods=["POST"])
@roles(Role.APPROVER)
def request_approve(grant_id: int, request_id: int):
    """An approver, not the requester, signs: the disbursement is recorded."""
    grant = get_grant_or_404(grant_id, current_person())
    found = _request_or_404(grant, request_id)
    if found.status == RequestStatus.PENDING:  # the confirm step asks for the second factor again (step-up)
        refused = step_up.refusal(current_person()) if confirmed() else None
        if not confirmed() or refused:
            return ask(confirmations.sign_request(grant, found), step_up=step_up.form(refused),
                       status=400 if refused else 200)
    with unit_of_work() as work:
        disbursement = disbursements.approve_request(grant, request_id, current_person())
        work.success = _("Signed: the disbursement of %(amount)s is recorded.",
                         amount=format_xof(disbursement.amount_xof))
    if work:
        return _back(grant)
    return redirect(url_for("grants.disbursement_request", grant_id=grant.id, request_id=request_id))


@bp.route("/grants/<int:grant_id>/disbursement-requests/<int:request_id>/refuse", methods=["POST"])
@roles(Role.APPROVER)
def request_refuse(grant_id: int, request_id: int):
    """An approver refuses a disbursement request, saying why."""
    grant = get_grant_or_404(grant_id, current_person())
    found = _request_or_404(grant, request_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return render_request(grant, request_id, form, 400)
    if not confirmed() and found.status == RequestStatus.PENDING:
        return ask(confirmations.refuse_request(grant, found, form.note.data))
    with unit_of_work(success=_("The request is refused; the officer who made it has been told.")) as work:
        disbursements.refuse_request(grant, request_id, current_person(), form.note.data)
    if work:
        return _back(grant)
    return redirect(url_for("grants.disbursement_request", grant_id=grant.id, request_id=request_id))
