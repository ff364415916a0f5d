"""Sign-in, sign-out, password reset and change, personal profile, language switch."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from codev.accounts import bp, services
from codev.accounts.forms import ChangePasswordForm, LoginForm, ProfileForm, ResetForm, ResetRequestForm
from codev.accounts.models import User
from codev.accounts.passwords import verify_password
from codev.accounts.two_factor import signin
from codev.accounts.two_factor.models import has_two_factor
from codev.core import audit, throttle
from codev.core.i18n import gettext as _
from codev.core.i18n import ngettext
from codev.core.mail import queue_mail
from codev.core.permissions import public, signed_in
from codev.core.unit_of_work import unit_of_work
from codev.core.urls import safe_next
from codev.extensions import db, login_manager


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the user of a session cookie, only if its session version is still current."""
    ident, _sep, version = user_id.partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Sign in with email and password (throttled after repeated failures)."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        with unit_of_work(form) as work:  # the attempt is recorded whatever its outcome
            result = services.authenticate(form.email.data, form.password.data, request.remote_addr)
        if not work:
            return render_template("accounts/login.html", form=form), 400
        if result.throttled is not None:
            minutes = result.throttled.minutes
            form.password.errors.append(ngettext(
                "Too many failed attempts. Wait %(num)d minute or reset your password.",
                "Too many failed attempts. Wait %(num)d minutes or reset your password.", minutes,
            ))
            headers = throttle.retry_after_header(result.throttled)
            return render_template("accounts/login.html", form=form), 429, headers
        if result.user is None:
            form.password.errors.append(_("Wrong email or password."))
            return render_template("accounts/login.html", form=form), 200
        if has_two_factor(result.user):  # the password was right: the code of the second factor next
            return signin.start(result.user, form.next.data)
        return signin.finish(result.user, form.next.data)
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    """Sign out everywhere this session's cookie was copied to."""
    with unit_of_work() as work:
        services.logout(current_user._get_current_object())
    if not work:
        return redirect(url_for("core.home"))
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")  # after the session is cleared, which would drop it
    return redirect(url_for("accounts.login"))


@bp.route("/reset", methods=["GET", "POST"])
@public
def reset_request():
    """Ask for a password reset link by email (never says whether the email exists; throttled)."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        claim = services.claim_reset_request(form.email.data, request.remote_addr)
        if not claim:
            form.email.errors.append(throttle.wait_message(claim))
            return render_template("accounts/reset_request.html", form=form), 429, throttle.retry_after_header(claim)
        sent = _("If an account uses this address, a reset link has been sent to it.")
        with unit_of_work(form, success=sent, category="info") as work:
            user = services.find_user_by_email(form.email.data)
            if user is not None and user.active:
                token = services.make_reset_token(user)
                queue_mail(
                    user.email, user.locale, "password_reset", user=user,
                    url=url_for("accounts.reset", token=token, _external=True),
                    hours=current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600,
                )
                audit.record("password.reset_request", user, actor=user)
        if work:
            return redirect(url_for("accounts.login"))
        return render_template("accounts/reset_request.html", form=form), 400
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset(token: str):
    """Choose a new password from an emailed link (the link works once)."""
    user = services.user_for_reset_token(token)
    if user is None:
        flash(_("This reset link is invalid or has expired. Ask for a new one."), "error")
        return redirect(url_for("accounts.reset_request"))
    form = ResetForm()
    if form.validate_on_submit():
        with unit_of_work(form, success=_("Your password has been changed. You can sign in.")) as work:
            services.set_password(user, form.password.data, action="password.reset")
        if work:
            return redirect(url_for("accounts.login"))
        return render_template("accounts/reset.html", form=form), 400
    return render_template("accounts/reset.html", form=form)


@bp.route("/profile", methods=["GET", "POST"])
@signed_in
def profile():
    """The signed-in person's name and language."""
    user = current_user._get_current_object()
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        with unit_of_work(form, success=_("Your profile has been saved.")) as work:
            user.name = form.name.data
            services.set_locale(user, form.locale.data)
            audit.record("user.profile", user)
        if work:
            session["lang"] = user.locale
            return redirect(url_for("accounts.profile"))
        return render_template("accounts/profile.html", form=form, password_form=ChangePasswordForm()), 400
    return render_template("accounts/profile.html", form=form, password_form=ChangePasswordForm())


@bp.route("/password", methods=["POST"])
@signed_in
def change_password():
    """Change one's password; every other session ends."""
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    form.email = None
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            changed = _("Your password has been changed; your other sessions are closed.")
            with unit_of_work(form, success=changed) as work:
                services.set_password(user, form.password.data)
            if work:
                login_user(user)  # this session continues with the new version
                return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=ProfileForm(obj=user), password_form=form), 400


@bp.route("/language", methods=["POST"])
@public
def language():
    """Switch language; remembered on the account when signed in."""
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            with unit_of_work():
                services.set_locale(current_user._get_current_object(), lang)
    return redirect(safe_next(request.form.get("next")) or url_for("core.home"))
