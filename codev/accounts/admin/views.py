"""Administration pages: users and roles, partner structures and their evaluators, the audit log.

Structures are managed by admins and read by officers and approvers (who assign evaluators).
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from codev.accounts.admin import bp, services
from codev.accounts.admin.forms import (
    StructureFilterForm,
    StructureForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from codev.accounts.models import PartnerStructure, Role, StructureKind, User
from codev.accounts.two_factor import services as two_factor
from codev.accounts.two_factor import step_up
from codev.accounts.two_factor.models import factor_of
from codev.core.confirm import Confirmation, ask, confirmed
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.mail import queue_mail
from codev.core.params import int_arg, paginate
from codev.core.permissions import access_rule, roles
from codev.core.templating import home_panel, nav_item
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db

STRUCTURE_READERS = (Role.ADMIN, Role.OFFICER, Role.APPROVER)

# Where the "associations awaiting verification" card links to: the first of these pages that the
# associations package registers and the reader may open.
PENDING_ASSOCIATIONS_PAGES = (
    ("associations.pending", {}),
    ("associations.directory", {"status": "pending"}),
)

nav_item("admin.users", _l("Users"), Role.ADMIN, order=80, group="admin")
nav_item("admin.structures", _l("Partner structures"), *STRUCTURE_READERS, order=85, group="admin")


def _actor() -> User:
    return current_user._get_current_object()


def _page(query):
    return paginate(query)


def _valid(field):
    """A filter's value when it passed validation, else None (a bad filter is ignored)."""
    return field.data if field.data and not field.errors else None


def _kind_labels() -> dict[str, str]:
    return {kind.value: kind.label for kind in StructureKind}


def _render(template: str, form, **context):
    return render_template(template, form=form, **context), 400 if form.errors else 200


# --- Users ---------------------------------------------------------------------------------------


