"""Password rules and hashing (method and cost named explicitly in config)."""

from __future__ import annotations

import secrets
from functools import lru_cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import ValidationError

from codev.core.i18n import gettext as _

# A few passwords every attacker tries first; refused whatever their length.
COMMON = {
    "motdepasse", "password12", "1234567890", "azertyuiop", "qwertyuiop", "password123",
    "motdepasse1", "0123456789", "administrateur", "togolais2024", "1111111111",
}


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@lru_cache(maxsize=8)
def _dummy_hash(method: str) -> str:
    """A hash of a random secret made with ``method``, once per process (per method)."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; without a hash (no account, no password yet) always False.

    Without a hash the password is still checked against a dummy hash of the configured method, so
    that a wrong password takes as long for an email nobody uses as for a real account.
    """
    if not password_hash:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return False
    return check_password_hash(password_hash, password)


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why ``password`` is refused, in the reader's language, or None when it is acceptable."""
    config = current_app.config
    if len(password) < config["PASSWORD_MIN_LENGTH"]:
        return _("The password must have at least %(n)s characters.", n=config["PASSWORD_MIN_LENGTH"])
    if len(password) > config["PASSWORD_MAX_LENGTH"]:
        return _("The password must have at most %(n)s characters.", n=config["PASSWORD_MAX_LENGTH"])
    if password.casefold() in COMMON or len(set(password)) < 4:
        return _("This password is too easy to guess. Choose another one.")
    if email and password.casefold() == email.casefold():
        return _("The password must not be your email address.")
    return None


def strong_password(form, field) -> None:
    """WTForms validator applying :func:`password_problem`."""
    email_field = getattr(form, "email", None)
    problem = password_problem(field.data or "", getattr(email_field, "data", None))
    if problem:
        raise ValidationError(problem)
