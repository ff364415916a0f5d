"""The sign-in's second step: a password that was right leaves a pending sign-in in the session until the
code is typed; only then is the person signed in (and a ministry account told by email)."""

from __future__ import annotations

import time

from flask import current_app, redirect, request, session, url_for
from flask_login import login_user

from codev.accounts.models import User
from codev.accounts.two_factor.models import has_two_factor
from codev.core.mail import queue_mail
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import unit_of_work
from codev.core.urls import safe_next
from codev.extensions import db

PENDING = "two_factor_pending"


def start(user: User, next_url: str | None):
    """The password was right and the account has a second factor: ask for the code."""
    session.clear()
    session[PENDING] = {"u": user.id, "v": user.session_version, "at": int(time.time()),
                        "next": safe_next(next_url) or ""}
    session["lang"] = user.locale
    return redirect(url_for("accounts.login_code"))


def pending_user() -> User | None:
    """The person whose password was right a moment ago in this session, or None (none, or too old)."""
    data = session.get(PENDING)
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in ("u", "v", "at")):
        return None
    if time.time() - data["at"] > int(current_app.config["TWO_FACTOR_PENDING_MAX_AGE"]):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.active or user.session_version != data["v"] or not has_two_factor(user):
        return None
    return user


def pending_next() -> str | None:
    data = session.get(PENDING)
    return safe_next(data.get("next")) if isinstance(data, dict) else None


def finish(user: User, next_url: str | None):
    """Sign ``user`` in (a fresh session), tell a ministry account by email, and go on."""
    session.clear()
    session.permanent = True
    login_user(user)
    session["lang"] = user.locale
    if user.is_ministry:
        with unit_of_work():
            queue_mail(user.email, user.locale, "new_sign_in", user=user, at=utcnow(),
                       ip=request.remote_addr or "?", agent=(request.user_agent.string or "?")[:200],
                       url=url_for("accounts.two_factor", _external=True))
    return redirect(safe_next(next_url) or url_for("core.home"))
