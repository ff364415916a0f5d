"""The ministry's review pages: projects to screen, the screening, a project's review, assignments.

Officers act (screen, assign, withdraw, consolidate); approvers and administrators read the lists and
a project's review page. Associations and evaluators never reach these pages (403 by role).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from codev.accounts.models import Role, User
from codev.calls.services import get_call_or_404
from codev.core.confirm import ask, confirmed
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.i18n import ngettext
from codev.core.permissions import roles
from codev.core.templating import home_panel, nav_item
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db
from codev.projects.duplicates import similar_label, similar_projects
from codev.projects.models import Project, ProjectStatus
from codev.projects.next_steps import next_step, next_steps
from codev.projects.reading import count_submitted
from codev.projects.services import get_project_or_404
from codev.reviews import assignments, bp, confirmations, evaluations, screening
from codev.reviews.forms import (
    ActionForm,
    AssignForm,
    BulkAssignForm,
    CallFilterForm,
    InReviewFilterForm,
    ScreeningForm,
    screening_form_data,
)
from codev.reviews.models import AssignmentStatus
from codev.reviews.scoring import project_result
from codev.reviews.views_common import MINISTRY, call_choices, page_of, points_text, user

nav_item("reviews.to_screen", _l("Screening"), Role.OFFICER, order=41, group="review")
nav_item("reviews.in_review", _l("Under review"), *MINISTRY, order=42, group="review")


@bp.route("/screening")
@roles(Role.OFFICER)
def to_screen():
    """Submitted projects waiting for their screening, oldest first, with their checklist at a glance."""
    form = CallFilterForm(formdata=request.args)
    form.call.choices = call_choices(_("All"))
    form.validate()
    page = page_of(screening.to_screen_query(form.call_id()))
    met = {p.id: sum(item.met for item in screening.checklist(p)) for p in page.items}
    return render_template("reviews/to_screen.html", form=form, page=page, met=met, total=len(screening.ITEMS))


def _render_screen(project: Project, form: ScreeningForm, status: int = 200):
    return render_template(
        "reviews/screen.html", project=project, form=form, items=screening.checklist(project),
        screenings=screening.screenings_of(project.id), open=project.status == ProjectStatus.SUBMITTED,
        similar=similar_projects(project), similar_label=similar_label,
    ), status


@bp.route("/projects/<int:project_id>/screen", methods=["GET", "POST"])
@roles(Role.OFFICER)
def screen(project_id: int):
    """The admissibility checklist of a submitted project and the officer's decision."""
    project = get_project_or_404(project_id, user())
    if request.method == "GET":
        return _render_screen(project, ScreeningForm(data=screening_form_data(screening.checklist(project))))
    form = ScreeningForm()
    if project.status != ProjectStatus.SUBMITTED:
        flash(_("This project is not awaiting screening: it is “%(state)s”.",
                state=ProjectStatus(project.status).label), "error")
        return redirect(url_for("reviews.project", project_id=project.id))
    if not form.validate():
        return _render_screen(project, form, 400)
    if form.outcome.data == "ineligible" and (form.message.data or "").strip() and not confirmed():
        return ask(confirmations.ineligible(project, form.message.data))
    with unit_of_work() as work:  # a refusal is flashed above the checklist shown again
        done = screening.screen_project(project, user(), form.outcome.data, form.confirmations(), form.message.data)
        work.success = SCREENED[done.outcome]
    if not work:
        return _render_screen(get_project_or_404(project_id, user()), form, 400)
    if done.outcome == "eligible":
        return redirect(url_for("reviews.project", project_id=project.id))
    return redirect(url_for("reviews.to_screen"))


SCREENED = {
    "eligible": _l("The project is eligible and now under review; assign its evaluators. "
                   "The association has been told."),
    "ineligible": _l("The project is declared ineligible; the association has been told why."),
    "returned": _l("The project is returned to the association with your message."),
}


def render_review(project: Project, status: int = 200, assign_form: AssignForm | None = None):
    """The review page of a project: screenings, assignments, evaluations side by side, the result."""
    by_project = assignments.assignments_of([project.id])[project.id]
    submitted = [a for a in by_project if a.status == AssignmentStatus.SUBMITTED and a.evaluation
                 and a.evaluation.submitted_at]
    result = project_result(project)
    means = {}
    for criterion in project.call.criteria:
        values = [s.score for a in submitted for s in a.evaluation.scores
                  if s.criterion_id == criterion.id and s.score is not None]
        means[criterion.id] = points_text(sum(values), len(values))
    candidates = []
    if project.status == ProjectStatus.IN_REVIEW:
        candidates = assignments.candidates(project)
        if assign_form is None:
            assign_form = AssignForm(formdata=None, data={"due_on": assignments.default_due_on()})
        assign_form.evaluator.choices = _evaluator_choices(candidates)
    return render_template(
        "reviews/project.html", project=project, screenings=screening.screenings_of(project.id),
        assignments=by_project, submitted=submitted, result=result, means=means, assign_form=assign_form,
        candidates=candidates, action_form=ActionForm(formdata=None), open_statuses=assignments.OPEN,
        next_step=next_step(project, user()),
    ), status


