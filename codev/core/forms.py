"""Form helpers shared by every package: trimmed strings, clear messages, common validators."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import ValidationError
from wtforms.validators import DataRequired, Email, Length


class BaseForm(FlaskForm):
    """Strips surrounding spaces from every text field."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", [])
            if unbound_field.field_class.__name__ in {"StringField", "TextAreaField", "EmailField"}:
                filters = [_strip, *filters]
            return unbound_field.bind(form=form, filters=filters, **options)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def required():
    return DataRequired(message=_l("This field is required."))


def max_length(n: int):
    return Length(max=n, message=_l("At most %(max)d characters.", max=n))


def email_address():
    return Email(message=_l("Enter a valid email address, like name@example.org."), check_deliverability=False)


def no_control_characters(form, field) -> None:
    if field.data and any(ord(c) < 32 and c not in "\n\r\t" for c in field.data):
        raise ValidationError(_l("This text contains invisible control characters."))
