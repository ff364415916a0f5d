"""Accounts: sign-in and sign-out, passwords, language; associations and partner structures below."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/account")

from codev.accounts import views  # noqa: E402,F401  (routes register on import)
