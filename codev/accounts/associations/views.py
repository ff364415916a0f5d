"""Association views (placeholder until the associations module lands)."""

from flask import render_template

from codev.accounts.associations import bp
from codev.core.permissions import public


@bp.route("/signup", methods=["GET", "POST"])
@public
def signup():
    """Register an association and its first member."""
    return render_template("errors/error.html", code=404, title="", message=""), 404
