"""Committee pages: the sessions of each call, a session with its ranking, decisions, minutes, PDFs.

A nested blueprint of ``reviews``: endpoints read ``reviews.committee.<name>``, URLs
``/reviews/committee/…``. Ministry roles read everything; officers convene sessions; officers and
approvers record decisions and the minutes.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from codev.accounts.models import MINISTRY_ROLES, Role
from codev.calls.models import Call
from codev.core.confirm import ask, confirmed
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.i18n import locale_name
from codev.core.money import format_number
from codev.core.params import int_arg, paginate, slice_page
from codev.core.permissions import current_person, roles
from codev.core.templating import home_panel, nav_item
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db
from codev.projects.models import Project, ProjectStatus
from codev.reviews import bp as reviews_bp
from codev.reviews import committee as services
from codev.reviews import committee_documents, confirmations, progress
from codev.reviews.committee import SessionData, get_session_or_404, get_session_project_or_404
from codev.reviews.committee_forms import DecisionForm, MinutesForm, SessionForm
from codev.reviews.models import CommitteeDecision, CommitteeSession, DecisionOutcome
from codev.reviews.next_steps import open_sessions_of
from codev.reviews.ranking import TIE_BREAK_LABELS, format_score, parse_tie_breaks, table

bp = Blueprint("committee", __name__, url_prefix="/committee")
MINISTRY = tuple(sorted(MINISTRY_ROLES))  # officer, approver, admin
DECIDERS = (Role.OFFICER, Role.APPROVER)

# Sections a later step of the programme adds to a session's page (the grants' reserve list), each a
# function of the session returning (template, context) or None; registered by :func:`session_section`.
SESSION_SECTIONS: list[Callable[[CommitteeSession], tuple[str, dict] | None]] = []


def session_section(fn: Callable[[CommitteeSession], tuple[str, dict] | None]) -> Callable:
    """Register ``fn`` to add one section to the session page (the template gets its context as ``section``)."""
    if fn not in SESSION_SECTIONS:
        SESSION_SECTIONS.append(fn)
    return fn


@bp.context_processor
def _helpers() -> dict:
    from codev.core.money import format_xof

    return {"xof": format_xof, "score": lambda centi: format_score(centi, locale_name()),
            "outcome_label": lambda value: DecisionOutcome(value).label,
            "label_of_status": {s.value: s.label for s in ProjectStatus}.__getitem__,  # once, not per ranking row
            "rule_labels": lambda text: [TIE_BREAK_LABELS[r] for r in parse_tie_breaks(text)]}


@bp.route("/")
@roles(*MINISTRY)
def sessions():
    """The sessions of each call, newest first, with the projects each call has awaiting a decision."""
    page = paginate(
        select(CommitteeSession).join(Call).options(joinedload(CommitteeSession.call))
        .order_by(Call.id.desc(), CommitteeSession.held_on.desc(), CommitteeSession.id.desc())
    )
    groups: dict[int, dict] = {}
    for session in page.items:
        groups.setdefault(session.call_id, {"call": session.call, "sessions": []})["sessions"].append(session)
    decided = dict(db.session.execute(
        select(CommitteeDecision.session_id, func.count(CommitteeDecision.id))
        .where(CommitteeDecision.session_id.in_([s.id for s in page.items] or [-1]))
        .group_by(CommitteeDecision.session_id)
    ).all())
    awaiting = dict(db.session.execute(
        select(Project.call_id, func.count(Project.id)).where(Project.status.in_(services.DECIDABLE))
        .group_by(Project.call_id)
    ).all())
    return render_template("reviews/committee_sessions.html", page=page, groups=list(groups.values()),
                           awaiting=awaiting, decided=decided, calls=services.decidable_calls(),
                           open_sessions=open_sessions_of(awaiting))


def _session_data(form: SessionForm, call_id: int) -> SessionData:
    return SessionData(call_id, form.held_on.data, form.place.data or None, form.members.data,
                       form.chair.data or None, tuple(form.tie_breaks.data or ()))


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.OFFICER)
def new():
    """Convene a session of the committee for a call."""
    form = SessionForm(call=int_arg("call_id"), held_on=utcnow().date())
    form.call.choices = [(c.id, c.title_for(locale_name())) for c in services.decidable_calls()]
    if form.validate_on_submit():
        created = _("The session is created. The ranking of the call is ready for the committee.")
        with unit_of_work(form, success=created) as work:
            session = services.create_session(_session_data(form, form.call.data), current_person())
        if work:
            return redirect(url_for(".session", session_id=session.id))
    status = 400 if request.method == "POST" else 200
    return render_template("reviews/committee_form.html", form=form, session=None), status


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
@roles(Role.OFFICER)
def edit(session_id: int):
    """Correct the date, place, members, chair or tie-break rules of an open session."""
    session = get_session_or_404(session_id)
    if not services.can_edit(current_person(), session):
        flash(_("This session is closed: nothing in it can change any more."), "info")
        return redirect(url_for(".session", session_id=session.id))
    form = SessionForm(held_on=session.held_on, place=session.place, chair=session.chair, members=session.members,
                       tie_breaks=list(parse_tie_breaks(session.tie_breaks)))
    del form.call
    if form.validate_on_submit():
        with unit_of_work(form, success=_("The session is updated.")) as work:
            services.update_session(session, _session_data(form, session.call_id), current_person())
        if work:
            return redirect(url_for(".session", session_id=session.id))
    status = 400 if request.method == "POST" else 200
    return render_template("reviews/committee_form.html", form=form, session=session), status


def render_session(session: CommitteeSession, status: int = 200, minutes_form: MinutesForm | None = None):
    """The session page, with a refused minutes form shown where it was typed."""
    # A frozen ranking carries its own order and scores: its page reads the decisions of the rows it shows
    # only (below), not the session's thousands; an open one ranks with every decision.
    frozen = services.is_frozen(session)
    decisions = None if frozen else services.decision_rows(session)
    # The ranking in pages: ?page=, else the page holding ?project= (a decision just recorded, a link). A
    # frozen ranking is read whole only for the page shown (the window), once its lines are counted.
    size, asked, pages = current_app.config["RANKING_PAGE_SIZE"], int_arg("project"), []

    def window(project_ids: list[int]) -> tuple[int, int]:
        pages.append(slice_page(len(project_ids), size,
                                holding=project_ids.index(asked) if asked in project_ids else None))
        return pages[0].start, pages[0].stop

    ranking = services.session_ranking(session, decisions=decisions, window=window)
    shown = pages[0] if pages else slice_page(len(ranking.rows), size, holding=ranking.index_of(asked))
    shown_ids = [row.candidate.project_id for row in ranking.rows[shown.start:shown.stop]]
    if decisions is None:
        decisions = services.decision_rows(session, shown_ids)
    named = {outcome.value: str(outcome.label) for outcome in DecisionOutcome}  # translated once, not per row
    labels = {pid: named[decisions[pid].outcome]  # the shown rows' decisions only, not the session's
              for pid in shown_ids if pid in decisions}
    sections = [section for section in (fn(session) for fn in SESSION_SECTIONS) if section is not None]
    return render_template(
        "reviews/committee_session.html", session=session, ranking=ranking, decisions=decisions, shown=shown,
        rows=table(ranking, locale_name(), labels, shown.start, shown.stop),
        figure=format_number,
        can_decide=services.can_decide(current_person(), session),
        can_edit=services.can_edit(current_person(), session), frozen=frozen,
        minutes_form=minutes_form or MinutesForm(formdata=None, minutes=session.minutes), sections=sections,
    ), status


@bp.route("/<int:session_id>")
@roles(*MINISTRY)
def session(session_id: int):
    """The session: its facts, the ranking with the envelope line, the decisions and the minutes."""
    return render_session(get_session_or_404(session_id))


@bp.route("/<int:session_id>/projects/<int:project_id>/decide", methods=["GET", "POST"])
@roles(*DECIDERS)
def decide(session_id: int, project_id: int):
    """Record the committee's decision on one project of the ranking."""
    session = get_session_or_404(session_id)
    project = get_session_project_or_404(session, project_id)
    problem = services.decision_problem(session, project)
    form = DecisionForm(amount=project.requested_grant_xof)
    form.limit_outcomes(services.outcomes_for(project))
    if request.method == "POST" and problem is None and form.validate_on_submit():
        data = services.DecisionData(form.outcome.data, form.reason.data, form.conditions.data, form.amount.amount)
        if form.outcome.data != DecisionOutcome.DEFERRED and not confirmed():  # a deferral is decided again
            with unit_of_work(form) as check:
                outcome, reason, conditions, amount = services.check_decision(project, data)
            if check:
                return ask(confirmations.decide(session, project, outcome, amount, reason, conditions))
            return render_decide(session, project, form, problem, 400)
        with unit_of_work(form) as work:
            decision = services.decide(session, project, data, current_person())
            work.success = _("Decision recorded: %(outcome)s. The association has been told.",
                             outcome=DecisionOutcome(decision.outcome).label)
        if work:
            return redirect(url_for(".session", session_id=session.id, project=project.id,
                                    _anchor=f"project-{project.id}"))
    return render_decide(session, project, form, problem, 400 if request.method == "POST" else 200)


