"""Two-factor sign-in: TOTP secrets (encrypted at rest), codes that work once, recovery codes, resets.

A code from the authenticator app is accepted for the current 30-second step and the one on either side
(a phone's clock drifts), and only for a step later than the last one accepted for that person: the
step is written by one guarded ``UPDATE … WHERE last_step < :step`` whose row count is the answer, in a
short transaction of its own (like the throttle's counters), so a code seen over a shoulder, or sent twice
at once, works once whatever the request does next. Every check is throttled per person and per address
like passwords (a code that works gives its slot back). Recovery codes are werkzeug hashes, each usable
once (one guarded ``UPDATE … WHERE used_at IS NULL``).

Services check, change, audit and flush; they never commit, except those guarded updates.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from codev.accounts.models import User
from codev.accounts.two_factor.models import RecoveryCode, SecondFactor, factor_of, requires_two_factor
from codev.core import audit, throttle
from codev.core.i18n import gettext as _
from codev.core.i18n import ngettext
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied by hand
RECOVERY_LENGTH = 12  # 12 symbols of 31: about 59 bits

BY_USER = throttle.Rule("totp.user", "TOTP_MAX_FAILURES_PER_USER", "TOTP_THROTTLE_WINDOW")
BY_IP = throttle.Rule("totp.ip", "TOTP_MAX_FAILURES_PER_IP", "TOTP_THROTTLE_WINDOW")


class TwoFactorError(DomainError):
    """A refused second-factor operation; ``str(error)`` is meant for the person."""


# --- the secret, encrypted at rest ---------------------------------------------------------------------


def _fernet() -> Fernet:
    key = current_app.config.get("TOTP_ENCRYPTION_KEY") or current_app.config["SECRET_KEY"]
    digest = hashlib.sha256(b"codev.totp-secret:" + str(key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str | None) -> str | None:
    """The secret in clear, or None (none, or the encryption key changed)."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def enrol_with(user: User, secret: str) -> SecondFactor:
    """Give ``user`` an enabled second factor with a known ``secret`` (the demo accounts, tests)."""
    factor = factor_of(user) or SecondFactor(user_id=user.id)
    factor.secret = encrypt_secret(secret)
    factor.enabled_at = utcnow()
    factor.last_step = None
    db.session.add(factor)
    db.session.flush()
    return factor


def pending_secret(user: User) -> str:
    """The secret of an enrolment under way, made (and flushed) at its first showing; refused once enabled."""
    factor = factor_of(user)
    if factor is not None and factor.enabled:
        raise TwoFactorError(_("Two-factor sign-in is already on for this account."))
    secret = decrypt_secret(factor.secret) if factor is not None else None
    if secret is None:
        secret = pyotp.random_base32()
        if factor is None:
            factor = SecondFactor(user_id=user.id)
            db.session.add(factor)
        factor.secret = encrypt_secret(secret)
        factor.last_step = None
        db.session.flush()
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["TOTP_ISSUER"])


def qr_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG markup (drawn on the server: no script, no image request)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff",
                                                 svgclass="qr-code", omitsize=False)


