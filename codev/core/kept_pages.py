"""Pages kept rendered between requests while nothing is written: ``@kept_page`` on a view.

A list an officer reloads, pages through and filters is rendered again for every request although nothing
changed since the last: fifty rows of Jinja, their next steps, amounts and dates, the cards for phones —
about four fifths of the page's time (README, benchmark). A kept page is rendered once per state of the
data and served again from memory, exact across processes:

- **Under the data's version.** The page is kept under the token of :data:`codev.core.versions.PAGES`, which
  every committed write to any table replaces (but the throttles' and the jobs' locks). The request reads
  the token (one primary-key lookup) and takes the kept rendering only under the same token; any write, from
  any process, renders it again. A transaction that wrote and has not committed yet neither reads nor fills.
- **For one reader.** The key holds the person (their id and session version: a page shows their name, their
  role's menu, their unread notifications and their next steps), the endpoint and the whole address (path
  and query: filters, page), the language and the day. Only a signed-in ``GET`` is kept, never with a
  message waiting to be flashed, only a ``200`` HTML answer of the view, never one whose rendering flashed.
- **The form tokens.** A rendering carries the request's CSRF token (the sign-out and language forms): it is
  kept with a marker in its place, and each request served from it gets its own token there.
- **Bounded.** ``PAGE_CACHE_SECONDS`` bounds how long a rendering serves (a write made outside the app is seen
  after it at most; ``0`` turns keeping off); ``PAGE_CACHE_SIZE`` renderings per process, the least recently
  used dropped first. Headers are never kept: each answer goes through the app's ``after_request`` as usual.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps

from flask import Response, current_app, g, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from codev.core import versions
from codev.core.i18n import locale_name
from codev.core.timeutil import utcnow

# What stands for the CSRF token in a kept rendering: random per process, so no content can forge it.
_MARKER = f"kept-csrf-{secrets.token_hex(16)}"


def _seconds() -> float:
    return float(current_app.config.get("PAGE_CACHE_SECONDS", 60))


def _keepable_request() -> bool:
    return (request.method == "GET" and current_user.is_authenticated and not session.get("_flashes")
            and _seconds() > 0)


def _key() -> tuple:
    return (request.endpoint, request.full_path, current_user.get_id(), locale_name(), utcnow().date().isoformat())


def _store() -> versions.Store:
    return versions.store("kept_pages", "PAGE_CACHE_SIZE", 128)


def _csrf_field() -> str:
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def _kept_body(response: Response) -> str | None:
    """What to keep of the view's answer, with the CSRF token it carries marked; None when it is not kept."""
    if (response.status_code != 200 or response.mimetype != "text/html" or response.direct_passthrough
            or session.get("_flashes")):
        return None
    body = response.get_data(as_text=True)
    token = g.get(_csrf_field())
    return body.replace(token, _MARKER) if token else body


def kept_page(view: Callable) -> Callable:
    """The view's rendering kept per reader, address and state of the data (the access rule is checked before
    any view, codev.core.permissions.check_access)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not _keepable_request():
            return view(*args, **kwargs)
        token = versions.current_token(versions.PAGES)
        if token is None:
            return view(*args, **kwargs)
        key = _key()
        kept = _store()
        hit, body = kept.get(key, token)
        if hit:
            return Response(body.replace(_MARKER, generate_csrf()) if _MARKER in body else body,
                            mimetype="text/html")
        response = make_response(view(*args, **kwargs))
        body = _kept_body(response)
        if body is not None:
            kept.put(key, token, body, _seconds())
        return response

    wrapper.kept_page = True
    return wrapper
