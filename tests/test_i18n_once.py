"""The translations found once per request (codev.core.i18n.RequestDomain) and a select's options rendered
once per list of choices and value (codev.core.forms.OptionsOnce) give what Flask-Babel and WTForms give."""

from __future__ import annotations

from flask_babel import force_locale, refresh
from wtforms import SelectField
from wtforms.widgets import Select

from codev.core.forms import BaseForm, OptionsOnce
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.i18n import ngettext


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
