"""Administration: users and roles, partner structures and their evaluators."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from codev.accounts.admin import api_tokens, mail, views  # noqa: E402,F401
