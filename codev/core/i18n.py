"""Languages: French first, English second; the choice is remembered per user (and per session)."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import Domain, get_locale
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


def _babel_context():
    """Flask-Babel's per-request namespace (where it keeps ``babel_locale``), or None before its first use."""
    app_context = _cv_app.get(None)
    return app_context.g.__dict__.get("_flask_babel") if app_context is not None else None


def _per_locale(key: str, compute):
    """``compute()``, kept in the request's Flask-Babel context beside the locale object it was made for: a
    change of language within the request (``force_locale`` for an email in its reader's language,
    ``refresh`` after a choice) puts another locale object there, and it is computed again."""
    context = _babel_context()
    if context is not None:
        kept = context.__dict__.get(key)
        if kept is not None and kept[0] is context.__dict__.get("babel_locale"):
            return kept[1]
    value = compute()
    context = _babel_context()  # computing may have made it (the first string of a request)
    locale = context.__dict__.get("babel_locale") if context is not None else None
    if locale is not None:
        setattr(context, key, (locale, value))
    return value


class RequestDomain(Domain):
    """Flask-Babel's domain, whose translations are found once per request and language.

    Flask-Babel finds them again for every string (the request's globals through their proxy, the locale,
    its name, a dictionary): about 4 µs, and a list page reads some 300 strings."""

    def get_translations(self):
        return _per_locale("codev_translations", super().get_translations)


def locale_name() -> str:
    """The language being rendered, "fr" or "en": the request's, or the one ``force_locale`` set for an email
    or a PDF; French outside any app context.

    Amounts, dates, countries and bilingual fields ask for it once per value (a list page: some 300 times).
    Flask-Babel's ``get_locale()`` finds its context through the request's globals each time and ``str()``
    then rebuilds the locale's identifier; here the name is kept per request and language."""
    return _per_locale("codev_locale_name", lambda: str(get_locale() or "fr"))


# The app's strings: French first (the catalogue), through the domain above. The code imports these rather
# than Flask-Babel's own, which find the domain again through the request's globals for every string.
DOMAIN = RequestDomain()
gettext, ngettext, lazy_gettext = DOMAIN.gettext, DOMAIN.ngettext, DOMAIN.lazy_gettext


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    domain = DOMAIN
    babel.domain_instance = domain  # what flask_babel.gettext, its lazy strings and Flask-WTF's messages use
    app.jinja_env.install_gettext_callables(  # and the templates, without going through get_domain()
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