def render_decide(session: CommitteeSession, project: Project, form: DecisionForm, problem: str | None, status: int):
    row = next((r for r in services.session_ranking(session).rows if r.candidate.project_id == project.id), None)
    return render_template("reviews/committee_decide.html", session=session, project=project, form=form,
                           row=row, problem=problem), status


@bp.route("/<int:session_id>/minutes", methods=["POST"])
@roles(*DECIDERS)
def minutes(session_id: int):
    """Save the minutes, or save them and close the session (``action=close``)."""
    session = get_session_or_404(session_id)
    form = MinutesForm()
    if not form.validate_on_submit():
        return render_session(session, 400, form)
    closing = request.form.get("action") == "close"
    if closing and not confirmed() and services.can_decide(current_person(), session):
        ranking = services.session_ranking(session)
        return ask(confirmations.close_session(session, len(session.decisions), len(ranking.rows),
                                               ranking.remaining_xof, form.minutes.data))
    done = _("The session is closed; its decisions and minutes are final.") if closing else _("The minutes are saved.")
    with unit_of_work(success=done):
        (services.close_session if closing else services.save_minutes)(session, form.minutes.data, current_person())
    return redirect(url_for(".session", session_id=session.id))


def _pdf(content: bytes, name: str):
    response = make_response(content)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return response


