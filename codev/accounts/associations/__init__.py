"""Diaspora associations: sign-up, profile, statutes, members and invitations, verification, directory."""

from flask import Blueprint

bp = Blueprint("associations", __name__, url_prefix="/associations")

from codev.accounts.associations import views  # noqa: E402,F401
