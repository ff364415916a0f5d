"""Form helpers shared by every package: checked text, web and email addresses, whole numbers, ids.

Every text field of a :class:`BaseForm` (its row forms included) is checked before its own validators:
no NUL byte or other control character (newline and tab allowed in a text area), no lone surrogate, no
invisible bidirectional override, never more characters than its ``max_length`` (or :data:`MAX_TEXT`).
Each refusal is a message beside the field in the reader's language, and what was typed stays in the
field; odd input never reaches a parser, a service or the database. A field that reads its own text (an
amount, a percentage) opts out with ``checks_its_own_text = True``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from urllib.parse import urlsplit

import idna
from babel.support import Translations
from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import Form, HiddenField, SelectField, SelectFieldBase, StringField, TextAreaField
from wtforms.fields import FieldList, FormField
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation
from wtforms.widgets import Select, html_params

from codev.core.i18n import lazy_gettext as _l
from codev.core.i18n import locale_name
from codev.core.numbers import INT32_MAX, NumberError, parse_id, parse_whole

MAX_TEXT = 100_000  # no text field takes more, whatever its own limit
MAX_EMAIL = 254  # RFC 5321's limit on a forward path
MAX_URL = 2000
# Embeddings, overrides and isolates: invisible, they reorder what is shown ("‮fdp.exe" for "exe.pdf").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_STRIPPED = {"StringField", "TextAreaField", "EmailField", "SearchField"}
_URL_FORBIDDEN = frozenset('<>"`{}|\\^[]')
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def text_problem(value: str, *, multiline: bool = False, max_chars: int = MAX_TEXT) -> str | None:
    """Why ``value`` cannot be kept as typed text (a translated message), or None when it can."""
    if len(value) > max_chars:
        return _l("At most %(max)d characters.", max=max_chars)
    allowed = "\n\r\t" if multiline else ""
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":
            return _l("This text contains characters that are not valid text.")
        if (category == "Cc" or char in "\u2028\u2029") and char not in allowed:
            return _l("This text contains invisible control characters.")
        if char in BIDI_CONTROLS:
            return _l("This text contains invisible characters that change its direction.")
    return None


def _max_chars(field) -> int:
    limits = [v.max for v in field.validators if isinstance(v, Length) and v.max is not None and v.max >= 0]
    return min([MAX_TEXT, *limits])


def checked_text(form, field) -> None:
    """The rule every text field follows (see the module's docstring); stops its other validators."""
    if not isinstance(field.data, str) or not field.data:
        return
    problem = text_problem(field.data, multiline=isinstance(field, TextAreaField), max_chars=_max_chars(field))
    if problem:
        raise StopValidation(problem)


no_control_characters = checked_text  # the name the forms used first


def _guard_fields(fields) -> None:
    for field in fields:
        if isinstance(field, FormField):
            _guard_fields(field.form)
        elif isinstance(field, FieldList):
            _guard_fields(field.entries)
        elif isinstance(field, HiddenField):
            # Never typed by a person: a tampered value is dropped rather than shown as an error.
            if isinstance(field.data, str) and text_problem(field.data, max_chars=MAX_URL):
                field.data = ""
        elif isinstance(field, StringField) and not getattr(field, "checks_its_own_text", False):
            field.validators = [checked_text, *field.validators]
        elif isinstance(field, SelectFieldBase) and not getattr(field, "validate_choice", True):
            field.validators = [checked_text, *field.validators]


class OptionsOnce(Select):
    """WTForms' select, whose options are rendered once for a list of choices and the value chosen.

    The filter forms carry long lists (some 250 countries, the regions, the sectors, the calls) and WTForms
    renders each option again on every request (a fifth of a list page's own time). The rendered options
    are kept, for the last lists seen, by the exact choices, the value and how the field reads it; anything
    else (groups, choices with their own attributes, labels that are not plain text) is rendered as
    WTForms does."""

    KEPT = 256

    def __init__(self):
        super().__init__()
        self._rendered: dict = {}

    def __call__(self, field, **kwargs):
        key = self._key(field)
        if key is None:
            return super().__call__(field, **kwargs)
        options = self._rendered.get(key)
        if options is None:
            options = "".join(self.render_option(value, label, selected, **render_kw)
                              for value, label, selected, render_kw in field.iter_choices())
            if len(self._rendered) >= self.KEPT:
                self._rendered.clear()  # the lists a programme shows are few: start again rather than track use
            self._rendered[key] = options
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in self.validation_attrs:
            if name not in kwargs and getattr(flags, name, False):
                kwargs[name] = getattr(flags, name)
        # html_params escapes every attribute; the options are WTForms' own render_option, escaped.
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")  # noqa: S704

    @staticmethod
    def _key(field):
        choices = field.choices
        if not isinstance(choices, list | tuple) or field.has_groups():
            return None
        if not all(isinstance(c, tuple) and len(c) == 2 and type(c[1]) is str for c in choices):
            return None
        key = (tuple(choices), field.data, field.coerce)
        try:
            hash(key)
        except TypeError:  # a value that cannot be a key
            return None
        return key


_OPTIONS_ONCE = OptionsOnce()


def _bind_field(form, unbound_field, options):
    filters = unbound_field.kwargs.get("filters", [])
    if unbound_field.field_class.__name__ in _STRIPPED:
        filters = [_strip, *filters]
    if unbound_field.field_class is SelectField and "widget" not in unbound_field.kwargs:
        options = {**options, "widget": _OPTIONS_ONCE}
    return unbound_field.bind(form=form, filters=filters, **options)


@cache
def _wtforms_catalogue(locale: str) -> Translations:
    return Translations.load(messages_path(), [locale], domain="wtforms")


class WTFormsMessages:
    """WTForms' own messages ("Not a valid choice.") in the language being rendered, each language's catalogue
    read once per process: Flask-WTF reads it from disk again in every request that builds a form."""

    def gettext(self, string: str) -> str:
        return _wtforms_catalogue(locale_name()).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalogue(locale_name()).ungettext(singular, plural, n)


_WTFORMS_MESSAGES = WTFormsMessages()


class BaseForm(FlaskForm):
    """Strips surrounding spaces from every text field and checks every text field (see above)."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            return _bind_field(form, unbound_field, options)

        def get_translations(self, form):
            return _WTFORMS_MESSAGES

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _guard_fields(self)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        _restore_typed(self)
        return ok


def _restore_typed(fields) -> None:
    """A field refused after a validator normalised it shows again what the person typed."""
    for field in fields:
        if isinstance(field, FormField):
            _restore_typed(field.form)
        elif isinstance(field, FieldList):
            _restore_typed(field.entries)
        elif field.errors and getattr(field, "typed_text", None) is not None:
            field.data = field.typed_text


def _normalised(field, value: str) -> None:
    field.typed_text, field.data = field.data, value


class RowForm(Form):
    """A row of a list inside a BaseForm (no CSRF of its own; texts trimmed and checked like BaseForm's)."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            return _bind_field(form, unbound_field, options)

        def get_translations(self, form):
            return _WTFORMS_MESSAGES


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def required():
    return DataRequired(message=_l("This field is required."))


def required_input():
    """Required, where 0 is an answer (a number field): only an empty field is refused."""
    return InputRequired(message=_l("This field is required."))


def max_length(n: int):
    return Length(max=n, message=_l("At most %(max)d characters.", max=n))


# --- email and web addresses --------------------------------------------------------------------


def _address_text(value: object, max_chars: int) -> str | None:
    """What both address validators check first: a string within ``max_chars``, no control or
    bidirectional characters; returned normalised (NFKC), or None when the field is empty."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) > max_chars:
        raise StopValidation(_l("At most %(max)d characters.", max=max_chars))
    problem = text_problem(value)
    if problem:
        raise StopValidation(problem)
    return unicodedata.normalize("NFKC", value)


def email_address(max_chars: int = MAX_EMAIL):
    """The one email validator: one address alone, checked by email-validator; keeps it normalised."""

    def check(form, field) -> None:
        value = _address_text(field.data, max_chars)
        if value is None:
            return
        if any(c in value for c in '<>"') or any(c.isspace() for c in value):
            raise StopValidation(_l("Type the address alone, like name@example.org, without a name or spaces."))
        try:
            result = validate_email(value, check_deliverability=False, allow_smtputf8=False,
                                    allow_display_name=False, allow_quoted_local=False, allow_domain_literal=False)
        except (EmailNotValidError, UnicodeError, ValueError) as exc:
            raise StopValidation(_l("Enter a valid email address, like name@example.org.")) from exc
        normalised = result.ascii_email or result.normalized
        if len(normalised) > max_chars:
            raise StopValidation(_l("At most %(max)d characters.", max=max_chars))
        _normalised(field, normalised)

    return check


def _bad_address():
    return StopValidation(_l("Enter a web address, like www.example.org."))


def _wrong_scheme():
    return StopValidation(_l("Enter a web address that starts with http:// or https://, like www.example.org."))


def web_address(max_chars: int = MAX_URL):
    """The one URL validator: an http(s) address whose domain name is valid; keeps it normalised (NFKC).

    "www.example.org" becomes "https://www.example.org". Refused: other schemes ("javascript:"), a name
    and password before the domain, brackets and other characters no address holds, spaces, control
    and bidirectional characters, domain names that IDNA cannot encode, more than ``max_chars``.
    """

    def check(form, field) -> None:
        value = _address_text(field.data, max_chars)
        if value is None:
            return
        if any(c.isspace() for c in value):
            raise StopValidation(_l("A web address has no spaces."))
        if any(c in _URL_FORBIDDEN for c in value) or text_problem(value):
            raise StopValidation(_l("This web address contains characters that no address holds, such as [ ] < >."))
        if "://" not in value:
            if _SCHEME.match(value) and not re.match(r"[^:/]+:[0-9]", value):
                raise _wrong_scheme()
            value = "https://" + value
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError as exc:
            raise _bad_address() from exc
        if parts.scheme.lower() not in ("http", "https"):
            raise _wrong_scheme()
        if "@" in parts.netloc:
            raise StopValidation(_l("A web address has no name or password before its domain."))
        host = (parts.hostname or "").rstrip(".")
        labels = host.split(".")
        if len(labels) < 2 or not all(labels) or labels[-1].isdigit() or port == 0:
            raise _bad_address()
        try:
            idna.encode(host, uts46=True)
        except (idna.IDNAError, UnicodeError, ValueError) as exc:
            raise StopValidation(_l("The domain name of this web address is not valid.")) from exc
        normalised = parts._replace(scheme=parts.scheme.lower()).geturl()
        if len(normalised) > max_chars:
            raise StopValidation(_l("At most %(max)d characters.", max=max_chars))
        _normalised(field, normalised)

    return check


# --- numbers ------------------------------------------------------------------------------------


class WholeNumberField(StringField):
    """A whole number typed as text ("1 200"), read by :func:`codev.core.numbers.parse_whole`.

    ``data`` (and ``number``) is the integer, None when left empty; what was typed stays in the field
    when it is refused. ``message`` replaces the wording of every refusal but the one of foreign digits.
    """

    checks_its_own_text = True

    def __init__(self, label=None, validators=None, *, minimum: int = 0, maximum: int = INT32_MAX,
                 message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum, self.message = minimum, maximum, message
        self.render_kw = {"inputmode": "numeric", **(self.render_kw or {})}

    @property
    def number(self) -> int | None:
        return self.data

    def process_data(self, value) -> None:
        self.data = value if isinstance(value, int) and not isinstance(value, bool) else None

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            return
        typed = valuelist[0].strip() if isinstance(valuelist[0], str) else ""
        self.raw_data, self.data = [typed], None
        if not typed:
            return
        message = str(self.message) if self.message else None
        try:
            self.data = parse_whole(typed, minimum=self.minimum, maximum=self.maximum, message=message,
                                    range_message=message)
        except NumberError as exc:
            raise ValueError(str(exc)) from exc

    def pre_validate(self, form) -> None:
        if self.process_errors:
            raise StopValidation()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


def choice_id(value) -> int:
    """``coerce`` of a select of ids: the digits 0 to 9 only (anything else is an invalid choice)."""
    number = parse_id(value)
    if number is None:
        raise ValueError(value)
    return number
