"""Staff-assisted applications: an officer files a paper application for an association, then hands it over.

The officer's pages: the list of associations filed by the ministry, "File a paper application" (the
association's profile, with the associations it may already be), the file of one association (verify it,
start its project on an open call and fill the same steps as online, upload the scan of the signed
application, submit it on its behalf, email the hand-over link, see everything done so far). The public
page of the emailed link lets the association's contact choose a password and take the account.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from sqlalchemy import and_, or_, select

from codev.accounts import assisted as accounts_assisted
from codev.accounts.associations.forms import AcceptInvitationForm
from codev.accounts.associations.services import get_association_or_404
from codev.accounts.models import MINISTRY_ROLES, AssociationStatus, Role
from codev.calls.models import Call
from codev.calls.services import accepting_calls
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.models import AuditEvent
from codev.core.params import paginate
from codev.core.permissions import current_person, public, roles
from codev.core.storage import download
from codev.core.templating import nav_item
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db
from codev.projects import assisted, bp
from codev.projects.assisted_forms import FileAssociationForm, HandoverForm, ScanForm, StartOnBehalfForm
from codev.projects.reading import EVENT_LABELS
from codev.projects.services import get_project_or_404

MINISTRY = tuple(sorted(MINISTRY_ROLES))
HISTORY_MAX = 200

EVENT_LABELS.update({  # the project's own history names the steps of an application filed by staff
    "filed_by_staff": _l("Filed by the ministry on the association's behalf"),
    "signed_scan": _l("Scan of the signed application added"),
    "handed_over": _l("Handed over to the association"),
})

nav_item("projects.assisted_index", _l("Paper applications"), Role.OFFICER, order=32, group="admin")

# What each step of a staff-assisted application reads as in its history.
ACTION_LABELS = {
    "association.filed_by_staff": _l("Association filed by the ministry on its behalf"),
    "association.duplicates_found": _l("Possible duplicates found"),
    "association.verify": _l("Association verified"),
    "association.reject": _l("Association rejected"),
    "association.update": _l("Profile corrected"),
    "association.handover_sent": _l("Hand-over link emailed"),
    "association.handed_over": _l("Account taken by the association"),
    "association.not_duplicate": _l("Not a duplicate"),
    "project.created": _l("Project started"),
    "project.filed_by_staff": _l("Project filed on the association's behalf"),
    "project.signed_scan": _l("Scan of the signed application added"),
    "project.submitted": _l("Project submitted"),
    "project.submitted_on_behalf": _l("Submitted on the association's behalf"),
    "project.attachment_added": _l("Document added"),
    "project.attachment_deleted": _l("Document removed"),
    "project.handed_over": _l("Project handed over with the association"),
}
STEP_LABEL = _l("Step of the application saved")


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    if action.startswith("project.step."):
        return str(STEP_LABEL)
    return action


@bp.app_context_processor
def _assisted_marks() -> dict:
    """Templates of every step ask whether an association or a project was filed by staff (staff see the mark)."""
    return {"assisted_association": accounts_assisted.record_of, "assisted_project": assisted.record_of}


def _record_or_404(association_id: int) -> accounts_assisted.AssistedAssociation:
    record = accounts_assisted.record_of(association_id)
    if record is None:
        abort(404)
    return record


def _history(association_id: int, project_ids: list[int]) -> list[AuditEvent]:
    """Everything done on the association and its projects, oldest first (one bounded query)."""
    whose = [and_(AuditEvent.object_type == "associations", AuditEvent.object_id == association_id)]
    if project_ids:
        whose.append(and_(AuditEvent.object_type == "projects", AuditEvent.object_id.in_(project_ids)))
    return list(db.session.scalars(
        select(AuditEvent).where(or_(*whose)).order_by(AuditEvent.at, AuditEvent.id).limit(HISTORY_MAX)))


def _actors(events: list[AuditEvent]) -> dict[int, str]:
    from codev.accounts.models import User

    ids = {e.actor_id for e in events if e.actor_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def render_case(association_id: int, status: int = 200, **forms):
    """The file of an association filed by the ministry, with a refused form shown where it was typed."""
    record = _record_or_404(association_id)
    association = get_association_or_404(association_id, current_person())
    projects = assisted.projects_of(association.id)
    calls = accepting_calls()
    events = _history(association.id, [p.id for p, _mark in projects])
    acting = accounts_assisted.acts_for(current_person(), association.id)
    context = {
        "record": record, "association": association, "projects": projects, "acting": acting,
        "events": events, "actors": _actors(events), "action_label": action_label,
        "open_link": accounts_assisted.open_link(association.id),
        "start_form": forms.get("start_form") or StartOnBehalfForm(formdata=None, calls=calls),
        "scan_form": forms.get("scan_form") or ScanForm(formdata=None),
        "scan_project_id": forms.get("scan_project_id"),
        "handover_form": forms.get("handover_form")
        or HandoverForm(formdata=None, data={"email": association.contact_email}),
        "can_start": acting and association.status == AssociationStatus.VERIFIED and bool(calls),
    }
    return render_template("projects/assisted/case.html", **context), status


@bp.route("/assisted/")
@roles(Role.OFFICER)
def assisted_index():
    """Associations filed by the ministry on their behalf, newest first; which wait for their hand-over."""
    shown = request.args.get("show")
    shown = shown if shown in ("waiting", "handed_over") else None
    page = paginate(accounts_assisted.assisted_page(shown))
    return render_template("projects/assisted/index.html", page=page, shown=shown)


@bp.route("/assisted/new", methods=["GET", "POST"])
@roles(Role.OFFICER)
def assisted_new():
    """File a paper application: the association as on its paper file (its possible duplicates shown first)."""
    form = FileAssociationForm()
    candidates = []
    if form.validate_on_submit():
        candidates = accounts_assisted.candidates_for(form.profile_data())
        if candidates and not form.not_duplicate.data:
            form.not_duplicate.errors = [_("Open the associations above: if one of them is this association, file "
                                           "its project there; otherwise tick this box.")]
        else:
            with unit_of_work(form) as work:
                association = accounts_assisted.file_association(form.profile_data(), form.channel.data,
                                                                 current_person())
                work.success = _("%(name)s is filed on its behalf. Verify it, then start its project.",
                                 name=association.display_name)
            if work:
                return redirect(url_for("projects.assisted_case", association_id=association.id))
    status = 400 if request.method == "POST" else 200
    return render_template("projects/assisted/new.html", form=form, candidates=candidates), status


@bp.route("/assisted/<int:association_id>")
@roles(*MINISTRY)
def assisted_case(association_id: int):
    """The file of an association filed by the ministry: its steps, its projects, the hand-over, the history."""
    return render_case(association_id)


@bp.route("/assisted/<int:association_id>/projects", methods=["POST"])
@roles(Role.OFFICER)
def assisted_start(association_id: int):
    """Start the association's project on an open call, on its behalf."""
    _record_or_404(association_id)
    association = get_association_or_404(association_id, current_person())
    calls = accepting_calls()
    form = StartOnBehalfForm(calls=calls)
    if form.validate_on_submit():
        call = db.session.get(Call, int(form.call_id.data)) if form.call_id.data.isdigit() else None
        with unit_of_work(form) as work:
            project = assisted.start_on_behalf(association, call, form.title.data, current_person())
            work.success = _("The project is started. Type each step of the paper application; each is saved.")
        if work:
            return redirect(url_for("projects.general", project_id=project.id))
    return render_case(association_id, 400, start_form=form)