def _pdf_locale() -> str:
    chosen = request.args.get("lang")
    return chosen if chosen in current_app.config["LANGUAGES"] else locale_name()


@bp.route("/<int:session_id>/ranking.pdf")
@roles(*MINISTRY)
def ranking_pdf(session_id: int):
    """The ranking of the session as a PDF, in the reader's language (or ``?lang=``)."""
    session = get_session_or_404(session_id)
    return _pdf(committee_documents.ranking_document(session, _pdf_locale()), f"classement-{session.id}")


@bp.route("/<int:session_id>/minutes.pdf")
@roles(*MINISTRY)
def minutes_pdf(session_id: int):
    """The minutes of the session as a PDF, in the reader's language (or ``?lang=``)."""
    session = get_session_or_404(session_id)
    return _pdf(committee_documents.minutes_document(session, _pdf_locale()), f"proces-verbal-{session.id}")


def awaiting_panel():
    """Officer home: how many qualified projects wait for the committee."""
    return "reviews/committee_panel.html", {"count": services.awaiting_committee_count()}


@bp.record_once
def _register_navigation(state) -> None:
    """Navigation, home card and the project page's helper, once the blueprint is on an app."""
    nav_item("reviews.committee.sessions", _l("Committee"), *MINISTRY, order=45, group="review")
    home_panel(Role.OFFICER)(awaiting_panel)
    state.app.context_processor(lambda: {"review_progress": progress.review_progress})


reviews_bp.register_blueprint(bp)
