"""Forms of sign-in, password reset and the personal profile."""

from __future__ import annotations

from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, Length

from codev.accounts.passwords import strong_password
from codev.core.forms import BaseForm, email_address, max_length, required
from codev.core.i18n import lazy_gettext as _l

LANGUAGE_CHOICES = [("fr", "Français"), ("en", "English")]


class LoginForm(BaseForm):
    email = EmailField(_l("Email"), validators=[required(), max_length(254)])
    password = PasswordField(_l("Password"), validators=[required(), max_length(1024)])
    next = HiddenField()


class ResetRequestForm(BaseForm):
    email = EmailField(_l("Email"), validators=[required(), email_address(), max_length(254)])


def new_password_fields():
    """The pair of fields that set a password (used by several forms)."""
    password = PasswordField(
        _l("New password"),
        validators=[required(), strong_password],
        description=_l("At least 10 characters. A sentence you remember is a good password."),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[required(), EqualTo("password", message=_l("The two passwords are different."))],
    )
    return password, confirm


class ResetForm(BaseForm):
    password, confirm = new_password_fields()


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(_l("Current password"), validators=[required(), max_length(1024)])
    password, confirm = new_password_fields()


class ProfileForm(BaseForm):
    name = StringField(
        _l("Full name"),
        validators=[required(), Length(min=2, max=120, message=_l("Between 2 and 120 characters."))],
    )
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
