"""Accounts: sign-in and sign-out, passwords, language; associations and partner structures below."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/account")

# The association's table registers with the engine on import; the routes register on import.
from codev.accounts import views, workflows  # noqa: E402,F401
from codev.accounts.two_factor import views as two_factor_views  # noqa: E402,F401
