"""Pages of a grant's later life: its amendments (approvers), and the reserve list (the ministry).

- ``/grants/<id>/amend/deadline|reduce|increase``: one form each, with the figures that bound it;
- ``/grants/reserve``: every call's reserve list and its offer;
- ``/grants/reserve/<session>/projects/<project>``: the committee's decision from the reserve list, after
  which the approver goes on to the grant's approval;
- the session page's reserve section, the approver's home card and the grant page's list of amendments.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from codev.accounts.models import MINISTRY_ROLES, Role
from codev.core.i18n import gettext as _
from codev.core.money import format_xof
from codev.core.params import paginate, slice_page
from codev.core.permissions import current_person, roles
from codev.core.templating import home_panel
from codev.core.unit_of_work import unit_of_work
from codev.grants import bp
from codev.grants.access import get_grant_or_404
from codev.grants.award.forms import refusals_beside
from codev.grants.life import amendments, reserve
from codev.grants.life.forms import AmountForm, DeadlineForm, ReserveDecisionForm
from codev.grants.models import AmendmentKind, Grant
from codev.reviews.committee import get_session_or_404, get_session_project_or_404, is_frozen
from codev.reviews.committee_views import session_section
from codev.reviews.models import CommitteeSession, DecisionOutcome

MINISTRY = tuple(sorted(MINISTRY_ROLES))  # officer, approver, admin
RESERVES_PER_PAGE = 5  # calls' reserve lists per page of /grants/reserve
RESERVE_PREVIEW = 10  # lines of each, from the first still waiting (the session's page lists them all, in pages)
KINDS = {"deadline": AmendmentKind.EXTEND_DEADLINE, "reduce": AmendmentKind.REDUCE,
         "increase": AmendmentKind.INCREASE}


# --- amendments ------------------------------------------------------------------------------------


def _amend(grant_id: int, kind: str):
    """The amendment page of ``kind``: the figures, the form; on success back to the grant page."""
    grant = get_grant_or_404(grant_id, current_person())
    if not amendments.amendable(grant):
        flash(amendments.not_amendable_reason(grant), "error")
        return redirect(url_for("grants.detail", grant_id=grant.id))
    if kind == "deadline":
        form = DeadlineForm(data={"deadline": grant.contribution_deadline})
    else:
        form = AmountForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work, refusals_beside("reason" if kind == "deadline" else "amount",
                                                         shown=("deadline", "amount", "reason")):
            if kind == "deadline":
                done = amendments.extend_deadline(grant, current_person(), form.deadline.data, form.reason.data)
            elif kind == "reduce":
                done = amendments.reduce_amount(grant, current_person(), form.amount.amount, form.reason.data)
            else:
                done = amendments.increase_amount(grant, current_person(), form.amount.amount, form.reason.data)
            work.success = _("%(kind)s. Version %(v)s of the award letter is issued and the association told.",
                             kind=AmendmentKind(done.kind).label, v=done.letter_version)
        if work:
            return redirect(url_for("grants.detail", grant_id=grant.id, _anchor="amendments"))
    status = 400 if request.method == "POST" else 200
    return render_template("grants/amend.html", grant=grant, form=form, kind=kind, amendment_kind=KINDS[kind],
                           facts=amendments.amendment_facts(grant),
                           next_version=amendments.next_letter_version(grant)), status


@bp.route("/grants/<int:grant_id>/amend/deadline", methods=["GET", "POST"])
@roles(Role.APPROVER)
def amend_deadline(grant_id: int):
    """Extend the contribution deadline of a grant."""
    return _amend(grant_id, "deadline")


@bp.route("/grants/<int:grant_id>/amend/reduce", methods=["GET", "POST"])
@roles(Role.APPROVER)
def amend_reduce(grant_id: int):
    """Reduce a grant; the difference returns to the call's envelope."""
    return _amend(grant_id, "reduce")


