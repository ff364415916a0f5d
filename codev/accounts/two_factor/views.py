"""Pages of two-factor sign-in: the sign-in's second step, enrolment by QR code, the recovery codes, turning
it off; and the rule that a person whose role requires a second factor reaches nothing but enrolment
until they have one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user

from codev.accounts import bp
from codev.accounts.models import User
from codev.accounts.two_factor import services, signin
from codev.accounts.two_factor.forms import CodeForm, EnrolForm
from codev.accounts.two_factor.models import factor_of, has_two_factor, requires_two_factor
from codev.core import audit, throttle
from codev.core.i18n import gettext as _
from codev.core.i18n import ngettext
from codev.core.mail import queue_mail
from codev.core.permissions import public, signed_in
from codev.core.unit_of_work import unit_of_work

# All a person whose role requires a second factor may reach before enrolling (besides static files): not
# even the public pages, whose home shows a signed-in person's work.
BEFORE_ENROLMENT = frozenset({"accounts.two_factor_enrol", "accounts.logout", "accounts.language",
                              "accounts.login", "accounts.login_code"})


@bp.before_app_request
def confine_until_enrolled():
    """An approver or admin without a second factor is sent to enrolment from every other page."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in BEFORE_ENROLMENT or not current_user.is_authenticated:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return None
    user = current_user._get_current_object()
    if requires_two_factor(user) and not has_two_factor(user):
        return redirect(url_for("accounts.two_factor_enrol"))
    return None


@bp.app_template_global("two_factor_on")
def two_factor_on(user) -> bool:
    """Whether ``user`` has an enabled second factor (for the profile and admin pages)."""
    return has_two_factor(user)


@bp.app_template_global("two_factor_required")
def two_factor_required(user) -> bool:
    """Whether ``user``'s role may not go without a second factor."""
    return requires_two_factor(user)


def _me() -> User:
    return current_user._get_current_object()


def _tell(user: User, change: str) -> None:
    """The security email of a change of the second factor (always sent)."""
    queue_mail(user.email, user.locale, "two_factor_changed", user=user, change=change,
               url=url_for("accounts.two_factor", _external=True))


def _overview(user: User, form: CodeForm, status: int = 200):
    return render_template("accounts/two_factor.html", factor=factor_of(user), form=form,
                           left=services.recovery_codes_left(user), required=requires_two_factor(user)), status


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code():
    """The sign-in's second step: the code of the authenticator app, or a recovery code (throttled)."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    user = signin.pending_user()
    if user is None:
        session.pop(signin.PENDING, None)
        flash(_("Sign in again: the code was not typed in time."), "info")
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    if form.validate_on_submit():
        with unit_of_work() as work:  # a refused code's audit event is kept too
            check = services.check_code(user, form.code.data, request.remote_addr)
            if check.ok:
                audit.record("login.second_factor", user, actor=user, after={"recovery": check.recovery})
                if check.recovery:
                    _tell(user, "recovery_used")
        if work and check.ok:
            answer = signin.finish(user, signin.pending_next())  # a fresh session: the flash goes after it
            if check.recovery:
                left = services.recovery_codes_left(user)
                flash(ngettext(
                    "You signed in with a recovery code; %(num)d is left. If your phone is lost, make new codes "
                    "or ask an administrator to reset your second factor.",
                    "You signed in with a recovery code; %(num)d are left. If your phone is lost, make new codes "
                    "or ask an administrator to reset your second factor.", left), "info")
            return answer
        form.code.errors = [*form.code.errors, check.problem or _("This code is wrong.")]
        if check.throttled is not None:
            return render_template("accounts/login_code.html", form=form), 429, throttle.retry_after_header(
                check.throttled)
        return render_template("accounts/login_code.html", form=form), 400
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login_code.html", form=form), status


@bp.route("/two-factor")
@signed_in
def two_factor():
    """Whether two-factor sign-in is on, how many recovery codes are left; new codes, turning it off."""
    return _overview(_me(), CodeForm(formdata=None))


@bp.route("/two-factor/enrol", methods=["GET", "POST"])
@signed_in
def two_factor_enrol():
    """Enrol a phone: a QR code (and the secret as text), then a first code; the recovery codes shown once."""
    user = _me()
    if has_two_factor(user):
        return redirect(url_for("accounts.two_factor"))
    with unit_of_work():
        secret = services.pending_secret(user)
    form = EnrolForm()
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        codes: list[str] = []
        with unit_of_work() as work:
            check = services.check_code(user, form.code.data, request.remote_addr, secret=secret, recovery=False)
            if check.ok:
                codes = services.enable(user)
                _tell(user, "enabled")
                user.session_version = (user.session_version or 0) + 1  # sessions opened without it end
        if work and check.ok:
            login_user(user)  # this session goes on with the new version
            flash(_("Two-factor sign-in is on."), "success")
            return render_template("accounts/recovery_codes.html", codes=codes, first=True)
        form.code.errors = [*form.code.errors, check.problem or _("This code is wrong.")]
        status = 429 if check.throttled is not None else 400
    uri = services.provisioning_uri(user, secret)
    return render_template("accounts/two_factor_enrol.html", form=form, qr=services.qr_svg(uri),
                           secret=services.grouped(secret), required=requires_two_factor(user)), status


def _code_refused(user: User, form: CodeForm) -> bool:
    """Check the code that confirms a change of the second factor; False when it is good."""
    if not form.validate_on_submit():
        return True
    with unit_of_work():
        check = services.check_code(user, form.code.data, request.remote_addr)
    if not check.ok:
        form.code.errors = [*form.code.errors, check.problem or _("This code is wrong.")]
    return not check.ok


@bp.route("/two-factor/recovery-codes", methods=["POST"])
@signed_in
def two_factor_recovery():
    """Make ten new recovery codes (the old ones stop working), confirmed by a code."""
    user = _me()
    form = CodeForm()
    if not has_two_factor(user):
        return redirect(url_for("accounts.two_factor_enrol"))
    if _code_refused(user, form):
        return _overview(user, form, 400)
    with unit_of_work() as work:
        codes = services.renew_recovery_codes(user)
        _tell(user, "recovery_renewed")
    if not work:
        return redirect(url_for("accounts.two_factor"))
    return render_template("accounts/recovery_codes.html", codes=codes, first=False)


@bp.route("/two-factor/disable", methods=["POST"])
@signed_in
def two_factor_disable():
    """Turn two-factor sign-in off, confirmed by a code (not for a role that requires it)."""
    user = _me()
    form = CodeForm()
    if requires_two_factor(user) or not has_two_factor(user):
        flash(_("Your role requires two-factor sign-in: it cannot be turned off.") if requires_two_factor(user)
              else _("Two-factor sign-in is not set up for this account."), "error")
        return redirect(url_for("accounts.two_factor"))
    if _code_refused(user, form):
        return _overview(user, form, 400)
    with unit_of_work(success=_("Two-factor sign-in is off.")):
        services.disable(user)
        _tell(user, "disabled")
    return redirect(url_for("accounts.two_factor"))
