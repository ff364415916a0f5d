"""Helpers for the administration tests: English-speaking admins, a second signed-in browser."""

from __future__ import annotations

from codev.accounts.models import User
from codev.extensions import db


def english(user: User) -> User:
    """Switch ``user`` to English (no French catalog exists in tests: pages speak English anyway)."""
    user.locale = "en"
    db.session.commit()
    return user


def signed_in_client(app, user: User):
    """Another browser holding ``user``'s session cookie, as after a real sign-in."""
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def structure_form(**overrides) -> dict:
    """A valid partner structure form; ``overrides`` replace fields (None drops one)."""
    data = {
        "name": "Direction régionale de l'hydraulique des Plateaux",
        "acronym": "DRH-P",
        "kind": "state",
        "email": "drh.plateaux@example.tg",
        "phone": "+228 24 40 00 00",
        "regions": ["TG-P"],
        "sectors": ["water"],
        "active": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