def _evaluator_choices(candidates) -> list[tuple[str, str]]:
    choices = []
    for c in candidates:
        structure = c.evaluator.partner_structure
        parts = [structure.acronym or structure.name if structure else "",
                 ngettext("%(num)d open assignment", "%(num)d open assignments", c.load)]
        if c.covers_sector:
            parts.append(_("covers the sector"))
        if c.covers_region:
            parts.append(_("covers the region"))
        choices.append((str(c.evaluator.id), f"{c.evaluator.name} — " + " · ".join(p for p in parts if p)))
    return choices


@bp.route("/projects/<int:project_id>")
@roles(*MINISTRY)
def project(project_id: int):
    """A project's review: screening history, evaluators, evaluations side by side, the consolidated result."""
    return render_review(get_project_or_404(project_id, user()))


@bp.route("/projects/<int:project_id>/assign", methods=["POST"])
@roles(Role.OFFICER)
def assign(project_id: int):
    """Assign one evaluator (the suggested one comes first in the list)."""
    project = get_project_or_404(project_id, user())
    form = AssignForm()
    form.evaluator.choices = _evaluator_choices(assignments.candidates(project))
    if project.status != ProjectStatus.IN_REVIEW:
        flash(_("Evaluators can be assigned only to a project under review."), "error")
        return redirect(url_for("reviews.project", project_id=project.id))
    if not form.validate():
        return render_review(project, 400, form)
    evaluator = db.session.get(User, int(form.evaluator.data))
    with unit_of_work(form, success=_("%(name)s is assigned; they have been emailed.", name=evaluator.name)) as work:
        assignments.assign(project, evaluator, user(), form.due_on.data)
    if not work:
        return render_review(get_project_or_404(project_id, user()), 400, form)
    return redirect(url_for("reviews.project", project_id=project.id))


@bp.route("/assignments/<int:assignment_id>/withdraw", methods=["POST"])
@roles(Role.OFFICER)
def withdraw(assignment_id: int):
    """Take the project back from an evaluator (then assign another)."""
    assignment = db.session.get(assignments.Assignment, assignment_id)
    if assignment is None:
        abort(404)
    project_id = assignment.project_id
    if not confirmed() and assignment.status in assignments.OPEN:
        evaluator = db.session.get(User, assignment.evaluator_id)
        return ask(confirmations.withdraw_assignment(assignment, evaluator.name if evaluator else ""))
    with unit_of_work(success=_("The assignment is withdrawn; assign another evaluator if needed.")):
        assignments.withdraw(assignment, user())
    return redirect(url_for("reviews.project", project_id=project_id))


@bp.route("/projects/<int:project_id>/consolidate", methods=["POST"])
@roles(Role.OFFICER)
def consolidate(project_id: int):
    """Recompute the result and, when enough evaluations are in, qualify the project (or not)."""
    project = get_project_or_404(project_id, user())
    with unit_of_work() as work:
        status = evaluations.consolidate(project, user())
        if status is None:
            work.success, work.category = _("The result is up to date; the project's status does not change."), "info"
        else:
            work.success = _("The project is now “%(state)s”.", state=ProjectStatus(status).label)
    return redirect(url_for("reviews.project", project_id=project_id))


@bp.route("/calls/<int:call_id>/assign", methods=["GET", "POST"])
@roles(Role.OFFICER)
def assign_bulk(call_id: int):
    """Give every project of a call under review its evaluators, as suggested (preview, then confirm)."""
    call = get_call_or_404(call_id, user())
    form = BulkAssignForm(data={"due_on": assignments.default_due_on()})
    if request.method == "POST":
        if form.validate():
            with unit_of_work(form) as work:
                made = assignments.assign_bulk(call, user(), form.due_on.data)
                work.success = ngettext("%(num)d assignment made; the evaluator has been emailed.",
                                        "%(num)d assignments made; the evaluators have been emailed.", len(made))
            if work:
                return redirect(url_for("reviews.in_review", call=call.id))
    status = 400 if form.errors else 200
    return render_template("reviews/assign_bulk.html", call=call, form=form,
                           plan=assignments.bulk_plan(call)), status


@bp.route("/in-review")
@roles(*MINISTRY)
def in_review():
    """Projects under review, with their evaluators, filtered by call and by what they need."""
    form = InReviewFilterForm(formdata=request.args)
    form.call.choices = call_choices(_("All"))
    form.validate()
    page = page_of(assignments.in_review_query(form.call_id(), form.need_value()))
    by_project = assignments.evaluators_of([p.id for p in page.items])
    return render_template("reviews/in_review.html", form=form, page=page, by_project=by_project,
                           call_id=form.call_id(), open_statuses=assignments.OPEN, today=_today(),
                           steps=next_steps(page.items, user()))


def _today():
    from codev.core.timeutil import utcnow

    return utcnow().date()


@home_panel(Role.OFFICER)
def officer_panel():
    """What the reviews need from the officer: projects to screen, to assign, evaluations late."""
    return "reviews/_panel_officer.html", {"to_screen": count_submitted(), "to_assign": assignments.count_to_assign(),
                                           "late": assignments.count_late()}
