"""The guided application form: one page per step, each saving the draft; attachments; review.

Every step page shows the list of steps (done / to do) on the side; saving a step marks it done and
opens the next one. A refused form keeps what was typed and says what to fix; a save that crossed
another member's save says so (the version counter) instead of overwriting it.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from codev.accounts.models import Role
from codev.calls.rates import RECORDED_CURRENCIES, rate_for
from codev.core.geography import commune_by_name, commune_choices
from codev.core.i18n import gettext as _
from codev.core.money import EUR_RATE_MILLIONTHS
from codev.core.permissions import current_person, roles
from codev.core.sectors import sector_label
from codev.core.storage import discard_file
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import UnitOfWork, unit_of_work
from codev.projects import assisted, bp, reading, services
from codev.projects import attachments as documents
from codev.projects.forms import (
    AttachmentForm,
    BudgetForm,
    DescriptionForm,
    FinancingForm,
    GeneralForm,
    LocationForm,
    VersionForm,
    budget_form_data,
    financing_form_data,
)
from codev.projects.models import Project
from codev.projects.services import (
    MAX_BUDGET_LINES,
    MAX_FINANCING_LINES,
    StaleProject,
    get_editable_project_or_404,
)
from codev.projects.workflow import SUBMISSION_CHECKS, Step, first_step_to_do, steps_done

ORDER = [*Step]
ENDPOINTS = {step: f"projects.{step.value}" for step in Step}



def _form(form_class, data: dict):
    """On GET the saved values; on POST only what was sent (a missing field never falls back silently)."""
    return form_class() if request.method == "POST" else form_class(data=data)


def _side(project: Project, current: str) -> list[dict]:
    done = steps_done(project)
    items = [{"label": step.label, "url": url_for(ENDPOINTS[step], project_id=project.id),
              "done": step in done, "current": step == current} for step in ORDER]
    items.append({"label": _("Review and submit"), "url": url_for("projects.review", project_id=project.id),
                  "done": False, "current": current == "review"})
    return items


def _open(project_id: int) -> tuple[Project, object]:
    """The member's project (or the one an officer files on its behalf); when it can no longer be edited, the
    redirect to show instead."""
    project = get_editable_project_or_404(project_id, current_person())
    if not project.is_editable:
        flash(_("This project has been submitted: it can no longer be changed."), "info")
        return project, redirect(url_for("projects.detail", project_id=project.id))
    return project, None


def render_step(project: Project, step: Step, form, status: int = 200, **extra):
    return render_template(f"projects/step_{step.value}.html", project=project, form=form, step=step,
                           steps=_side(project, step), **extra), status


def _after_save(project: Project, step: Step):
    flash(_("Saved: “%(step)s”.", step=step.label), "success")
    following = ORDER.index(step) + 1
    if following < len(ORDER):
        return redirect(url_for(ENDPOINTS[ORDER[following]], project_id=project.id))
    return redirect(url_for("projects.review", project_id=project.id))


def _save(project: Project, step: Step, form, save, **extra):
    """Run ``save``; commit and open the next step, or show the form again with the reason."""
    with unit_of_work(form) as work:
        save()
    if work:
        return _after_save(project, step)
    return render_step(project, step, form, _refused_status(work), **extra)


def _refused_status(work: UnitOfWork) -> int:
    """409 when another member saved the project meanwhile, else 400."""
    return 409 if isinstance(work.error, StaleProject) else 400


def _save_fields(project: Project, step: Step, form):
    """Save one of the plain-field steps (general, location, description)."""
    return _save(project, step, form, lambda: services.save_step(
        project, step, form.data_for(), current_person(), form.version.data))


@bp.route("/<int:project_id>/edit")
@roles(Role.ASSOCIATION, Role.OFFICER)  # an officer: an application filed on an association's behalf
def edit(project_id: int):
    """Resume the application at the first step not done yet."""
    project, closed = _open(project_id)
    if closed:
        return closed
    step = first_step_to_do(project)
    if step is None:
        return redirect(url_for("projects.review", project_id=project.id))
    return redirect(url_for(ENDPOINTS[step], project_id=project.id))


@bp.route("/<int:project_id>/general", methods=["GET", "POST"])
@roles(Role.ASSOCIATION, Role.OFFICER)  # an officer: an application filed on an association's behalf
def general(project_id: int):
    """Step 1: title, sector among the call's sectors, summary, led by women."""
    project, closed = _open(project_id)
    if closed:
        return closed
    form = _form(GeneralForm, {"version": project.version, **services.step_data(project, Step.GENERAL)})
    form.sector.choices = [("", _("Choose…"))] + [(c, sector_label(c)) for c in services.eligible_sectors(project.call)]
    if form.validate_on_submit():
        return _save_fields(project, Step.GENERAL, form)
    return render_step(project, Step.GENERAL, form, 400 if request.method == "POST" else 200)


