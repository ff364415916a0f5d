"""State changes of accounts: sign-in with throttling, sign-out, passwords, reset tokens, users.

Services check, mutate, write the audit event and flush; they never commit or read ``request``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_request_context, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select

from codev.accounts.models import Role, User
from codev.accounts.passwords import hash_password, verify_password
from codev.core import audit, throttle
from codev.core.i18n import gettext as _
from codev.core.mail import queue_mail
from codev.core.models import LoginAttempt
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db


class AccountError(DomainError):
    """A refused account operation; ``str(error)`` is meant for the person."""


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def email_taken(email: str) -> bool:
    return find_user_by_email(email) is not None


# Limits, each with its own settings (codev/config.py); see codev.core.throttle.
LOGIN_BY_EMAIL = throttle.Rule("login.email", "LOGIN_MAX_FAILURES_PER_EMAIL", "LOGIN_THROTTLE_WINDOW")
LOGIN_BY_IP = throttle.Rule("login.ip", "LOGIN_MAX_FAILURES_PER_IP", "LOGIN_THROTTLE_WINDOW")
RESET_BY_EMAIL = throttle.Rule("reset.email", "PASSWORD_RESET_MAX_PER_EMAIL", "PASSWORD_RESET_THROTTLE_WINDOW")
RESET_BY_IP = throttle.Rule("reset.ip", "PASSWORD_RESET_MAX_PER_IP", "PASSWORD_RESET_THROTTLE_WINDOW")
SIGNUP_BY_IP = throttle.Rule("signup.ip", "SIGNUP_MAX_PER_IP", "SIGNUP_THROTTLE_WINDOW")


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    throttled: throttle.Claim | None = None  # the refused claim, when too many failures


def authenticate(email: str, password: str, ip: str | None) -> LoginResult:
    """Check credentials if a slot is free for this email and address; each checked attempt is recorded.

    The slot is taken before the password is checked (so parallel attempts cannot all pass a check
    made before any of them counted) and given back on success: the limits count failures.
    """
    email = normalize_email(email)
    claim = throttle.claim((LOGIN_BY_EMAIL, email), (LOGIN_BY_IP, throttle.address(ip)))
    if not claim:
        audit.record("login.throttled", after={"email": email})
        return LoginResult(None, throttled=claim)
    user = find_user_by_email(email)
    usable = user is not None and user.active
    # Unknown and inactive accounts are checked against a dummy hash: the same time as a real one.
    ok = verify_password(user.password_hash if usable else None, password) and usable
    db.session.add(LoginAttempt(email=email, ip=ip, success=ok))
    if not ok:
        audit.record("login.failed", user, after={"email": email})
        return LoginResult(None)
    claim.release()
    user.last_login_at = utcnow()
    audit.record("login", user, actor=user)
    db.session.flush()
    return LoginResult(user)


def claim_reset_request(email: str, ip: str | None) -> throttle.Claim:
    """A slot to send a reset link for ``email`` from ``ip`` (counted whether the account exists or not)."""
    return throttle.claim((RESET_BY_EMAIL, normalize_email(email)), (RESET_BY_IP, throttle.address(ip)))


def claim_signup(ip: str | None) -> throttle.Claim:
    """A slot to send the association sign-up form from ``ip``."""
    return throttle.claim((SIGNUP_BY_IP, throttle.address(ip)))


def prune_login_attempts(keep_days: int) -> int:
    """Delete sign-in log rows older than ``keep_days``; how many (the caller commits)."""
    since = utcnow() - timedelta(days=keep_days)
    return db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < since)).rowcount


def end_sessions(user: User) -> None:
    """Revoke every session cookie issued to ``user`` so far."""
    user.session_version = (user.session_version or 0) + 1


def logout(user: User) -> None:
    end_sessions(user)
    audit.record("logout", user, actor=user)


def set_password(user: User, password: str, *, action: str = "password.change") -> None:
    """A new password; every session ends, and the person is told by email (a security email, always sent)."""
    user.password_hash = hash_password(password)
    end_sessions(user)
    audit.record(action, user, actor=user)
    queue_mail(user.email, user.locale, "password_changed", user=user, at=utcnow(),
               url=_external_url("accounts.reset_request"))
    db.session.flush()


def _external_url(endpoint: str) -> str:
    """The full address of ``endpoint``, also outside a request (the public base URL)."""
    if has_request_context():
        return url_for(endpoint, _external=True)
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        return url_for(endpoint, _external=True)


def create_user(
    *,
    email: str,
    name: str,
    role: Role | str,
    password: str | None = None,
    locale: str = "fr",
    association_id: int | None = None,
    partner_structure_id: int | None = None,
    title: str | None = None,
    actor: User | None = None,
) -> User:
    """Add a user; refuses a duplicate email whatever its case."""
    email = normalize_email(email)
    if email_taken(email):
        raise AccountError(_("An account already uses this email address."))
    user = User(
        email=email,
        name=name.strip(),
        role=str(role),
        locale=locale,
        association_id=association_id,
        partner_structure_id=partner_structure_id,
        title=title,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user, actor=actor, after=user_state(user))
    return user


def user_state(user: User) -> dict:
    """The audited fields of a user (never the password hash)."""
    return {
        "email": user.email, "name": user.name, "role": str(user.role), "locale": user.locale,
        "title": user.title, "association_id": user.association_id,
        "partner_structure_id": user.partner_structure_id, "active": user.active,
    }


# Password reset tokens: signed, time-limited, and bound to the current password and session
# version, so a token stops working once used (the reset changes both).
def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="codev.password-reset")


TOKEN_AGES = {"reset": "PASSWORD_RESET_MAX_AGE", "setup": "ACCOUNT_SETUP_MAX_AGE"}


def token_max_age(purpose: str) -> int:
    """Seconds a password link of ``purpose`` stays valid ("reset" or "setup" of a new account)."""
    return int(current_app.config[TOKEN_AGES[purpose]])


def make_reset_token(user: User, purpose: str = "reset") -> str:
    """A link token to choose a password: "reset" (short-lived) or "setup" of a new account."""
    assert purpose in TOKEN_AGES
    return _reset_serializer().dumps(
        {"u": user.id, "v": user.session_version, "h": (user.password_hash or "")[-16:], "p": purpose}
    )


def user_for_reset_token(token: str) -> User | None:
    longest = max(token_max_age(p) for p in TOKEN_AGES)
    try:
        data, signed_at = _reset_serializer().loads(token, max_age=longest, return_timestamp=True)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or data.get("p", "reset") not in TOKEN_AGES:
        return None
    if (utcnow() - signed_at).total_seconds() > token_max_age(data.get("p", "reset")):
        return None
    user = db.session.get(User, data.get("u"))
    if user is None or not user.active:
        return None
    if user.session_version != data.get("v") or (user.password_hash or "")[-16:] != data.get("h"):
        return None
    return user


def set_locale(user: User, locale: str) -> None:
    if locale in current_app.config["LANGUAGES"] and user.locale != locale:
        user.locale = locale
