"""What is found once and kept gives what Flask-Babel and WTForms give: the translations once per request
(codev.core.i18n.RequestDomain), the language's name (locale_name), WTForms' own messages once per process
(codev.core.forms.WTFormsMessages), a day's text (codev.core.templating._date), a select's options once per
list of choices and value (codev.core.forms.OptionsOnce)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel.support import Translations
from flask_babel import force_locale, format_date, refresh
from werkzeug.datastructures import MultiDict
from wtforms import IntegerField, SelectField
from wtforms.widgets import Select

from codev.core.forms import BaseForm, OptionsOnce, RowForm, _wtforms_catalogue
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.i18n import locale_name, ngettext
from codev.core.money import format_xof
from codev.core.templating import _date


def test_the_language_changes_within_a_request_are_followed(app):
    # Each request in its own app context, as under a server (the fixture keeps one open for the factories).
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert _("Projects") == "Projects"
        with force_locale("fr"):  # an email in its reader's language
            assert _("Projects") == "Projets"
            assert str(_l("Projects")) == "Projets"
        assert _("Projects") == "Projects"
        assert ngettext("%(num)d project found.", "%(num)d projects found.", 2) == "2 projects found."
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert _("Projects") == "Projets"
        assert ngettext("%(num)d project found.", "%(num)d projects found.", 2) == "2 projets trouvés."
        with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "en"}):
            assert _("Projects") == "Projects"  # a request inside another keeps its own
        refresh()
        assert _("Projects") == "Projets"


class Choose(BaseForm):
    country = SelectField("Country", choices=[], validate_choice=False)


def test_options_rendered_once_are_those_wtforms_renders(app):
    choices = [("", "All"), ("FR", "France"), ("TG", "Togo"), ("CI", "Côte d'Ivoire & co")]
    with app.test_request_context("/?country=TG"):
        from flask import request

        form = Choose(formdata=request.args, meta={"csrf": False})
        form.country.choices = choices
        assert isinstance(form.country.widget, OptionsOnce)
        first, again = form.country(), form.country(class_="wide")
        assert first == Select()(form.country)
        assert '<option selected value="TG">Togo</option>' in first
        assert "Côte d&#39;Ivoire &amp; co" in first
        assert again == Select()(form.country, class_="wide")
        form.country.data = "FR"  # another value: another rendering, not the kept one
        assert '<option selected value="FR">France</option>' in form.country()
        assert '<option selected value="TG">' not in form.country()
        form.country.choices = [*choices, ("BE", "Belgique")]  # another list
        assert '<option value="BE">Belgique</option>' in form.country()
        form.country.choices = [("", _l("All")), ("FR", "France")]  # a lazy label: as WTForms renders it
        assert form.country() == Select()(form.country)


def test_the_language_name_follows_the_request_and_force_locale(app):
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert locale_name() == "en"
        with force_locale("fr"):  # an email or a PDF in its reader's language
            assert locale_name() == "fr"
            assert format_xof(2_500_000) == "2\u202f500\u202f000\u00a0F\u202fCFA"
        assert locale_name() == "en"
        assert format_xof(2_500_000) == "2,500,000\u00a0F\u202fCFA"
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert locale_name() == "fr"
        refresh()  # the language chosen again (the switch): found again
        assert locale_name() == "fr"


class Counted(BaseForm):
    number = IntegerField("Number")
    kind = SelectField("Kind", choices=[("a", "A")])


class Line(RowForm):
    number = IntegerField("Number")


def test_wtforms_messages_in_the_readers_language_from_a_catalogue_read_once(app, monkeypatch):
    loads = []
    real = Translations.load

    def load(*args, **kwargs):
        loads.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(Translations, "load", load)
    _wtforms_catalogue.cache_clear()
    words = {"fr": ("N'est pas un choix valide.", "N'est pas un entier valide."),
             "en": ("Not a valid choice.", "Not a valid integer value.")}
    for language in ("fr", "en", "fr", "en"):
        with app.app_context(), app.test_request_context(
                "/", method="POST", data={"number": "x", "kind": "z"}, headers={"Accept-Language": language}):
            form = Counted(meta={"csrf": False})
            assert not form.validate()
            assert form.kind.errors == [words[language][0]]
            line = Line(formdata=MultiDict({"number": "x"}))  # a row of a list: WTForms' Form, not Flask-WTF's
            assert not line.validate()
            assert line.number.errors == [words[language][1]]
    assert loads == [["fr"], ["en"]]  # each language's catalogue read once


def test_dates_kept_are_those_flask_babel_writes(app):
    moments = [datetime(2026, 12, 3, 23, 59, tzinfo=UTC), datetime(2026, 1, 31, 0, 0), date(2025, 7, 14)]
    for language in ("fr", "en"):
        with app.app_context(), app.test_request_context("/", headers={"Accept-Language": language}):
            for moment in moments:
                for fmt in ("medium", "long", "short"):
                    assert _date(moment, fmt) == format_date(moment, fmt)
            assert _date(None) == ""
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert _date(date(2026, 12, 3), "long") == "3 décembre 2026"