@bp.route("/<int:project_id>/location", methods=["GET", "POST"])
@roles(Role.ASSOCIATION, Role.OFFICER)  # an officer: an application filed on an association's behalf
def location(project_id: int):
    """Step 2: the commune (region → prefecture → commune), the village, the local partner."""
    project, closed = _open(project_id)
    if closed:
        return closed
    data = {"version": project.version, **services.step_data(project, Step.LOCATION)}
    picked = commune_by_name(request.args.get("commune"))  # back from the step-by-step chooser
    if picked is not None:
        data["commune"] = picked.name
    form = _form(LocationForm, data)
    form.commune.choices = {"": [("", _("Choose…"))], **commune_choices(project.call.region_codes or None)}
    if form.validate_on_submit():
        return _save_fields(project, Step.LOCATION, form)
    here = url_for("projects.location", project_id=project.id)
    return render_step(project, Step.LOCATION, form, 400 if request.method == "POST" else 200,
                       chooser_url=url_for("calls.communes", next=here), picked=picked)


@bp.route("/<int:project_id>/description", methods=["GET", "POST"])
@roles(Role.ASSOCIATION, Role.OFFICER)  # an officer: an application filed on an association's behalf
def description(project_id: int):
    """Step 3: problem, objectives, activities, beneficiaries, start and duration."""
    project, closed = _open(project_id)
    if closed:
        return closed
    form = _form(DescriptionForm, {"version": project.version, **services.step_data(project, Step.DESCRIPTION)})
    if form.validate_on_submit():
        return _save_fields(project, Step.DESCRIPTION, form)
    return render_step(project, Step.DESCRIPTION, form, 400 if request.method == "POST" else 200)


def _pad(lines, blank: int, limit: int) -> None:
    """Add up to ``blank`` empty rows, never beyond ``limit`` rows in all."""
    for _i in range(max(0, min(blank, limit - len(lines.entries)))):
        lines.append_entry()


@bp.route("/<int:project_id>/budget", methods=["GET", "POST"])
@roles(Role.ASSOCIATION, Role.OFFICER)  # an officer: an application filed on an association's behalf
def budget(project_id: int):
    """Step 4: budget lines (category, description, quantity × unit cost); more rows on request."""
    project, closed = _open(project_id)
    if closed:
        return closed
    form = _form(BudgetForm, budget_form_data(project))
    if request.method == "POST" and request.form.get("action") == "add":
        _pad(form.lines, 5, MAX_BUDGET_LINES)  # nothing is saved: the rows typed so far come back, and more
        return render_step(project, Step.BUDGET, form)
    if form.validate_on_submit():
        return _save(project, Step.BUDGET, form,
                     lambda: services.save_budget(project, form.parsed, current_person(), form.version.data))
    if request.method == "GET":
        _pad(form.lines, 3 if project.budget_lines else 5, MAX_BUDGET_LINES)
    return render_step(project, Step.BUDGET, form, 400 if request.method == "POST" else 200)


def _rates() -> dict[str, int]:
    """Today's rates (millionths of a franc) the page's script uses for its live totals."""
    today = utcnow().date()
    rates = {"XOF": 1_000_000, "EUR": EUR_RATE_MILLIONTHS}
    rates.update({c: r for c in RECORDED_CURRENCIES if (r := rate_for(c, today))})
    return rates


