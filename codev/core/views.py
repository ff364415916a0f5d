"""The landing page and each role's home, built from the cards the packages register; the health probes;
the favicon; the ``cards`` filter that labels tables for phones (core/tables.py)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, send_from_directory
from flask_login import current_user

from codev.core.observability import readiness
from codev.core.permissions import public
from codev.core.tables import cards
from codev.core.templating import home_panels

bp = Blueprint("core", __name__)
bp.add_app_template_filter(cards, "cards")


@bp.route("/")
@public
def home():
    """Anonymous visitors see the programme; signed-in people see what they must do next."""
    if not current_user.is_authenticated:
        return render_template("core/landing.html")
    return render_template("core/home.html", panels=home_panels())


@bp.route("/favicon.ico")
@public
def favicon():
    """The app's icon where browsers ask for it without reading the page's <link rel=icon>."""
    folder = current_app.static_folder or ""
    return send_from_directory(folder, "img/favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400)


@bp.route("/healthz")
@public
def healthz():
    """Liveness: the process answers (no database touched); a restart is the cure when it does not."""
    return Response("ok\n", mimetype="text/plain", headers={"Cache-Control": "no-store"})


@bp.route("/readyz")
@public
def readyz():
    """Readiness: database reachable, migrations at head, file store writable — else 503 and which failed."""
    ready, checks = readiness()
    body = {"status": "ok" if ready else "failing", "checks": checks}
    return jsonify(body), 200 if ready else 503, {"Cache-Control": "no-store"}
