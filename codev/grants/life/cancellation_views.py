"""Pages of the end of a grant's life: cancelling it (approvers), closing its project's file (officers and
approvers), and what the grant page shows of a cancellation, a lapse and a closing (``grants/_life.html``,
which reads :func:`grant_life`)."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for

from codev.accounts.models import Role, User
from codev.core.confirm import ask, confirmed
from codev.core.i18n import gettext as _
from codev.core.money import format_xof
from codev.core.permissions import current_person, roles
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db
from codev.grants import bp, confirmations
from codev.grants.access import get_grant_or_404
from codev.grants.award.views import render_detail
from codev.grants.common import OPEN_STATUSES
from codev.grants.life import cancellation, closing
from codev.grants.life.cancellation_forms import CancelForm, CloseProjectForm
from codev.grants.models import Grant, GrantStatus


def grant_life(grant: Grant, close_form: CloseProjectForm | None = None) -> dict[str, Any]:
    """What the grant page shows of the grant's end, and the actions the person reading may take."""
    user = current_person()
    open_grant = grant.status in OPEN_STATUSES
    cancelled_by = db.session.get(User, grant.cancelled_by_id) if grant.cancelled_by_id else None
    closed = closing.closed_event(grant)
    return {
        "cancelled": grant.status == GrantStatus.CANCELLED,
        "cancelled_by": cancelled_by.name if cancelled_by else "",
        "lapsed": grant.status == GrantStatus.LAPSED,
        "disbursed": grant.amount_xof - (grant.released_xof or 0),
        "can_cancel": cancellation.can_cancel(user) and open_grant,
        "closed": closed,
        "can_close": closing.can_close(user) and closing.closing_problem(grant) is None,
        "close_form": close_form or CloseProjectForm(formdata=None),
    }


@bp.app_context_processor
def _life_helpers() -> dict:
    return {"grant_life": grant_life}


def render_cancel(grant: Grant, form: CancelForm, status: int = 200):
    facts = cancellation.cancellation_facts(grant)
    problem = cancellation.cancellation_problem(grant, facts)
    return render_template("grants/cancel.html", grant=grant, facts=facts, problem=problem, form=form,
                           pending=cancellation.pending_requests(grant) if facts.pending_count else []), status


@bp.route("/grants/<int:grant_id>/cancel", methods=["GET", "POST"])
@roles(Role.APPROVER)
def cancel(grant_id: int):
    """Cancel a grant with the reason: its unspent balance returns to the envelope, its letters are revoked."""
    grant = get_grant_or_404(grant_id, current_person())
    if request.method == "GET":
        return render_cancel(grant, CancelForm(formdata=None))
    form = CancelForm()
    if not form.validate_on_submit():
        return render_cancel(grant, form, 400)
    if not confirmed():
        facts = cancellation.cancellation_facts(grant)
        if cancellation.cancellation_problem(grant, facts) is None:
            return ask(confirmations.cancel(grant, facts.returned, facts.disbursed, form.reason.data))
    with unit_of_work(form) as work:
        done = cancellation.cancel_grant(grant, current_person(), form.reason.data)
        work.success = _("The grant is cancelled: %(amount)s return to the call's envelope, its letters are "
                         "revoked and the association has been told.", amount=format_xof(done.returned))
    if not work:
        return render_cancel(grant, form, 400)
    return redirect(url_for("grants.detail", grant_id=grant.id))


@bp.route("/grants/<int:grant_id>/close-project", methods=["POST"])
@roles(Role.OFFICER, Role.APPROVER)
def close_project(grant_id: int):
    """Close the file of a project whose grant is completed, lapsed or cancelled."""
    grant = get_grant_or_404(grant_id, current_person())
    form = CloseProjectForm()
    if not form.validate_on_submit():
        return render_detail(grant, 400, close_form=form)
    if not confirmed() and closing.can_close(current_person()) and closing.closing_problem(grant) is None:
        return ask(confirmations.close_project(grant, form.message.data))
    with unit_of_work(form, success=_("The project's file is closed.")) as work:
        closing.close_project(grant, current_person(), form.message.data)
    if not work:
        return render_detail(grant, 400, close_form=form)
    return redirect(url_for("grants.detail", grant_id=grant.id))
