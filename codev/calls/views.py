"""Call pages: the public list and page of a call, the ministry's list, the call form, its workflow,
exchange rates, and the commune chooser."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from codev.accounts.models import MINISTRY_ROLES, Role
from codev.calls import bp, services, workflow
from codev.calls.forms import CallForm, CommuneSearchForm, OpenCallForm, RateForm
from codev.calls.models import CallStatus
from codev.calls.rates import RECORDED_CURRENCIES, rate_for
from codev.calls.rules import rules_in_words
from codev.calls.services import get_call_or_404
from codev.core import geography
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.i18n import locale_name
from codev.core.money import EUR_RATE_MILLIONTHS
from codev.core.params import paginate
from codev.core.permissions import current_person, public, roles
from codev.core.templating import home_panel, nav_item
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import unit_of_work

MINISTRY = tuple(sorted(MINISTRY_ROLES))  # officer, approver, admin
EVERYONE = tuple(Role)

nav_item("calls.public_list", _l("Calls for projects"), *EVERYONE, order=10, group="programme")
nav_item("calls.manage", _l("Manage calls"), *MINISTRY, order=40, group="programme")


@bp.route("/")
@public
def public_list():
    """Open calls, their rules in plain words, and the calls that recently closed."""
    calls = services.accepting_calls(limit=100)
    words = {call.id: rules_in_words(call) for call in calls}
    return render_template("calls/public_list.html", calls=calls, words=words,
                           past=services.past_calls(), locale=locale_name())


@bp.route("/<int:call_id>")
@public
def public_detail(call_id: int):
    """One call as associations read it (drafts exist only for the ministry)."""
    call = get_call_or_404(call_id, current_person())
    return render_template("calls/public_detail.html", call=call, words=rules_in_words(call),
                           locale=locale_name(), now=utcnow())


@bp.route("/manage")
@roles(*MINISTRY)
def manage():
    """Every call with its status, dates and envelope; filter by status."""
    status = request.args.get("status", "")
    page = paginate(services.manage_query(status), per_page=25)
    projects = services.project_counts([c.id for c in page.items])
    return render_template("calls/manage.html", page=page, status=status, counts=services.status_counts(),
                           projects=projects, statuses=list(CallStatus), locale=locale_name())


@bp.route("/<int:call_id>/manage")
@roles(*MINISTRY)
def detail(call_id: int):
    """The ministry's page of a call: every setting, and the next steps with why they are not possible yet."""
    call = get_call_or_404(call_id, current_person())
    steps = [(step, *workflow.can_transition(call, step.target, current_person()))
             for step in workflow.transitions_from(call.status)]
    return render_template("calls/detail.html", call=call, steps=steps, words=rules_in_words(call),
                           problems=workflow.missing_pieces(call) if call.status == CallStatus.DRAFT else [],
                           locale=locale_name())


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.OFFICER)
def create():
    """A new draft call."""
    form = CallForm() if request.method == "POST" else CallForm.blank()
    if form.validate_on_submit():
        with unit_of_work(form, success=_("The call has been saved as a draft.")) as work:
            call = services.create_call(form.call_data(), current_person())
        if work:
            return redirect(url_for("calls.detail", call_id=call.id))
    status = 400 if request.method == "POST" else 200
    return render_template("calls/form.html", form=form, call=None), status


@bp.route("/<int:call_id>/edit", methods=["GET", "POST"])
@roles(Role.OFFICER)
def edit(call_id: int):
    """Change a draft call entirely; once open, only its description, closing date and envelope."""
    call = get_call_or_404(call_id, current_person())
    if call.status == CallStatus.DRAFT:
        form = CallForm() if request.method == "POST" else CallForm.for_call(call)
        save, template = services.update_call, "calls/form.html"
        data = form.call_data
    elif call.status in services.LIMITED_EDIT_STATUSES:
        form = OpenCallForm() if request.method == "POST" else OpenCallForm.for_call(call)
        save, template = services.update_open_call, "calls/form_open.html"
        data = form.open_call_data
    else:
        flash(_("This call can no longer be changed."), "error")
        return redirect(url_for("calls.detail", call_id=call.id))
    if form.validate_on_submit():
        with unit_of_work(form, success=_("The call has been saved.")) as work:
            save(call, data(), current_person())
        if work:
            return redirect(url_for("calls.detail", call_id=call.id))
    status = 400 if request.method == "POST" else 200
    return render_template(template, form=form, call=call), status


@bp.route("/<int:call_id>/status/<to>", methods=["POST"])
@roles(*MINISTRY)
def transition(call_id: int, to: str):
    """Move the call to its next status (open, close, evaluate, decide, archive)."""
    call = get_call_or_404(call_id, current_person())
    if to not in {s.value for s in CallStatus}:
        abort(404)
    with unit_of_work() as work:
        workflow.fire(call, to, current_person())
        work.success = _("The call is now: %(status)s.", status=CallStatus(call.status).label)
    return redirect(url_for("calls.detail", call_id=call_id))


@bp.route("/rates")
@roles(*MINISTRY)
def rates():
    """Exchange rates by currency and date; EUR fixed by law."""
    return _render_rates(RateForm(formdata=None))


@bp.route("/rates", methods=["POST"])
@roles(Role.OFFICER)
def add_rate():
    """Record a currency's rate to XOF from a date on."""
    form = RateForm()
    if form.validate_on_submit():
        with unit_of_work(form, success=_("The rate has been recorded.")) as work:
            services.add_rate(form.currency.data, form.rate_millionths, form.valid_from.data, current_person())
        if work:
            return redirect(url_for("calls.rates", currency=form.currency.data))
    return _render_rates(form, 400)


def _render_rates(form: RateForm, status: int = 200):
    currency = request.args.get("currency", "")
    page = paginate(services.rates_query(currency), per_page=50)
    today = utcnow().date()
    current = {c: rate_for(c, today) for c in RECORDED_CURRENCIES}
    return render_template("calls/rates.html", form=form, page=page, currency=currency, current=current,
                           currencies=RECORDED_CURRENCIES, eur=EUR_RATE_MILLIONTHS), status


@bp.route("/communes")
@public
def communes():
    """Choose a commune step by step (region → prefecture → commune) or by name; no JavaScript needed."""
    search = CommuneSearchForm(request.args)
    state = geography.chooser_state(request.args.get("region"), request.args.get("prefecture"),
                          search.q.data if search.validate() else "", request.args.get("next"))
    return render_template("calls/communes.html", search=search, state=state)


@home_panel(Role.ASSOCIATION)
def member_calls_panel():
    """Open calls and their closing dates."""
    return "calls/_panel_member.html", {"calls": services.accepting_calls(limit=5), "locale": locale_name()}


@home_panel(Role.OFFICER)
def officer_calls_panel():
    """Calls by status: drafts to finish, calls open, calls to evaluate."""
    return "calls/_panel_officer.html", {"counts": services.status_counts()}
