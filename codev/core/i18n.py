"""Languages: French first, English second; the choice is remembered per user (and per session)."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_login import current_user

from codev.extensions import babel


def select_locale() -> str:
    """The signed-in user's language, else the session's choice, else the browser's, else French."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and background work: the programme's working language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
