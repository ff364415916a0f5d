"""The partners' read API (/api/v1/): calls, funded projects, grants, disbursements and figures as JSON.

Technical and financial partners and the ministry's own tools read it with a token an admin issued them
(:mod:`codev.accounts.api_tokens`). It shows what the public register shows (:mod:`codev.oversight`, whose
queries and rules it reuses), plus what the token's scopes allow: ``grants:read`` the grants and
disbursements in detail, ``contacts:read`` the associations' contact people — the only personal data.
GET only; no session, no CSRF; errors as JSON; pages by cursor; each token rate-limited.

flask-smorest writes the OpenAPI 3 document from the views' schemas; it is served at /api/v1/openapi.json.
The package reads every step before it and none of them reads it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint as FlaskBlueprint
from flask import Flask
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser

API_VERSION = "1"
PREFIX = "/api/v1"
EXTENSION = "codev.api"
# Settings (instance/config.py or CODEV_* as any other): requests per token per window (past it, 429 with
# Retry-After); plain HTTP refused unless API_REQUIRE_HTTPS is False (None: refused outside development and test).
DEFAULTS = {"API_RATE_LIMIT": 600, "API_RATE_WINDOW": timedelta(minutes=1), "API_REQUIRE_HTTPS": None}


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400  # a bad argument is the client's error, said as 400 (and documented so)


class ApiBlueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = _Parser()


class PartnerApi(Api):
    """flask-smorest's Api, its error handler kept to the API's blueprints (the app's pages stay HTML)."""

    def _register_error_handlers(self) -> None:
        pass


bp = ApiBlueprint("api", __name__, url_prefix=PREFIX,
                  description="The programme's calls, funded projects, grants, disbursements and figures.")
# The document, its page and a JSON 404 for any other address under /api/v1/ (not operations of the API).
meta = FlaskBlueprint("api_meta", __name__, url_prefix=PREFIX)


def init_app(app: Flask) -> None:
    """Bind the API to ``app``: its document (one per app), its blueprints, its token check."""
    from codev.core.permissions import API_TOKEN_CHECK
    from codev.extensions import csrf

    from . import auth, views  # noqa: F401 (the routes)

    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)

    api = PartnerApi(spec_kwargs={
        "title": "codev partner API", "version": API_VERSION, "openapi_version": "3.0.3",
        "info": {"description": (
            "Read-only. Send `Authorization: Bearer <token>` (a token an administrator issued you). "
            "Lists are paged by cursor: pass the `next_cursor` of an answer as `cursor` to read the next page; "
            "it is null on the last. Money is in whole XOF (F CFA)."
        )},
        "servers": [{"url": "/"}],
    })
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(bp)
    app.register_blueprint(meta)
    csrf.exempt(bp)
    csrf.exempt(meta)
    app.extensions[EXTENSION] = api
    app.extensions[API_TOKEN_CHECK] = auth.check_token
    for code in (404, 405):  # no operation matched: JSON under /api/v1/, the app's page elsewhere
        app.register_error_handler(code, views.not_found_or_not_allowed)
