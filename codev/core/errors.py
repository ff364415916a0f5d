"""Friendly error pages in the reader's language; never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from codev.core.i18n import lazy_gettext as _l
from codev.core.storage import StorageError
from codev.extensions import db

log = logging.getLogger("codev")

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Access refused"), _l("You do not have access to this page.")),
    404: (_l("Page not found"), _l("This page does not exist or is not available to you.")),
    405: (_l("Not allowed"), _l("This action is not possible here.")),
    413: (
        _l("File too large"),
        _l("What you sent is larger than the limit. Nothing was saved; try a smaller file."),
    ),
    409: (
        _l("Changed at the same time"),
        _l("Someone else changed this at the same moment, so nothing was saved. Reload the page and try again."),
    ),
    429: (_l("Too many attempts"), _l("Too many attempts. Wait a few minutes and try again.")),
    503: (
        _l("Temporarily unavailable"),
        _l("This service is unavailable for a moment. Nothing was changed; try again in a few minutes."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error occurred. Nothing was changed; please try again later."),
    ),
}


def render_error(code: int, message: str | None = None):
    title, default = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, message=message or default), code


def _http_error(error: HTTPException):
    code = error.code or 500
    if code not in MESSAGES:
        return error
    return render_error(code)


def _csrf_error(error: CSRFError):
    return render_error(
        400, str(_l("The form expired or was sent twice. Reload the page and try again."))
    )


def _conflict(error: Exception):
    """A unique constraint or version check lost a race with a concurrent request: say so, keep nothing."""
    # Logged in full: a constraint that fails for another reason than a race is a bug to see.
    log.warning("change refused by the database (%s): %s", error.__class__.__name__, error)
    db.session.rollback()
    return render_error(409)


def _store_unreachable(error: Exception):
    """The file store is down or refuses us: the person can only wait; the operator reads why in the log."""
    log.error("file store unavailable: %s", error)
    db.session.rollback()
    return render_error(503, str(_l("Files cannot be reached right now. Nothing was changed; "
                                    "try again in a few minutes.")))


def rollback_failed_request() -> None:
    """Undo what a failed request left in the session (its error page, HTML or the API's JSON, comes next)."""
    db.session.rollback()


def _unexpected(error: Exception):
    log.exception("unhandled error", exc_info=error)
    rollback_failed_request()
    return render_error(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(IntegrityError, _conflict)
    app.register_error_handler(StaleDataError, _conflict)
    app.register_error_handler(StorageError, _store_unreachable)
    app.register_error_handler(Exception, _unexpected)
