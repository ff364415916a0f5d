"""Who may read the API and how much: the bearer token, its scope, its rate; errors as JSON; cursors.

The access hook (:func:`codev.core.permissions.check_access`) calls :func:`check_token` for every
``@api_token(scope)`` endpoint: no token or an unknown, revoked or expired one → 401; a live token without
the scope → 403; past the token's rate → 429 with ``Retry-After``; over plain HTTP where HTTPS is required →
403. Sessions count for nothing here: a signed-in admin's browser without a token gets 401 too.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from flask import current_app, g, request
from werkzeug.exceptions import HTTPException

from codev.accounts.api_tokens import find_token, mark_used
from codev.core import throttle
from codev.core.params import DB_INT_MAX
from codev.core.timeutil import utcnow

RATE = throttle.Rule("api.token", "API_RATE_LIMIT", "API_RATE_WINDOW")
REALM = 'Bearer realm="codev"'


class ApiError(HTTPException):
    """An HTTP error the API answers as JSON (``code``, ``status``, ``message``; the OpenAPI ``Error``)."""

    def __init__(self, code: int, message: str, *, headers: dict[str, str] | None = None,
                 errors: dict | None = None) -> None:
        super().__init__(description=message)
        self.code = code
        self.data = {"message": message, "headers": headers or {}, **({"errors": errors} if errors else {})}


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    kind, _sep, value = header.partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _https_required() -> bool:
    setting = current_app.config.get("API_REQUIRE_HTTPS")
    if setting is None:
        return current_app.config.get("ENV_NAME") not in ("development", "test")
    return bool(setting)


def check_token(scope: str) -> None:
    """Let the request in, or raise the :class:`ApiError` that says why not."""
    if _https_required() and not request.is_secure:
        raise ApiError(403, "The API answers over HTTPS only.")
    plain = _bearer()
    if plain is None:
        raise ApiError(401, "A token is needed: send the header Authorization: Bearer <token>.",
                       headers={"WWW-Authenticate": REALM})
    token = find_token(plain)
    now = utcnow()
    if token is None or not token.is_live(now):
        raise ApiError(401, "This token is unknown, revoked or expired.",
                       headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
    if scope not in token.scope_set:
        raise ApiError(403, f"This token does not hold the scope {scope}.",
                       headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'})
    claim = throttle.claim((RATE, str(token.id)))
    if not claim:
        raise ApiError(429, "Too many requests with this token. Wait "
                       f"{int(throttle.retry_after_header(claim)['Retry-After'])} seconds.",
                       headers=throttle.retry_after_header(claim))
    mark_used(token.id, now)
    g.api_token_id, g.api_scopes = token.id, token.scope_set


def holds(scope: str) -> bool:
    """Whether this request's token holds ``scope`` (an answer adds what only that scope may read)."""
    return scope in getattr(g, "api_scopes", frozenset())


def json_error(error: HTTPException):
    """Any HTTP error of an API request, as the OpenAPI ``Error`` object."""
    data = getattr(error, "data", None) or {}
    code = error.code or 500
    payload: dict[str, Any] = {"code": code, "status": error.name,
                               "message": data.get("message") or error.description}
    errors = data.get("errors") or data.get("messages")
    if errors:
        # webargs nests its messages by location ({"query": {"limit": [...]}}): the argument's name is enough
        payload["errors"] = errors.get("query", errors) if isinstance(errors, dict) else errors
        payload["message"] = "Some arguments are not valid: " + ", ".join(sorted(map(str, payload["errors"]))) + "."
    headers = dict(data.get("headers") or {})
    if code == 422:  # webargs' status for arguments it refuses: the API says 400 (see ApiBlueprint)
        code = payload["code"] = 400
    return payload, code, headers


# --- cursors ------------------------------------------------------------------------------------


def encode_cursor(after: int) -> str:
    """An opaque cursor: the last id of a page, which the next page starts after."""
    raw = json.dumps({"after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor names (None for the first page); a cursor not made by :func:`encode_cursor` → 400."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = json.loads(raw.decode())["after"]
    except (binascii.Error, ValueError, UnicodeDecodeError, KeyError, TypeError):
        after = None
    if not isinstance(after, int) or isinstance(after, bool) or not 1 <= after <= DB_INT_MAX:
        raise ApiError(400, "This cursor is not one the API gave: start again without it.",
                       errors={"cursor": ["Not a valid cursor."]})
    return after
