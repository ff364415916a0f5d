"""Access rules in one place: every endpoint declares who may reach it; the default is to refuse.

A view is decorated with exactly one of :func:`public`, :func:`signed_in`, :func:`roles` or
:func:`api_token`. One ``before_request`` hook reads the mark: anonymous visitors of a non-public endpoint
go to the login page; signed-in users without the role get 403; an endpoint without any mark is refused to
everybody (and the URL-map test fails), so a new route cannot escape the rules. An :func:`api_token`
endpoint (the partners' read API) is reached with a token, never a session: the checker the API registers
(:data:`API_TOKEN_CHECK` in ``app.extensions``) answers 401 or 403 itself; without one, 401.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

ACCESS_ATTR = "_codev_access"
PUBLIC = "public"
SIGNED_IN = "signed_in"
API_TOKEN_CHECK = "codev.api_token_check"  # noqa: S105 (an app.extensions key: a function(scope) that refuses)


@dataclass(frozen=True)
class ApiTokenRule:
    """Reached with a partner's API token that holds ``scope`` (no session, no role)."""

    scope: str


def public(view: Callable) -> Callable:
    """Anyone, signed in or not."""
    setattr(view, ACCESS_ATTR, PUBLIC)
    return view


def signed_in(view: Callable) -> Callable:
    """Any signed-in user, whatever the role."""
    setattr(view, ACCESS_ATTR, SIGNED_IN)
    return view


def roles(*allowed: str) -> Callable[[Callable], Callable]:
    """Signed-in users with one of ``allowed`` roles."""

    def mark(view: Callable) -> Callable:
        setattr(view, ACCESS_ATTR, frozenset(str(r) for r in allowed))
        return view

    return mark


def api_token(scope: str) -> Callable[[Callable], Callable]:
    """Requests bearing a live partner token with ``scope`` (the read API); sessions count for nothing."""

    def mark(view: Callable) -> Callable:
        setattr(view, ACCESS_ATTR, ApiTokenRule(scope))
        return view

    return mark


def current_person() -> Any:
    """The signed-in user as the real object (services keep it), or None for an anonymous visitor."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def access_rule(app: Flask, endpoint: str) -> Any:
    """The rule declared on ``endpoint``'s view (None when it has none)."""
    if endpoint == "static" or endpoint.endswith(".static"):
        return PUBLIC  # the app's own CSS, JS, fonts and images
    view = app.view_functions.get(endpoint)
    if view is None:
        return None
    # Class-based views and flask internals (static) keep the mark on the function object.
    return getattr(view, ACCESS_ATTR, getattr(getattr(view, "view_class", None), ACCESS_ATTR, None))


def check_access() -> Any:
    """``before_request`` hook enforcing the declared rule of the matched endpoint."""
    endpoint = request.endpoint
    if endpoint is None:  # 404/405: let Flask answer
        return None
    rule = access_rule(current_app, endpoint)
    if rule == PUBLIC:
        return None
    if isinstance(rule, ApiTokenRule):
        check = current_app.extensions.get(API_TOKEN_CHECK)
        if check is None:
            abort(401)
        return check(rule.scope)
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    if rule == SIGNED_IN:
        return None
    if isinstance(rule, frozenset) and current_user.role in rule:
        return None
    abort(403)


def init_app(app: Flask) -> None:
    app.before_request(check_access)
