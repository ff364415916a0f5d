"""Association pages: sign-up, profile, statutes, invitations, verification, directory, home cards."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from codev.accounts import duplicates
from codev.accounts.associations import bp, confirmations, services
from codev.accounts.associations.forms import (
    AcceptInvitationForm,
    DirectoryFilterForm,
    InviteForm,
    ProfileForm,
    RejectForm,
    SignupForm,
    StatutesForm,
)
from codev.accounts.associations.services import get_association_or_404
from codev.accounts.models import MINISTRY_ROLES, Association, AssociationDomain, AssociationStatus, Invitation, Role
from codev.accounts.services import claim_signup
from codev.core import throttle
from codev.core.confirm import ask, confirmed
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.params import paginate
from codev.core.permissions import current_person, public, roles
from codev.core.storage import download
from codev.core.templating import home_panel, nav_item
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db

MINISTRY = tuple(sorted(MINISTRY_ROLES))  # officer, approver, admin
VIEWERS = (Role.ASSOCIATION, *MINISTRY)

nav_item("associations.mine", _l("My association"), Role.ASSOCIATION, order=20)
nav_item("associations.pending", _l("Associations to verify"), Role.OFFICER, order=30, group="admin")
nav_item("associations.directory", _l("Directory of associations"), *MINISTRY, order=35, group="admin")



def _sign_in(user) -> None:
    session.clear()
    session.permanent = True
    login_user(user)
    session["lang"] = user.locale


def _render_detail(association: Association, status: int = 200, **refused_forms):
    """The association page (already checked visible), with a refused form shown where it was typed."""
    user = current_person()
    forms = {
        "invite_form": InviteForm(formdata=None),
        "statutes_form": StatutesForm(formdata=None),
        "reject_form": RejectForm(formdata=None),
        **refused_forms,
    }
    return render_template(
        "associations/detail.html",
        association=association,
        invitations=services.open_invitations(association),
        is_member=services.is_member(user, association),
        can_edit=services.can_edit(user, association),
        can_manage=services.can_manage_members(user, association),
        can_decide=services.can_decide(user, association),
        candidates=_candidates(user, association),
        **forms,
    ), status


def _candidates(user, association: Association) -> list[duplicates.Candidate] | None:
    """The possible duplicates an officer decides on (None for everyone else, and once rejected)."""
    if user.role != Role.OFFICER or association.status == AssociationStatus.REJECTED:
        return None
    return duplicates.candidates(association)


@bp.route("/signup", methods=["GET", "POST"])
@public
def signup():
    """Register an association and its first member (who is signed in at once)."""
    if current_user.is_authenticated:
        flash(_("You are already signed in."), "info")
        return redirect(url_for("core.home"))
    form = SignupForm()
    if request.method == "POST" and not (claim := claim_signup(request.remote_addr)):
        # Counted before validation: the form says whether an email is taken.
        flash(throttle.wait_message(claim), "error")
        page = render_template("associations/signup.html", form=form, file_lost=bool(request.files.get("statutes")))
        return page, 429, throttle.retry_after_header(claim)
    if form.validate_on_submit():
        with unit_of_work(form) as work:  # a refused file or email is shown beside its field
            association, user = services.register_association(
                form.profile_data(), form.member_data(), form.statutes.data
            )
        if work:
            _sign_in(user)  # clears the session: the message comes after
            flash(_("Your association is registered. The ministry will verify it; you will receive an email."),
                  "success")
            return redirect(url_for("associations.detail", association_id=association.id))
    file_lost = bool(request.files.get("statutes"))  # browsers never send a file twice
    return render_template("associations/signup.html", form=form, file_lost=file_lost), (
        400 if request.method == "POST" else 200
    )


@bp.route("/mine")
@roles(Role.ASSOCIATION)
def mine():
    """The signed-in member's association."""
    return redirect(url_for("associations.detail", association_id=current_user.association_id))


@bp.route("/<int:association_id>")
@roles(*VIEWERS)
def detail(association_id: int):
    """The association's profile, status, statutes, members and invitations."""
    return _render_detail(get_association_or_404(association_id, current_person()))