def grouped(secret: str) -> str:
    """The secret in groups of four letters, to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


# --- checking a code ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """The outcome of :func:`check_code`: ``ok``, else ``problem`` in words (``throttled`` when too many)."""

    ok: bool
    problem: str | None = None
    recovery: bool = False  # a recovery code was used
    throttled: throttle.Claim | None = None


def _compact(code: str | None) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace() and ch != "-")


def matching_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    """The time step (of now and the one on either side) whose code is ``code``, or None."""
    code = _compact(code)
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now or utcnow())
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(user: User, step: int) -> bool:
    """Record ``step`` as used, only if it is later than the last one used: False for a replay."""
    table = SecondFactor.__table__

    def write(connection) -> bool:
        result = connection.execute(
            update(table).where(table.c.user_id == user.id,
                                or_(table.c.last_step.is_(None), table.c.last_step < step))
            .values(last_step=step))
        return result.rowcount == 1

    fresh = throttle.in_own_transaction(write)
    factor = factor_of(user)
    if factor is not None:
        db.session.expire(factor, ["last_step"])
    return fresh


def normalize_recovery(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch in RECOVERY_ALPHABET)


def _use_recovery(user: User, code: str) -> bool:
    """Spend one unused recovery code equal to ``code``; False when none matches (or it was just spent)."""
    typed = normalize_recovery(code)
    if len(typed) != RECOVERY_LENGTH or len(_compact(code)) != RECOVERY_LENGTH:
        return False
    unused = db.session.scalars(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)).order_by(RecoveryCode.id)).all()
    table = RecoveryCode.__table__
    for stored in unused:
        if check_password_hash(stored.code_hash, typed):
            spent = throttle.in_own_transaction(lambda connection, row=stored.id: connection.execute(
                update(table).where(table.c.id == row, table.c.used_at.is_(None)).values(used_at=utcnow())
            ).rowcount == 1)
            db.session.expire(stored, ["used_at"])
            return spent
    return False


def check_code(user: User, code: str, ip: str | None, *, secret: str | None = None,
               recovery: bool = True) -> Check:
    """Check a code of ``user`` (their app's, or a recovery code when ``recovery``), throttled; a good code is
    spent. ``secret`` is the one of an enrolment under way (else the enabled one)."""
    claim = throttle.claim((BY_USER, str(user.id)), (BY_IP, throttle.address(ip)))
    if not claim:
        audit.record("two_factor.throttled", user, actor=user)
        return Check(False, wait_message(claim), throttled=claim)
    factor = factor_of(user)
    enabled = factor is not None and factor.enabled
    secret = secret or (decrypt_secret(factor.secret) if enabled else None)
    if secret is None or factor is None:
        return Check(False, _("Two-factor sign-in is not set up for this account."))
    step = matching_step(secret, code)
    if step is not None:
        if _use_step(user, step):
            claim.release()
            return Check(True)
        audit.record("two_factor.replayed", user, actor=user)
        return Check(False, _("This code has already been used. Wait for the next code on your phone (a "
                              "new one every 30 seconds)."))
    if recovery and enabled and _use_recovery(user, code):
        claim.release()
        audit.record("two_factor.recovery_used", user, actor=user, after={"left": recovery_codes_left(user)})
        return Check(True, recovery=True)
    audit.record("two_factor.failed", user, actor=user)
    if recovery and enabled:
        return Check(False, _("This code is wrong. Type the 6 digits your app shows now, or one of your "
                              "recovery codes."))
    return Check(False, _("This code is wrong. Type the 6 digits your app shows now."))


def wait_message(claim: throttle.Claim) -> str:
    return ngettext("Too many wrong codes. Wait %(num)d minute before trying again.",
                    "Too many wrong codes. Wait %(num)d minutes before trying again.", claim.minutes)


# --- enrolment, recovery codes, turning off, reset ------------------------------------------------------


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh codes in place of the old ones; shown once (only their hashes are kept)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    method = current_app.config["RECOVERY_CODE_HASH_METHOD"]
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _i in range(RECOVERY_LENGTH))
             for _n in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=generate_password_hash(code, method=method)))
    db.session.flush()
    return [shown(code) for code in codes]


def shown(code: str) -> str:
    """A recovery code as shown: three groups of four."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def enable(user: User) -> list[str]:
    """Turn the second factor on once a first code of the pending secret was accepted; the recovery codes."""
    factor = factor_of(user)
    if factor is None or factor.enabled:
        raise TwoFactorError(_("There is no enrolment under way for this account."))
    factor.enabled_at = utcnow()
    audit.record("two_factor.enable", user, actor=user)
    return new_recovery_codes(user)


def renew_recovery_codes(user: User) -> list[str]:
    factor = factor_of(user)
    if factor is None or not factor.enabled:
        raise TwoFactorError(_("Two-factor sign-in is not set up for this account."))
    codes = new_recovery_codes(user)
    audit.record("two_factor.recovery_renewed", user, actor=user)
    return codes


def _clear(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    factor = factor_of(user)
    if factor is not None:
        db.session.delete(factor)
    db.session.flush()


def disable(user: User) -> None:
    """The person turns their own second factor off (not when their role requires one)."""
    if requires_two_factor(user):
        raise TwoFactorError(_("Your role requires two-factor sign-in: it cannot be turned off."))
    factor = factor_of(user)
    if factor is None or not factor.enabled:
        raise TwoFactorError(_("Two-factor sign-in is not set up for this account."))
    _clear(user)
    audit.record("two_factor.disable", user, actor=user)


def reset(user: User, admin: User) -> None:
    """An admin removes a person's second factor (lost phone): they enrol again at their next sign-in, and
    every session of theirs ends."""
    factor = factor_of(user)
    if factor is None:
        raise TwoFactorError(_("This person has no second factor to reset."))
    before = {"enabled_at": factor.enabled_at.isoformat() if factor.enabled_at else None}
    _clear(user)
    user.session_version = (user.session_version or 0) + 1
    audit.record("two_factor.reset", user, actor=admin, before=before, after={"enabled_at": None})
    db.session.flush()
