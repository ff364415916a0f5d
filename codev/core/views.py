"""The landing page and each role's home, built from the cards the packages register."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from codev.core.permissions import public
from codev.core.templating import home_panels

bp = Blueprint("core", __name__)


@bp.route("/")
@public
def home():
    """Anonymous visitors see the programme; signed-in people see what they must do next."""
    if not current_user.is_authenticated:
        return render_template("core/landing.html")
    return render_template("core/home.html", panels=home_panels())


@bp.route("/healthz")
@public
def healthz():
    """Liveness probe for the load balancer."""
    return {"status": "ok"}
