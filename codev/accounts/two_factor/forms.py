"""Forms of two-factor sign-in: a code (the app's or a recovery code)."""

from __future__ import annotations

from wtforms import StringField, ValidationError

from codev.core.forms import BaseForm, max_length, required
from codev.core.i18n import lazy_gettext as _l
from codev.core.numbers import digits_message, has_foreign_digits

# The sign-in and step-up fields take a recovery code too (letters and digits): a text keyboard. Enrolment takes
# only the app's 6 digits: the phone's digit pad, and the rule of every number field for what is not a digit.
CODE_ATTRS = {"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
DIGITS_ATTRS = {**CODE_ATTRS, "inputmode": "numeric"}


def six_digits(form, field) -> None:
    """The app's code: six digits 0 to 9 (spaces between them ignored); other digits said as everywhere."""
    typed = "".join((field.data or "").split())
    if has_foreign_digits(typed):
        raise ValidationError(digits_message())
    if not (len(typed) == 6 and typed.isascii() and typed.isdigit()):
        raise ValidationError(_l("Type the 6 digits your authenticator app shows now."))


class CodeForm(BaseForm):
    """The second step of a sign-in, or a code that confirms a change of the second factor."""

    code = StringField(
        _l("Code"), validators=[required(), max_length(40)], render_kw=CODE_ATTRS,
        description=_l("The 6 digits your authenticator app shows now, or one of your recovery codes."),
    )


class EnrolForm(BaseForm):
    code = StringField(
        _l("Code shown by the app"), validators=[required(), max_length(40), six_digits], render_kw=DIGITS_ATTRS,
        description=_l("Once the app has the account, type the 6 digits it shows to finish."),
    )


class StepUpForm(BaseForm):
    """The code field of a confirmation page that asks for the second factor again."""

    step_up_code = StringField(
        _l("Two-factor code"), validators=[max_length(40)], render_kw=CODE_ATTRS,
        description=_l("To confirm, type the 6 digits your authenticator app shows now (or a recovery code)."),
    )