def _assisted_project_or_404(project_id: int):
    project = get_project_or_404(project_id, current_person())
    mark = assisted.record_of(project.id)
    if mark is None:
        abort(404)
    return project, mark


@bp.route("/assisted/projects/<int:project_id>/scan", methods=["POST"])
@roles(Role.OFFICER)
def assisted_scan(project_id: int):
    """Upload the scan of the application the association signed (replaces an earlier scan)."""
    project, _mark = _assisted_project_or_404(project_id)
    form = ScanForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            stored = assisted.attach_signed_scan(project, form.scan.data, current_person())
            work.success = _("“%(name)s” is kept as the signed application.", name=stored.display_name)
        if work:
            return redirect(url_for("projects.assisted_case", association_id=project.association_id,
                                    _anchor=f"project-{project.id}"))
    return render_case(project.association_id, 400, scan_form=form, scan_project_id=project.id)


@bp.route("/assisted/projects/<int:project_id>/scan/download")
@roles(Role.ASSOCIATION, *MINISTRY)
def assisted_scan_download(project_id: int):
    """Download the scan of the signed application (whoever may see the project)."""
    _project, mark = _assisted_project_or_404(project_id)
    if mark.signed_scan is None:
        abort(404)
    return download(mark.signed_scan)


@bp.route("/assisted/<int:association_id>/handover", methods=["POST"])
@roles(Role.OFFICER)
def assisted_handover(association_id: int):
    """Email (or email again) the single-use link with which the association's contact takes the account."""
    _record_or_404(association_id)
    association = get_association_or_404(association_id, current_person())
    form = HandoverForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            link = accounts_assisted.send_handover(association, current_person(), form.email.data)
            work.success = _("A link to take the account has been emailed to %(email)s.", email=link.email)
        if work:
            return redirect(url_for("projects.assisted_case", association_id=association_id, _anchor="handover"))
    return render_case(association_id, 400, handover_form=form)


@bp.route("/assisted/take-over/<token>", methods=["GET", "POST"])
@public
def assisted_take_over(token: str):
    """The emailed link: the association's contact chooses a password and takes the association's account."""
    link = accounts_assisted.find_link(token)
    problem = accounts_assisted.link_problem(link)
    if problem:
        return render_template("projects/assisted/link_invalid.html", message=problem), (
            404 if link is None else 410)
    if current_user.is_authenticated:
        message = _("You are signed in. Sign out first to take the account of an association.")
        return render_template("projects/assisted/link_invalid.html", message=message), 409
    association = link.assisted.association
    form = AcceptInvitationForm(invited_email=link.email, locale=association.locale,
                                full_name=association.contact_name)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            user = accounts_assisted.take_over(link, name=form.full_name.data, password=form.password.data,
                                               locale=form.locale.data)
        if not work:
            return render_template("projects/assisted/link_invalid.html", message=str(work.error)), 409
        session.clear()
        session.permanent = True
        login_user(user)
        session["lang"] = user.locale
        flash(_("Welcome! The account of %(name)s is yours now; the ministry no longer acts for it.",
                name=association.name), "success")
        return redirect(url_for("associations.detail", association_id=association.id))
    status = 400 if request.method == "POST" else 200
    return render_template("projects/assisted/take_over.html", form=form, link=link, association=association), status
