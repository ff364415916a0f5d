"""Project pages: start, the project page and its PDF sheet, files, transitions, lists, home cards.

The steps of the application form are in :mod:`codev.projects.views_steps`.
"""

from __future__ import annotations

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from codev.accounts.models import MINISTRY_ROLES, Role
from codev.calls.models import Call
from codev.calls.rules import rules_in_words
from codev.calls.services import accepting_calls, get_call_or_404
from codev.core.confirm import ask, confirmed
from codev.core.countries import country_choices
from codev.core.geography import region_choices
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.kept_pages import kept_page
from codev.core.params import paginate
from codev.core.permissions import current_person, roles
from codev.core.sectors import sector_choices
from codev.core.storage import download
from codev.core.templating import home_panel, localized, nav_item
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db
from codev.projects import bp, confirmations, next_steps, reading, services
from codev.projects.forms import FilterForm, ReturnForm, StartForm, WithdrawForm
from codev.projects.models import Project
from codev.projects.services import get_editable_project_or_404, get_own_project_or_404, get_project_or_404
from codev.projects.sheet import render_sheet
from codev.projects.workflow import available

MINISTRY = tuple(sorted(MINISTRY_ROLES))  # officer, approver, admin
# Everyone signed in may ask; can_view() then answers 404 to those the project is not for
# (evaluators see nothing until they are assigned projects).
VIEWERS = (Role.ASSOCIATION, Role.EVALUATOR, *MINISTRY)

nav_item("projects.mine", _l("My projects"), Role.ASSOCIATION, order=25)
nav_item("projects.index", _l("Projects"), *MINISTRY, order=40, group="review")



def _page(query):
    return paginate(query)


def render_detail(project: Project, status: int = 200, **forms):
    """The project page, with any refused form shown where it was typed."""
    user = current_person()
    context = {
        "project": project,
        "plan": reading.plan_summary(project),
        "is_member": services.is_member(user, project),
        "can_edit": services.can_edit(user, project),
        "can_download": services.can_download(user, project),
        "transitions": {t.name: t for t in available(project, user)},
        "next_step": next_steps.next_step(project, user),
        "return_form": forms.get("return_form") or ReturnForm(formdata=None),
        "withdraw_form": forms.get("withdraw_form") or WithdrawForm(formdata=None),
    }
    return render_template("projects/detail.html", **context), status


@bp.route("/new/<int:call_id>", methods=["GET", "POST"])
@roles(Role.ASSOCIATION)
def new(call_id: int):
    """Start a project on an open call: its rules first, then a title creates the draft."""
    call = get_call_or_404(call_id, current_person())
    problems = services.start_problems(call, current_person())
    form = StartForm()
    if not problems and form.validate_on_submit():
        started = _("Your project is started. Fill in each step; your work is saved at each one.")
        with unit_of_work(form, success=started) as work:
            project = services.start_project(call, current_person(), form.title.data)
        if work:
            return redirect(url_for("projects.general", project_id=project.id))
    status = 400 if request.method == "POST" else 200
    return render_template("projects/new.html", call=call, form=form, problems=problems,
                           rules=rules_in_words(call)), status


@bp.route("/<int:project_id>")
@roles(*VIEWERS)
def detail(project_id: int):
    """The project page: summary, place, budget, plan, files, history — what the person may see."""
    return render_detail(get_project_or_404(project_id, current_person()))