@bp.route("/grants/<int:grant_id>/amend/increase", methods=["GET", "POST"])
@roles(Role.APPROVER)
def amend_increase(grant_id: int):
    """Increase a grant within the envelope and the rules as they stood at the approval."""
    return _amend(grant_id, "increase")


@bp.app_template_global("grant_amendments")
def grant_amendments(grant: Grant) -> dict:
    """What the grant page's amendments section shows (its list, and whether the person may amend)."""
    user = current_person()
    return {"rows": [(a, AmendmentKind(a.kind).label) for a in amendments.amendments_of(grant)],
            "can_amend": amendments.can_amend(user) and amendments.amendable(grant)}


# --- the reserve list --------------------------------------------------------------------------------


@bp.app_template_global("decision_label")
def decision_label(outcome: str) -> str:
    """The committee's decision in words (the reserve list's column)."""
    try:
        return DecisionOutcome(outcome).label
    except ValueError:
        return outcome


@bp.route("/grants/reserve")
@roles(*MINISTRY)
def reserve_list():
    """Every call's reserve list: the money free for it, the project offered, those waiting."""
    page = paginate(reserve.latest_frozen_sessions(), per_page=RESERVES_PER_PAGE)
    return render_template("grants/reserve.html", page=page, can_decide=reserve.can_decide(current_person()),
                           reserves=reserve.reserves_of(list(page.items), preview=RESERVE_PREVIEW))


@bp.route("/grants/reserve/<int:session_id>/projects/<int:project_id>", methods=["GET", "POST"])
@roles(Role.OFFICER, Role.APPROVER)
def reserve_decide(session_id: int, project_id: int):
    """The committee's decision to approve the project the reserve list offers (then its grant)."""
    session = get_session_or_404(session_id)
    project = get_session_project_or_404(session, project_id)
    if not is_frozen(session):
        abort(404)
    form = ReserveDecisionForm()
    problem = reserve.offer_problem(session, project)
    if request.method == "POST" and problem is None and form.validate_on_submit():
        with unit_of_work(form) as work:
            reserve.approve_from_reserve(session, project, form.message.data, current_person())
            work.success = _("The project is approved from the reserve list; the association is told.")
        if work:
            if current_person().role == Role.APPROVER:
                flash(_("Now approve its grant: the envelope is committed only then."), "info")
                return redirect(url_for("grants.approve", project_id=project.id))
            return redirect(url_for("reviews.committee.session", session_id=session.id, _anchor="reserve"))
        problem = reserve.offer_problem(session, project)
    found, line = reserve.line_of(session, project.id)
    status = 400 if request.method == "POST" else 200
    return render_template("grants/reserve_decide.html", session=session, project=project, form=form,
                           problem=problem, line=line, reserve=found), status


@session_section
def reserve_section(session: CommitteeSession):
    """The session page's reserve list (a closed session whose ranking was frozen)."""
    if not is_frozen(session):
        return None
    current = reserve.reserve_session(session.call_id)
    if current is None or current.id != session.id:
        return "grants/reserve_section.html", {"reserve": None, "latest": current}
    per_page = current_app.config["RANKING_PAGE_SIZE"]
    found = reserve.reserve_of(session, lambda total: slice_page(total, per_page))
    return "grants/reserve_section.html", {"reserve": found, "latest": current,
                                           "can_decide": reserve.can_decide(current_person())}


@home_panel(Role.APPROVER)
def reserve_panel():
    """Approver home: money returned to an envelope, and the reserve project it can now fund."""
    offers = reserve.current_offers()
    if not offers:
        return None
    items = [{"call": r.call.title_for(), "session_id": r.session.id, "project_id": r.offer.project.id,
              "reference": r.offer.project.reference, "title": r.offer.project.title, "rank": r.offer.rank,
              "amount": format_xof(r.offer.amount_xof), "available": format_xof(r.available_xof)}
             for r in offers]
    return "grants/_panel_reserve.html", {"offers": items}
