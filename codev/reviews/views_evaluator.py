"""The evaluator's pages: their assignments, the conflict declaration, the scoring page, the project's files.

Every URL goes through :func:`codev.reviews.assignments.get_assignment_or_404`: an assignment that is
not the person's, or from which they recused themselves or were withdrawn, answers 404.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from codev.accounts.models import Role
from codev.core.confirm import ask, confirmed
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.i18n import locale_name
from codev.core.permissions import roles
from codev.core.storage import download
from codev.core.templating import home_panel, nav_item
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db
from codev.projects.models import Project
from codev.projects.reading import plan_summary
from codev.reviews import assignments, bp, confirmations, evaluations
from codev.reviews.assignments import VIEWING, get_assignment_or_404
from codev.reviews.forms import DeclarationForm, MineFilterForm, evaluation_form
from codev.reviews.models import Assignment, AssignmentStatus
from codev.reviews.scoring import evaluation_score_centi
from codev.reviews.views_common import page_of, user

nav_item("reviews.my_assignments", _l("My assignments"), Role.EVALUATOR, order=20)


@bp.route("/mine")
@roles(Role.EVALUATOR)
def my_assignments():
    """The evaluator's assignments with their deadlines, the ones to do first."""
    form = MineFilterForm(formdata=request.args)
    form.validate()
    show = form.show.data if not form.show.errors else None
    page = page_of(assignments.evaluator_assignments_query(user(), show))
    return render_template("reviews/my_assignments.html", form=form, page=page, today=utcnow().date())


def _render_declaration(assignment: Assignment, form: DeclarationForm, status: int = 200):
    return render_template("reviews/declare.html", assignment=assignment, project=assignment.project,
                           form=form), status


def _render_grid(assignment: Assignment, form=None, status: int = 200):
    project = db.session.scalar(
        db.select(Project).where(Project.id == assignment.project_id).options(
            selectinload(Project.budget_lines), selectinload(Project.financing_lines),
            selectinload(Project.attachments))
    )
    criteria = project.call.criteria
    if form is None:
        form = evaluation_form(criteria, locale_name(), assignment.evaluation)
        saved = assignment.evaluation.scores if assignment.evaluation else []
        typed = {s.criterion_id: s.score for s in saved if s.score is not None}
    else:
        typed = {c.id: form[f"score_{c.id}"].number for c in criteria if form[f"score_{c.id}"].number is not None}
    return render_template(
        "reviews/evaluate.html", assignment=assignment, project=project, plan=plan_summary(project), form=form,
        evaluation=assignment.evaluation, locked=assignment.status == AssignmentStatus.SUBMITTED,
        live_total=evaluation_score_centi(criteria, typed),
    ), status


@bp.route("/assignments/<int:assignment_id>", methods=["GET", "POST"])
@roles(Role.EVALUATOR)
def evaluate(assignment_id: int):
    """The declaration first; then the project beside the grid: save a draft or submit."""
    assignment = get_assignment_or_404(assignment_id, user())
    if assignment.status == AssignmentStatus.ASSIGNED and request.method == "GET":
        return _render_declaration(assignment, DeclarationForm(formdata=None))
    if request.method == "GET":
        return _render_grid(assignment)
    form = evaluation_form(assignment.project.call.criteria, locale_name(), assignment.evaluation)
    if assignment.status == AssignmentStatus.ACCEPTED and not form.validate():
        return _render_grid(assignment, form, 400)
    submit = request.form.get("action") == "submit"
    service = evaluations.submit_evaluation if submit else evaluations.save_evaluation
    done = (_("Your evaluation is submitted. Thank you.") if submit
            else _("Your draft is saved. You can come back to it until you submit."))
    with unit_of_work(success=done) as work:  # a refusal is flashed above the page shown again
        service(assignment, user(), form.evaluation_data())
    if work:
        if submit:
            return redirect(url_for("reviews.my_assignments"))
        return redirect(url_for("reviews.evaluate", assignment_id=assignment_id))
    assignment = get_assignment_or_404(assignment_id, user())
    if assignment.status == AssignmentStatus.ASSIGNED:
        return _render_declaration(assignment, DeclarationForm(formdata=None), 400)
    locked = assignment.status == AssignmentStatus.SUBMITTED
    return _render_grid(assignment, None if locked else form, 409 if locked else 400)


@bp.route("/assignments/<int:assignment_id>/declare", methods=["POST"])
@roles(Role.EVALUATOR)
def declare(assignment_id: int):
    """Declare a conflict of interest (withdraws the evaluator) or none (opens the project)."""
    assignment = get_assignment_or_404(assignment_id, user())
    form = DeclarationForm()
    if assignment.status != AssignmentStatus.ASSIGNED:
        flash(_("You have already made your declaration for this project."), "info")
        return redirect(url_for("reviews.evaluate", assignment_id=assignment_id))
    if not form.validate():
        return _render_declaration(assignment, form, 400)
    conflict = form.declaration.data == "conflict"
    if conflict and not confirmed():
        return ask(confirmations.recuse(assignment, form.note.data))
    done = (_("You have declared a conflict of interest: this project is withdrawn from you and the programme "
              "officers have been told.") if conflict else _("Thank you. You can now study and score the project."))
    with unit_of_work(success=done) as work:
        evaluations.declare(assignment, user(), conflict, form.note.data)
    if work and not conflict:
        return redirect(url_for("reviews.evaluate", assignment_id=assignment_id))
    return redirect(url_for("reviews.my_assignments"))


@bp.route("/assignments/<int:assignment_id>/files/<int:file_id>")
@roles(Role.EVALUATOR)
def attachment(assignment_id: int, file_id: int):
    """Download a document of the assigned project (only after declaring no conflict)."""
    assignment = get_assignment_or_404(assignment_id, user())
    if assignment.status not in VIEWING:
        abort(404)
    link = next((a for a in assignment.project.attachments if a.id == file_id), None)
    if link is None:
        abort(404)
    return download(link.file)


@home_panel(Role.EVALUATOR)
def evaluator_panel():
    """The evaluator's open assignments with their deadlines."""
    query = assignments.evaluator_assignments_query(current_user, "open")
    items = db.session.scalars(query.limit(5)).unique().all()
    count = db.session.scalar(
        db.select(db.func.count(Assignment.id)).where(Assignment.evaluator_id == current_user.id,
                                                      Assignment.status.in_(assignments.OPEN))
    ) or 0
    return "reviews/_panel_evaluator.html", {"assignments": items, "count": count, "today": utcnow().date()}
