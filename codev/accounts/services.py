"""State changes of accounts: sign-in with throttling, sign-out, passwords, reset tokens, users.

Services check, mutate, write the audit event and flush; they never commit or read ``request``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from codev.accounts.models import Role, User
from codev.accounts.passwords import hash_password, verify_password
from codev.core import audit
from codev.core.models import LoginAttempt
from codev.core.timeutil import utcnow
from codev.extensions import db


class AccountError(Exception):
    """A refused account operation; ``str(error)`` is meant for the person."""


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def email_taken(email: str) -> bool:
    return find_user_by_email(email) is not None


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    throttled: bool = False


def is_throttled(email: str, ip: str | None) -> bool:
    """Too many recent failures for this email or from this address (counted in the database)."""
    config = current_app.config
    since = utcnow() - config["LOGIN_THROTTLE_WINDOW"]
    failures = select(func.count(LoginAttempt.id)).where(
        LoginAttempt.success.is_(False), LoginAttempt.at >= since
    )
    by_email = db.session.scalar(failures.where(LoginAttempt.email == normalize_email(email)))
    if by_email >= config["LOGIN_MAX_FAILURES_PER_EMAIL"]:
        return True
    if ip:
        by_ip = db.session.scalar(failures.where(LoginAttempt.ip == ip))
        if by_ip >= config["LOGIN_MAX_FAILURES_PER_IP"]:
            return True
    return False


def authenticate(email: str, password: str, ip: str | None) -> LoginResult:
    """Check credentials unless throttled; every attempt is recorded."""
    email = normalize_email(email)
    if is_throttled(email, ip):
        audit.record("login.throttled", after={"email": email})
        return LoginResult(None, throttled=True)
    user = find_user_by_email(email)
    ok = user is not None and user.active and verify_password(user.password_hash, password)
    db.session.add(LoginAttempt(email=email, ip=ip, success=ok))
    if not ok:
        audit.record("login.failed", user, after={"email": email})
        return LoginResult(None)
    user.last_login_at = utcnow()
    audit.record("login", user, actor=user)
    db.session.flush()
    return LoginResult(user)


def end_sessions(user: User) -> None:
    """Revoke every session cookie issued to ``user`` so far."""
    user.session_version = (user.session_version or 0) + 1


def logout(user: User) -> None:
    end_sessions(user)
    audit.record("logout", user, actor=user)


def set_password(user: User, password: str, *, action: str = "password.change") -> None:
    user.password_hash = hash_password(password)
    end_sessions(user)
    audit.record(action, user, actor=user)
    db.session.flush()


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
        raise AccountError("email_taken")
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
    audit.record("user.create", user, actor=actor, after={"email": email, "role": str(role)})
    return user


# Password reset tokens: signed, time-limited, and bound to the current password and session
# version, so a token stops working once used (the reset changes both).
def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="codev.password-reset")


def make_reset_token(user: User) -> str:
    return _reset_serializer().dumps(
        {"u": user.id, "v": user.session_version, "h": (user.password_hash or "")[-16:]}
    )


def user_for_reset_token(token: str) -> User | None:
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
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
