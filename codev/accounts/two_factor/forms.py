"""Forms of two-factor sign-in: a code (the app's or a recovery code)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField

from codev.core.forms import BaseForm, max_length, required

CODE_ATTRS = {"inputmode": "numeric", "autocomplete": "one-time-code", "autocapitalize": "off",
              "spellcheck": "false"}


class CodeForm(BaseForm):
    """The second step of a sign-in, or a code that confirms a change of the second factor."""

    code = StringField(
        _l("Code"), validators=[required(), max_length(40)], render_kw=CODE_ATTRS,
        description=_l("The 6 digits your authenticator app shows now, or one of your recovery codes."),
    )


class EnrolForm(BaseForm):
    code = StringField(
        _l("Code shown by the app"), validators=[required(), max_length(40)], render_kw=CODE_ATTRS,
        description=_l("Once the app has the account, type the 6 digits it shows to finish."),
    )


class StepUpForm(BaseForm):
    """The code field of a confirmation page that asks for the second factor again."""

    step_up_code = StringField(
        _l("Two-factor code"), validators=[max_length(40)], render_kw=CODE_ATTRS,
        description=_l("To confirm, type the 6 digits your authenticator app shows now (or a recovery code)."),
    )