@bp.route("/users")
@roles(Role.ADMIN)
def users():
    """Users with filters by role, status and name or email; how many there are of each role."""
    filters = UserFilterForm(request.args)
    filters.validate()
    query = services.users_query(
        role=_valid(filters.role), active=_valid(filters.active), text=_valid(filters.q)
    )
    return render_template(
        "admin/users.html", page=_page(query), filters=filters, counts=services.role_counts(),
        roles=list(Role),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def user_new():
    """Create an account; the person receives an email with a link to choose a password."""
    role = request.args.get("role") if request.args.get("role") in set(Role) else None
    form = UserCreateForm(role=role, partner_structure_id=int_arg("structure"))
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            user = services.create_account(_actor(), email=form.email.data, **form.user_data())
            work.success = _("The account of %(name)s is created; a link to choose a password was sent "
                             "to %(email)s.", name=user.name, email=user.email)
        if work:
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return _render("admin/user_form.html", form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles(Role.ADMIN)
def user_edit(user_id: int):
    """Edit a user's name, role, language, title, structure or association, and active flag."""
    user = db.get_or_404(User, user_id)
    form = UserEditForm(
        obj=user, structure_id=user.partner_structure_id, association_id=user.association_id
    )
    code_form = step_up.form()
    if form.validate_on_submit():
        # A change of role asks for the admin's second factor again (step-up), for each change.
        if str(form.role.data) != str(user.role) and (refused := step_up.refusal(_actor())):
            return render_template("admin/user_form.html", form=form, user=user, step_up=step_up.form(refused),
                                   factor=factor_of(user)), 400
        with unit_of_work(form) as work:
            changed = services.update_account(user, _actor(), **form.user_data())
            if changed:
                work.success = _("The changes to %(name)s's account are saved.", name=user.name)
            else:
                work.success, work.category = _("Nothing was changed."), "info"
        if work:
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return _render("admin/user_form.html", form, user=user, step_up=code_form, factor=factor_of(user))


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
@roles(Role.ADMIN)
def user_two_factor_reset(user_id: int):
    """Remove a person's second factor (a lost phone): they set it up again at their next sign-in."""
    user = db.get_or_404(User, user_id)
    back = url_for("admin.user_edit", user_id=user.id)
    if factor_of(user) is None:
        flash(_("This person has no second factor to reset."), "info")  # or the confirmation sent twice
        return redirect(back)
    if not confirmed():
        return ask(Confirmation(
            title=_("Reset the second factor of %(name)s", name=user.name),
            cannot_undo=_("The authenticator app and the recovery codes of this person stop working at once."),
            button=_("Yes, reset the second factor"), back=back,
            facts=[(_("Email"), user.email), (_("Role"), user.role_enum.label)],
            consequences=[_("The person is signed out everywhere and sets up a second factor again at their "
                            "next sign-in."), _("The person is told by email.")]))
    with unit_of_work(success=_("The second factor of %(name)s is reset.", name=user.name)):
        two_factor.reset(user, _actor())
        queue_mail(user.email, user.locale, "two_factor_changed", user=user, change="reset",
                   url=url_for("accounts.login", _external=True))
    return redirect(back)


@bp.route("/users/<int:user_id>/password-link", methods=["POST"])
@roles(Role.ADMIN)
def user_password_link(user_id: int):
    """Email the user a link to choose a new password."""
    user = db.get_or_404(User, user_id)
    with unit_of_work(success=_("A link to choose a new password was sent to %(email)s.", email=user.email)):
        services.send_password_link(user, _actor())
    return redirect(url_for("admin.user_edit", user_id=user.id))


# --- Partner structures --------------------------------------------------------------------------


@bp.route("/structures")
@roles(*STRUCTURE_READERS)
def structures():
    """Partner structures with their kind, regions, sectors and active evaluators."""
    filters = StructureFilterForm(request.args)
    filters.validate()
    page = _page(services.structures_query(kind=_valid(filters.kind), active=_valid(filters.active)))
    counts = services.active_evaluator_counts(structure.id for structure in page.items)
    return render_template(
        "admin/structures.html", page=page, filters=filters, counts=counts, kinds=_kind_labels()
    )


@bp.route("/structures/<int:structure_id>")
@roles(*STRUCTURE_READERS)
def structure_detail(structure_id: int):
    """One partner structure and its evaluators."""
    structure = db.get_or_404(PartnerStructure, structure_id)
    return render_template(
        "admin/structure_detail.html", structure=structure,
        evaluators=services.structure_evaluators(structure), kinds=_kind_labels(),
    )


@bp.route("/structures/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def structure_new():
    """Add a partner structure."""
    form = StructureForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            structure = services.create_structure(_actor(), **form.structure_data())
            work.success = _("The partner structure %(name)s is added.", name=structure.name)
        if work:
            return redirect(url_for("admin.structure_detail", structure_id=structure.id))
    return _render("admin/structure_form.html", form, structure=None)


@bp.route("/structures/<int:structure_id>/edit", methods=["GET", "POST"])
@roles(Role.ADMIN)
def structure_edit(structure_id: int):
    """Edit a partner structure's identity, regions, sectors and active flag."""
    structure = db.get_or_404(PartnerStructure, structure_id)
    form = StructureForm(data=services.structure_state(structure), structure_id=structure.id)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            changed = services.update_structure(structure, _actor(), **form.structure_data())
            if changed:
                work.success = _("The changes are saved.")
            else:
                work.success, work.category = _("Nothing was changed."), "info"
        if work:
            return redirect(url_for("admin.structure_detail", structure_id=structure.id))
    return _render("admin/structure_form.html", form, structure=structure)


# --- Audit log -----------------------------------------------------------------------------------


@bp.route("/audit")
@roles(Role.ADMIN)
def audit():
    """The audit log has one viewer, the oversight one (admins and officers); old links land there."""
    args = {"action": request.args.get("action", ""), "person": request.args.get("actor", "")}
    return redirect(url_for("oversight.audit", **{k: v[:254] for k, v in args.items() if v}))


# --- Home cards ----------------------------------------------------------------------------------


def _link_if_allowed(endpoint: str, **values) -> str | None:
    """The URL of ``endpoint`` when it exists and the current user may open it."""
    rule = access_rule(current_app, endpoint)
    if rule is None or (isinstance(rule, frozenset) and current_user.role not in rule):
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@home_panel(Role.ADMIN)
def users_panel():
    """Users by role, each count a link to the filtered list."""
    return "admin/_panel_users.html", {"counts": services.role_counts(), "roles": list(Role)}


@home_panel(Role.ADMIN)
def structures_panel():
    """Active partner structures."""
    return "admin/_panel_structures.html", {"active": services.active_structure_count()}


@home_panel(Role.ADMIN)
def associations_panel():
    """Associations waiting for an officer's verification."""
    links = (_link_if_allowed(endpoint, **values) for endpoint, values in PENDING_ASSOCIATIONS_PAGES)
    url = next((link for link in links if link), None)
    return "admin/_panel_associations.html", {"pending": services.pending_association_count(), "url": url}