@bp.route("/<int:project_id>/financing", methods=["GET", "POST"])
@roles(Role.ASSOCIATION, Role.OFFICER)  # an officer: an application filed on an association's behalf
def financing(project_id: int):
    """Step 5: the financing plan and the grant asked, with the call's rules met or not, in words."""
    project, closed = _open(project_id)
    if closed:
        return closed
    form = _form(FinancingForm, financing_form_data(project))
    extra = {"plan": reading.plan_summary(project), "rates": _rates()}
    if request.method == "POST" and request.form.get("action") == "add":
        _pad(form.lines, 3, MAX_FINANCING_LINES)
        return render_step(project, Step.FINANCING, form, **extra)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            checks = services.save_financing(project, form.parsed, form.requested_grant.amount, current_person(),
                                             form.version.data)
        if not work:
            return render_step(project, Step.FINANCING, form, _refused_status(work), **extra)
        if all(check.ok for check in checks):
            return _after_save(project, Step.FINANCING)
        flash(_("The plan is saved, but some rules of the call are not met yet: see below."), "warning")
        return redirect(url_for("projects.financing", project_id=project.id))
    if request.method == "GET":
        _pad(form.lines, 2 if project.financing_lines else 4, MAX_FINANCING_LINES)
    return render_step(project, Step.FINANCING, form, 400 if request.method == "POST" else 200, **extra)


def _render_attachments(project: Project, form: AttachmentForm, status: int = 200):
    return render_step(project, Step.ATTACHMENTS, form, status, missing=documents.missing_kinds(project),
                       used=documents.files_used_bytes(project), file_max=documents.file_max_bytes(),
                       version_form=VersionForm(formdata=None, data={"version": project.version}))


@bp.route("/<int:project_id>/attachments", methods=["GET", "POST"])
@roles(Role.ASSOCIATION, Role.OFFICER)  # an officer: an application filed on an association's behalf
def attachments(project_id: int):
    """Step 6: the documents; each upload is checked (type by content, size) and kept with the draft."""
    project, closed = _open(project_id)
    if closed:
        return closed
    form = AttachmentForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            link = documents.add_attachment(project, form.kind.data, form.file.data, current_person())
            work.success = _("“%(name)s” is attached.", name=link.file.display_name)
        if work:
            return redirect(url_for("projects.attachments", project_id=project.id))
    return _render_attachments(project, form, 400 if request.method == "POST" else 200)


@bp.route("/<int:project_id>/attachments/<int:file_id>/delete", methods=["POST"])
@roles(Role.ASSOCIATION, Role.OFFICER)  # an officer: an application filed on an association's behalf
def delete_attachment(project_id: int, file_id: int):
    """Remove a document while the project can still be edited."""
    project, closed = _open(project_id)
    if closed:
        return closed
    with unit_of_work() as work:
        stored = documents.delete_attachment(project, file_id, current_person())
        work.success = _("“%(name)s” is removed.", name=stored.display_name)
    if work:
        discard_file(stored)  # only once the row is gone for good
    return redirect(url_for("projects.attachments", project_id=project.id))


@bp.route("/<int:project_id>/attachments/done", methods=["POST"])
@roles(Role.ASSOCIATION, Role.OFFICER)  # an officer: an application filed on an association's behalf
def attachments_done(project_id: int):
    """Close the attachments step (every required document must be there)."""
    project, closed = _open(project_id)
    if closed:
        return closed
    form = VersionForm()
    with unit_of_work() as work:
        documents.finish_attachments(project, current_person(), form.version.data)
    if work:
        return _after_save(project, Step.ATTACHMENTS)
    return redirect(url_for("projects.attachments", project_id=project.id))


def render_review(project: Project, status: int = 200, refused=None):
    """Every check of the submission, met or not, and the submit button."""
    problems = [p for check in (*SUBMISSION_CHECKS, assisted.signed_scan_check) for p in check(project)]
    return render_template("projects/review.html", project=project, steps=_side(project, "review"),
                           problems=problems, refused=refused, plan=reading.plan_summary(project),
                           next_step=reading.next_step(project)), status


@bp.route("/<int:project_id>/review")
@roles(Role.ASSOCIATION, Role.OFFICER)  # an officer: an application filed on an association's behalf
def review(project_id: int):
    """The last step: everything checked, in words, before submitting."""
    project, closed = _open(project_id)
    if closed:
        return closed
    return render_review(project)