@bp.route("/<int:association_id>/edit", methods=["GET", "POST"])
@roles(Role.ASSOCIATION, Role.OFFICER)
def edit(association_id: int):
    """Edit the profile (members; officers may correct it)."""
    association = get_association_or_404(association_id, current_person())
    if not services.can_edit(current_person(), association):
        abort(404)
    form = ProfileForm(data=services.profile_data(association))
    if form.validate_on_submit():
        with unit_of_work(form, success=_("The profile has been saved.")) as work:
            resubmitted = services.update_profile(association, form.profile_data(), current_person())
        if work:
            if resubmitted:
                flash(_("Your association has been resubmitted for verification."), "info")
            return redirect(url_for("associations.detail", association_id=association.id))
    status = 400 if request.method == "POST" else 200
    return render_template("associations/edit.html", form=form, association=association), status


@bp.route("/<int:association_id>/statutes", methods=["POST"])
@roles(Role.ASSOCIATION)
def statutes(association_id: int):
    """Upload (or replace) the association's statutes."""
    association = get_association_or_404(association_id, current_person())
    if not services.can_manage_members(current_person(), association):
        abort(404)
    form = StatutesForm()
    if form.validate_on_submit():
        with unit_of_work(form, success=_("The statutes have been saved.")) as work:
            resubmitted = services.replace_statutes(association, form.statutes.data, current_person())
        if work:
            if resubmitted:
                flash(_("Your association has been resubmitted for verification."), "info")
            return redirect(url_for("associations.detail", association_id=association.id))
    return _render_detail(association, 400, statutes_form=form)


@bp.route("/<int:association_id>/statutes/download")
@roles(*VIEWERS)
def statutes_download(association_id: int):
    """Download the statutes (members of the association and the ministry)."""
    association = get_association_or_404(association_id, current_person())
    if association.statutes is None:
        abort(404)
    return download(association.statutes)


@bp.route("/<int:association_id>/invitations", methods=["POST"])
@roles(Role.ASSOCIATION)
def invite(association_id: int):
    """Invite a further member by email."""
    association = get_association_or_404(association_id, current_person())
    if not services.can_manage_members(current_person(), association):
        abort(404)
    form = InviteForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            invitation = services.invite_member(association, current_person(), form.email.data)
            work.success = _("An invitation has been sent to %(email)s.", email=invitation.email)
        if work:
            return redirect(url_for("associations.detail", association_id=association.id))
    return _render_detail(association, 400, invite_form=form)


