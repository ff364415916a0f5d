"""Oversight: the public register of funded projects and its open data (CSV, IATI), the ministry's exports.

The aggregate queries in :mod:`codev.oversight.queries` are shared by every page that shows the
programme's figures (the register now, the ministry's dashboard next). The package reads the steps
before it (accounts, calls, projects, reviews, grants) and none of them reads it.
"""

from flask import Blueprint

bp = Blueprint("oversight", __name__)

# The register, exports and open data (views); the dashboard, maps and audit log (dashboard_views, audit_views);
# data retention and the association's export (retention, export_views).
from codev.oversight import audit_views, cache, dashboard_views, export_views, retention, views  # noqa: E402,F401
