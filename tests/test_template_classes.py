"""Class tests over the templates: one way to say what a form refuses."""

from __future__ import annotations

import re
from pathlib import Path

import codev

TEMPLATES = Path(codev.__file__).parent / "templates"


def test_a_form_s_refusals_are_said_by_the_one_macro():
    """``form_errors(form)`` lists the whole form's refusals; no page loops over them by hand."""
    loops = {str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
             if path.parts[-2] != "_macros" and re.search(r"\{%\s*for \w+ in \w+\.form_errors", path.read_text())}
    assert loops == set()


def test_the_macro_shows_form_level_refusals_and_the_field_sentence(app):
    from flask import render_template_string
    from wtforms import StringField
    from wtforms.validators import DataRequired

    from codev.core.forms import BaseForm

    class Form(BaseForm):
        name = StringField("Name", validators=[DataRequired()])

    with app.test_request_context("/", method="POST", data={}):
        form = Form(meta={"csrf": False})
        form.validate()
        form.form_errors.append("The call is closed.")
        html = render_template_string('{% from "_macros/forms.html" import form_errors %}{{ form_errors(form) }}',
                                      form=form)
    assert "<p>The call is closed.</p>" in html
    assert "Certains champs demandent votre attention" in html  # French, the default language