@bp.route("/<int:association_id>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@roles(Role.ASSOCIATION)
def revoke_invitation(association_id: int, invitation_id: int):
    """Withdraw an invitation that has not been answered."""
    association = get_association_or_404(association_id, current_person())
    invitation = db.session.get(Invitation, invitation_id)
    if (not services.can_manage_members(current_person(), association) or invitation is None
            or invitation.association_id != association.id):
        abort(404)
    with unit_of_work(success=_("The invitation to %(email)s has been withdrawn.", email=invitation.email)):
        services.revoke_invitation(invitation, current_person())
    return redirect(url_for("associations.detail", association_id=association.id))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    """Join an association from an emailed invitation: name, password, language."""
    invitation = services.find_invitation(token)
    problem = services.invitation_problem(invitation)
    if problem:
        return render_template("associations/invitation_invalid.html", message=problem), (
            404 if invitation is None else 410
        )
    if current_user.is_authenticated:
        message = _("You are signed in. Sign out first to accept an invitation for another account.")
        return render_template("associations/invitation_invalid.html", message=message), 409
    form = AcceptInvitationForm(invited_email=invitation.email, locale=invitation.association.locale)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            user = services.accept_invitation(
                invitation, name=form.full_name.data, password=form.password.data, locale=form.locale.data
            )
        if not work:  # used or withdrawn meanwhile, or the email taken
            return render_template("associations/invitation_invalid.html", message=str(work.error)), 409
        _sign_in(user)  # clears the session: the message comes after
        flash(_("Welcome! You are now a member of %(name)s.", name=invitation.association.name), "success")
        return redirect(url_for("associations.detail", association_id=invitation.association_id))
    status = 400 if request.method == "POST" else 200
    return render_template("associations/accept_invitation.html", form=form, invitation=invitation), status


@bp.route("/<int:association_id>/verify", methods=["POST"])
@roles(Role.OFFICER)
def verify(association_id: int):
    """Verify an association awaiting verification."""
    association = get_association_or_404(association_id, current_person())
    with unit_of_work(success=_("The association is verified; its members have been told.")):
        services.verify_association(association, current_person())
    return redirect(url_for("associations.detail", association_id=association_id))


@bp.route("/<int:association_id>/reject", methods=["POST"])
@roles(Role.OFFICER)
def reject(association_id: int):
    """Reject an association awaiting verification, with a reason for its members."""
    association = get_association_or_404(association_id, current_person())
    form = RejectForm()
    if not form.validate_on_submit():
        return _render_detail(association, 400, reject_form=form)
    if not confirmed() and association.status == AssociationStatus.PENDING:
        return ask(confirmations.reject(association, form.reason.data))
    with unit_of_work(success=_("The association is rejected; its members have been told why.")):
        services.reject_association(association, current_person(), form.reason.data)
    return redirect(url_for("associations.detail", association_id=association_id))


def _pair_or_404(association_id: int, other_id: int) -> tuple[Association, Association]:
    association = get_association_or_404(association_id, current_person())
    other = db.session.get(Association, other_id)
    if other is None or other.id == association.id:
        abort(404)
    return association, other


@bp.route("/<int:association_id>/duplicates/<int:other_id>/not-duplicate", methods=["POST"])
@roles(Role.OFFICER)
def not_duplicate(association_id: int, other_id: int):
    """Record that a possible duplicate is another association: the pair is no longer shown."""
    association, other = _pair_or_404(association_id, other_id)
    with unit_of_work(success=_("Recorded: %(other)s is not a duplicate of %(name)s.",
                                other=other.display_name, name=association.display_name)):
        duplicates.mark_not_duplicate(association, other, current_person())
    return redirect(url_for("associations.detail", association_id=association.id, _anchor="duplicates"))


@bp.route("/<int:association_id>/duplicates/<int:other_id>/merge", methods=["POST"])
@roles(Role.OFFICER)
def merge(association_id: int, other_id: int):
    """Close the association as a duplicate of the other, its members and drafts moved there (asks first)."""
    duplicate, kept = _pair_or_404(association_id, other_id)
    problems = duplicates.merge_problems(duplicate, kept)
    if not confirmed() and not problems and duplicates.decision_on(duplicate.id, kept.id) is None:
        return ask(confirmations.merge(duplicate, kept, duplicates.merge_facts(duplicate)))
    with unit_of_work(success=_("%(duplicate)s is merged into %(kept)s: its members and drafts are there now.",
                                duplicate=duplicate.display_name, kept=kept.display_name)) as work:
        duplicates.merge_associations(duplicate, kept, current_person())
    target = kept if work else duplicate
    return redirect(url_for("associations.detail", association_id=target.id))


@bp.route("/pending")
@roles(Role.OFFICER)
def pending():
    """Associations awaiting verification, oldest first."""
    query = (
        select(Association)
        .where(Association.status == AssociationStatus.PENDING)
        .order_by(Association.created_at, Association.id)
    )
    page = paginate(query)
    flagged = duplicates.flagged([a.id for a in page.items])
    return render_template("associations/pending.html", page=page, flagged=flagged)


@bp.route("/directory")
@roles(*MINISTRY)
def directory():
    """The directory of associations with filters (verified ones; officers may see every status)."""
    form = DirectoryFilterForm(formdata=request.args)
    form.validate()
    query = select(Association)
    if not (form.all_statuses.data and current_user.role == Role.OFFICER):
        query = query.where(Association.status == AssociationStatus.VERIFIED)
    if form.country.data:
        query = query.where(Association.country == form.country.data)
    if form.embassy.data:
        query = query.where(Association.embassy == form.embassy.data)
    if form.domain.data:
        query = query.where(Association.domains.any(AssociationDomain.sector == form.domain.data))
    if form.q.data and not form.q.errors:
        q = form.q.data
        query = query.where(or_(Association.name.icontains(q, autoescape=True),
                                Association.acronym.icontains(q, autoescape=True),
                                Association.city.icontains(q, autoescape=True)))
    page = paginate(query.order_by(Association.name, Association.id).options(selectinload(Association.domains)))
    return render_template("associations/directory.html", form=form, page=page)


@home_panel(Role.OFFICER)
def officer_panel():
    """How many associations wait for verification."""
    return "associations/_panel_officer.html", {"count": services.count_pending()}


@home_panel(Role.ASSOCIATION)
def member_panel():
    """The member's association: its status and the next step."""
    association = current_user.association
    if association is None:
        return None
    return "associations/_panel_member.html", {"association": association}
