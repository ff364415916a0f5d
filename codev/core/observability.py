"""Logs and health: the log format, one access line per request, a request id on every line, probes.

Every log record made during a request carries its request id (``g.request_id``): taken from the
``X-Request-ID`` header the proxy sends when it is a plain short token, made up otherwise, and sent
back in the answer's ``X-Request-ID`` so a person can quote it (the 500 page shows it). The access line
says who asked what and how it went — method, path, status, milliseconds, user id, address — and never
a body, a query string, a cookie or a token in the path (an argument named ``…token…`` is written as
its rule's placeholder). ``/healthz`` and ``/readyz`` (core/views.py) read :func:`readiness`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import inspect

log = logging.getLogger("codev.access")

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Probes call every few seconds: their access lines go out at DEBUG, not INFO.
QUIET_ENDPOINTS = frozenset({"core.healthz", "core.readyz"})
# Fields of a record that are not the standard LogRecord's (an access line's facts), kept in JSON.
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "user_id", "remote_addr")


def request_id_from(header: str | None) -> str:
    """The incoming id when it is a plain token of at most 64 characters, else a new uuid4 (hex)."""
    if header and REQUEST_ID_PATTERN.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """``2026-12-02T05:20:01.123Z INFO codev.access [3f2a…] GET /calls/ 200 12ms user=4 ip=10.0.0.7``."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        line = f"{_timestamp(record)} {record.levelname} {record.name} [{request_id or '-'}] {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id, the access fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for field in ACCESS_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (gunicorn and pytest replace it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(log_format: str = "text", level: str | int = "INFO") -> logging.Handler:
    """One handler on the root logger, in ``log_format`` ("text" or "json"); replaces the one set before."""
    fmt = (log_format or "text").lower()
    if fmt not in ("text", "json"):
        raise RuntimeError(f"LOG_FORMAT must be 'text' or 'json', not {log_format!r}")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_codev", False):
            root.removeHandler(handler)
    handler = StderrHandler()
    handler._codev = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for chatty in ("weasyprint", "fontTools"):  # a line per layout step of every PDF, at INFO
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return handler


def _start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))


def logged_path() -> str:
    """The request's path, with any argument that carries a secret (named ``…token…``) left as its placeholder."""
    rule, args = request.url_rule, request.view_args or {}
    if rule is not None and any("token" in name for name in args):
        return rule.rule
    return request.path


def _user_id() -> int | None:
    """The signed-in user's id if this request loaded one; reading it never queries the database."""
    user = g.get("_login_user")  # where Flask-Login keeps the user it loaded for this request
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        identity = inspect(user).identity  # the identity key, also on an expired or detached object
    except Exception:  # an unmapped user object: no id to give
        return None
    return identity[0] if identity else None


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    if started is None:
        return response
    path = logged_path()
    fields = {
        "method": request.method,
        "path": path,
        "status": response.status_code,
        "duration_ms": int((time.perf_counter() - started) * 1000),
        "user_id": _user_id(),
        "remote_addr": request.remote_addr,
    }
    level = logging.DEBUG if request.endpoint in QUIET_ENDPOINTS else logging.INFO
    log.log(level, "%s %s %s %dms user=%s ip=%s", fields["method"], path, fields["status"],
            fields["duration_ms"], fields["user_id"] if fields["user_id"] is not None else "-",
            fields["remote_addr"] or "-", extra=fields)
    return response


# Readiness ------------------------------------------------------------------------------------------


def migration_heads() -> frozenset[str]:
    """The head revision(s) of the code's migrations, read once per process."""
    heads = current_app.extensions.get("codev.migration_heads")
    if heads is None:
        from alembic.script import ScriptDirectory

        directory = current_app.extensions["migrate"].directory
        heads = current_app.extensions["codev.migration_heads"] = frozenset(
            ScriptDirectory(directory).get_heads())
    return heads


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [""])[0][:300]


def readiness() -> tuple[bool, dict[str, str]]:
    """Whether this process may take traffic: database reachable, migrations at head, file store writable.

    Each check reads "ok" or a short reason; the reasons name no host, password or error text (the
    details go to the log, at WARNING).
    """
    from sqlalchemy import inspect as inspect_db
    from sqlalchemy import text

    from codev.core.storage import storage
    from codev.extensions import db

    checks: dict[str, str] = {}
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
            current = frozenset(connection.scalars(text("SELECT version_num FROM alembic_version")).all()
                                if inspect_db(connection).has_table("alembic_version") else ())
    except Exception as error:  # any failure to reach the database is "not ready"
        logging.getLogger("codev").warning("readiness: database unreachable (%s: %s)",
                                           error.__class__.__name__, _first_line(error))
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    else:
        heads = migration_heads()
        if current == heads:
            checks["migrations"] = "ok"
        else:
            logging.getLogger("codev").warning("readiness: database at %s, code at %s",
                                               ",".join(sorted(current)) or "no revision", ",".join(sorted(heads)))
            checks["migrations"] = "not at head"
    try:
        storage().probe()
        checks["storage"] = "ok"
    except Exception as error:  # StorageError, or a backend's own error
        logging.getLogger("codev").warning("readiness: file store not writable (%s: %s)",
                                           error.__class__.__name__, _first_line(error))
        checks["storage"] = "not writable"
    return all(value == "ok" for value in checks.values()), checks


def init_app(app: Flask) -> None:
    """Logging from LOG_FORMAT / LOG_LEVEL; the request id and access line around every request."""
    from flask.logging import default_handler

    configure_logging(app.config.get("LOG_FORMAT", "text"), app.config.get("LOG_LEVEL", "INFO"))
    app.logger.removeHandler(default_handler)  # the root handler writes the app's records, once
    # First of the before_request hooks: the access rules may answer early (a redirect to the login page).
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