@bp.route("/<int:project_id>/sheet.pdf")
@roles(*VIEWERS)
def sheet(project_id: int):
    """The application as a PDF, in the association's language (ministry users may pick one)."""
    project = get_project_or_404(project_id, current_person())
    locale = project.association.locale
    if current_person().is_ministry and request.args.get("lang") in current_app.config["LANGUAGES"]:
        locale = request.args["lang"]
    response = make_response(render_sheet(project, locale))
    response.headers["Content-Type"] = "application/pdf"
    name = project.reference or f"projet-{project.id}"
    response.headers["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return response


@bp.route("/<int:project_id>/files/<int:file_id>")
@roles(*VIEWERS)
def attachment(project_id: int, file_id: int):
    """Download one of the project's documents (always as a download)."""
    project = get_project_or_404(project_id, current_person())
    link = next((a for a in project.attachments if a.id == file_id), None)
    if link is None or not services.can_download(current_person(), project):
        abort(404)
    return download(link.file)


@bp.route("/<int:project_id>/submit", methods=["POST"])
@roles(Role.ASSOCIATION, Role.OFFICER)  # an officer: an application filed on an association's behalf
def submit(project_id: int):
    """Submit (or resubmit) the application; every problem is listed when it cannot be."""
    project = get_editable_project_or_404(project_id, current_person())
    if not project.is_editable:
        flash(_("This project has been submitted: it can no longer be changed."), "info")
        return redirect(url_for("projects.detail", project_id=project.id))
    with unit_of_work(show=False) as work:  # the review page itself lists each failed check of a refusal
        services.submit_project(project, current_person())
        work.success = _("Your project is submitted under the reference %(ref)s. The ministry has been told.",
                         ref=project.reference)
        if not services.is_member(current_person(), project):  # an officer, for an association filed on paper
            work.success = _("The project is submitted on the association's behalf under the reference %(ref)s.",
                             ref=project.reference)
    if work:
        return redirect(url_for("projects.detail", project_id=project.id))
    from codev.projects.views_steps import render_review

    return render_review(project, 400, refused=work.error)


@bp.route("/<int:project_id>/return", methods=["POST"])
@roles(Role.OFFICER)
def return_for_changes(project_id: int):
    """Send a submitted project back to its association with what to change."""
    project = get_project_or_404(project_id, current_person())
    form = ReturnForm()
    if not form.validate_on_submit():
        return render_detail(project, 400, return_form=form)
    with unit_of_work(success=_("The project is returned to the association; its members have been told.")):
        services.return_project(project, current_person(), form.message.data)
    return redirect(url_for("projects.detail", project_id=project_id))


@bp.route("/<int:project_id>/withdraw", methods=["POST"])
@roles(Role.ASSOCIATION)
def withdraw(project_id: int):
    """The association withdraws its project (before any decision)."""
    project = get_own_project_or_404(project_id, current_person())
    form = WithdrawForm()
    if not form.validate_on_submit():
        return render_detail(project, 400, withdraw_form=form)
    if not confirmed() and any(t.name == "withdrawn" for t in available(project, current_person())):
        return ask(confirmations.withdraw(project, form.reason.data))
    with unit_of_work(success=_("The project is withdrawn.")):
        services.withdraw_project(project, current_person(), form.reason.data)
    return redirect(url_for("projects.detail", project_id=project_id))


@bp.route("/mine")
@roles(Role.ASSOCIATION)
def mine():
    """The association's projects as cards, each with its next step, and the calls open now."""
    page = _page(reading.association_projects(current_person().association_id))
    steps = {project.id: reading.next_step(project) for project in page.items}
    return render_template("projects/mine.html", page=page, steps=steps, calls=accepting_calls())


@bp.route("/")
@roles(*MINISTRY)
@kept_page  # rendered once per state of the data, reader and address (codev.core.kept_pages)
def index():
    """Every project, with filters (call, status, region, sector, country) and pages."""
    form = FilterForm(formdata=request.args)
    calls = db.session.execute(select(Call.id, Call.title, Call.title_en).order_by(Call.id.desc())).all()
    form.call.choices = [("", _("All"))] + [(str(c.id), localized(c, "title")) for c in calls]
    form.region.choices = [("", _("All"))] + region_choices()
    form.sector.choices = [("", _("All"))] + sector_choices()
    form.country.choices = [("", _("All"))] + country_choices()
    form.validate()
    page = _page(reading.ministry_projects(form.values()))
    totals = reading.budget_totals([p.id for p in page.items])
    steps = next_steps.next_steps(page.items, current_person())  # their facts read once for the page
    return render_template("projects/index.html", form=form, page=page, totals=totals, steps=steps)


@home_panel(Role.ASSOCIATION)
def member_panel():
    """The association's latest projects, each with its next step."""
    if current_user.association_id is None:
        return None
    projects = db.session.scalars(reading.association_projects(current_user.association_id).limit(5)).all()
    steps = {project.id: reading.next_step(project) for project in projects}
    return "projects/_panel_member.html", {"projects": projects, "steps": steps}

