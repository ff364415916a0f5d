"""Disbursements of a grant: recording a tranche payment, and the approver's second signature above the threshold."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from codev.accounts.models import Role
from codev.core.money import format_xof
from codev.core.permissions import current_person, roles
from codev.extensions import db
from codev.grants import bp, disbursements, tranches
from codev.grants.access import get_grant_or_404
from codev.grants.ledger import LedgerError
from codev.grants.models import (
    DisbursementRequest,
    Grant,
)
from codev.grants.money_forms import DisbursementForm, NoteForm
from codev.grants.money_views import (
    MINISTRY,
    _back,
    _names,
    disbursement_form,
    render_money_page,
    tranche_choices,
)


def render_disbursement(grant: Grant, form: DisbursementForm | None = None, status: int = 200):
    facts = tranches.money_facts([grant])[grant.id]
    views = tranches.tranche_views(grant, facts)
    return render_money_page(grant, "disbursement_new.html", status, facts=facts, tranches=views,
                             form=disbursement_form(grant, views, form),
                             threshold=disbursements.four_eyes_threshold())


@bp.route("/grants/<int:grant_id>/disbursements/new", methods=["GET", "POST"])
@roles(Role.OFFICER, Role.APPROVER)
def disbursement_new(grant_id: int):
    """Record a disbursement (a request for a second signature above the four-eyes threshold)."""
    grant = get_grant_or_404(grant_id, current_person())
    form = DisbursementForm()
    form.tranche.choices = tranche_choices(tranches.tranche_views(grant, tranches.money_facts([grant])[grant.id]))
    if not form.validate_on_submit():
        return render_disbursement(grant, form if request.method == "POST" else None,
                                   400 if request.method == "POST" else 200)
    try:
        done = disbursements.record_disbursement(
            grant, current_person(), tranche_number=form.tranche.data, amount_xof=form.amount.amount,
            value_date=form.value_date.data, bank_reference=form.bank_reference.data,
            idempotency_key=form.idempotency_key.data)
    except LedgerError as exc:
        db.session.rollback()
        getattr(form, {"value_date": "value_date", "bank_reference": "bank_reference"}.get(exc.field, "amount")
                ).errors.append(str(exc))
        return render_disbursement(grant, form, 400)
    db.session.commit()
    obj = done.disbursement or done.request
    if done.duplicate:
        flash(_("This form was already sent: the disbursement of %(amount)s (bank reference %(ref)s) is recorded "
                "once.", amount=format_xof(obj.amount_xof), ref=obj.bank_reference), "info")
    elif done.request is not None:
        flash(_("Above %(threshold)s a disbursement needs a second signature: the request is sent to the approvers.",
                threshold=format_xof(disbursements.four_eyes_threshold())), "success")
    else:
        flash(_("The disbursement of %(amount)s is recorded; the association has been told.",
                amount=format_xof(obj.amount_xof)), "success")
    return _back(grant)


def _request_or_404(grant: Grant, request_id: int) -> DisbursementRequest:
    found = db.session.get(DisbursementRequest, request_id)
    if found is None or found.grant_id != grant.id:
        abort(404)
    return found


def render_request(grant: Grant, request_id: int, form: NoteForm | None = None, status: int = 200):
    found = _request_or_404(grant, request_id)
    facts, me = tranches.money_facts([grant])[grant.id], current_person()
    return render_money_page(grant, "disbursement_request.html", status, req=found, facts=facts,
                             names=_names({found.requested_by_id, found.decided_by_id} - {None}),
                             can_sign=disbursements.can_sign(me) and found.requested_by_id != me.id,
                             form=form or NoteForm(formdata=None))


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
    _request_or_404(grant, request_id)
    try:
        disbursement = disbursements.approve_request(grant, request_id, current_person())
    except LedgerError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("grants.disbursement_request", grant_id=grant.id, request_id=request_id))
    db.session.commit()
    flash(_("Signed: the disbursement of %(amount)s is recorded.", amount=format_xof(disbursement.amount_xof)),
          "success")
    return _back(grant)


@bp.route("/grants/<int:grant_id>/disbursement-requests/<int:request_id>/refuse", methods=["POST"])
@roles(Role.APPROVER)
def request_refuse(grant_id: int, request_id: int):
    """An approver refuses a disbursement request, saying why."""
    grant = get_grant_or_404(grant_id, current_person())
    _request_or_404(grant, request_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return render_request(grant, request_id, form, 400)
    try:
        disbursements.refuse_request(grant, request_id, current_person(), form.note.data)
    except LedgerError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("grants.disbursement_request", grant_id=grant.id, request_id=request_id))
    db.session.commit()
    flash(_("The request is refused; the officer who made it has been told."), "success")
    return _back(grant)
