"""Forms of associations: sign-up, profile, statutes, invitations, verification, directory filters."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from codev.accounts.forms import LANGUAGE_CHOICES, new_password_fields
from codev.accounts.services import email_taken
from codev.core.countries import country_choices, is_country
from codev.core.embassies import embassy_choices
from codev.core.forms import (
    BaseForm,
    WholeNumberField,
    email_address,
    max_length,
    no_control_characters,
    required,
    text_problem,
    web_address,
)
from codev.core.geography import region_choices
from codev.core.i18n import lazy_gettext as _l
from codev.core.numbers import digits_message, has_foreign_digits
from codev.core.sectors import sector_choices

STATUTES_HELP = _l("PDF, JPEG, PNG or Word (DOCX) file. You may also add it later.")


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (one per choice)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _at_least_one(form, field) -> None:
    if not field.data:
        raise ValidationError(_l("Tick at least one domain."))


def _valid_country(form, field) -> None:
    if field.data and not is_country(field.data):
        raise ValidationError(_l("Choose a country from the list."))


def _founding_year(form, field) -> None:
    this_year = date.today().year
    if field.data is not None and not 1900 <= field.data <= this_year:
        raise ValidationError(_l("A year between 1900 and %(year)s.", year=this_year))


def _phone(form, field) -> None:
    if field.data and has_foreign_digits(field.data):
        raise ValidationError(digits_message())
    if field.data and not all(c in "0123456789 +-.()/" for c in field.data):
        raise ValidationError(_l("Only digits, spaces and + - . ( ) are allowed."))


def _optional_text(label, n: int, **kwargs) -> StringField:
    return StringField(label, validators=[Optional(), max_length(n), no_control_characters], **kwargs)


class AssociationFields(BaseForm):
    """The association's profile, shared by the sign-up and the edit forms."""

    name = StringField(
        _l("Name of the association"),
        validators=[required(), max_length(200), no_control_characters],
    )
    acronym = _optional_text(_l("Acronym"), 30)
    country = SelectField(
        _l("Country of residence"), default="", validators=[required(), _valid_country]
    )
    city = StringField(_l("City"), validators=[required(), max_length(100), no_control_characters])
    embassy = SelectField(
        _l("Embassy jurisdiction"),
        default="",
        description=_l("Leave empty to use the embassy that covers the country of residence."),
    )
    registration_number = _optional_text(_l("Registration number"), 100)
    registration_authority = _optional_text(
        _l("Registration authority"), 200,
        description=_l("The office that registered the association (prefecture, court, registrar…)."),
    )
    founded_year = WholeNumberField(
        _l("Year founded"), validators=[Optional(), _founding_year], maximum=9999
    )
    members_count = WholeNumberField(
        _l("Number of members"), maximum=10_000_000,
        validators=[Optional(), NumberRange(min=1, message=_l("At least 1."))],
    )
    contact_phone = StringField(
        _l("Contact phone"), validators=[Optional(), max_length(40), _phone]
    )
    website = StringField(
        _l("Website"), validators=[Optional(), max_length(200), web_address(200)]
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), max_length(5000), no_control_characters],
        description=_l("What the association does, in a few sentences."),
    )
    home_region = SelectField(_l("Region of origin in Togo"), default="")
    domains = MultiCheckboxField(_l("Domains of competence"), validators=[_at_least_one])
    locale = SelectField(
        _l("Language of correspondence"), choices=LANGUAGE_CHOICES, default="fr",
        validators=[required()],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Names are in the reader's language, so choices are built per request.
        self.country.choices = [("", _l("— Choose a country —")), *country_choices()]
        self.embassy.choices = [("", _l("— From the country of residence —")), *embassy_choices()]
        self.home_region.choices = [("", "—"), *region_choices()]
        self.domains.choices = sector_choices()
        for select_field in (self.country, self.embassy, self.home_region):
            if select_field.data is None:  # a stored NULL is the empty choice
                select_field.data = ""

    def profile_data(self) -> dict[str, Any]:
        """The typed profile as plain data for the services."""
        names = (
            "name", "acronym", "country", "city", "embassy", "registration_number",
            "registration_authority", "founded_year", "members_count", "contact_phone", "website",
            "description", "home_region", "locale", "domains",
        )
        return {name: self[name].data for name in names}


class SignupForm(AssociationFields):
    """The association, its first member, optional statutes, and the acceptance box."""

    full_name = StringField(
        _l("Your full name"),
        validators=[required(), Length(min=2, max=120, message=_l("Between 2 and 120 characters.")),
                    no_control_characters],
    )
    email = EmailField(
        _l("Your email"), validators=[required(), email_address(), max_length(254)],
        description=_l("You will sign in with this address."),
    )
    password, confirm = new_password_fields()
    statutes = FileField(_l("Statutes of the association"), description=STATUTES_HELP)
    accept = BooleanField(
        _l("I certify that this information is correct and that I may represent the association."),
        validators=[DataRequired(message=_l("Tick this box to register the association."))],
    )

    def validate_email(self, field) -> None:
        if email_taken(field.data or ""):
            raise ValidationError(
                _l("An account already uses this email address. Sign in, or use another address.")
            )

    def member_data(self) -> dict[str, Any]:
        return {
            "name": self.full_name.data,
            "email": self.email.data,
            "password": self.password.data,
            "locale": self.locale.data,
        }


class ProfileForm(AssociationFields):
    """Editing the profile: the association's fields and its contact person."""

    contact_name = StringField(
        _l("Contact person"),
        validators=[required(), max_length(120), no_control_characters],
    )
    contact_email = EmailField(
        _l("Contact email"), validators=[required(), email_address(), max_length(254)]
    )

    def profile_data(self) -> dict[str, Any]:
        data = super().profile_data()
        data["contact_name"] = self.contact_name.data
        data["contact_email"] = self.contact_email.data
        return data


class StatutesForm(BaseForm):
    statutes = FileField(
        _l("Statutes of the association"),
        validators=[FileRequired(message=_l("Choose a file."))],
        description=STATUTES_HELP,
    )


class InviteForm(BaseForm):
    email = EmailField(
        _l("Email of the person to invite"),
        validators=[required(), email_address(), max_length(254)],
    )


class RejectForm(BaseForm):
    reason = TextAreaField(
        _l("Reason for the rejection"),
        validators=[
            required(),
            Length(min=5, max=2000, message=_l("Between 5 and 2000 characters.")),
            no_control_characters,
        ],
        description=_l("The members will read it: say what is missing or wrong."),
    )


class _InvitedEmail:
    """Stands in for an email field so the password rules can refuse the invited address."""

    def __init__(self, email: str | None):
        self.data = email


class AcceptInvitationForm(BaseForm):
    full_name = StringField(
        _l("Your full name"),
        validators=[required(), Length(min=2, max=120, message=_l("Between 2 and 120 characters.")),
                    no_control_characters],
    )
    password, confirm = new_password_fields()
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="fr", validators=[required()])

    def __init__(self, *args, invited_email: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = _InvitedEmail(invited_email)


class DirectoryFilterForm(BaseForm):
    """The directory's filters, read from the query string."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), max_length(100)],
                    description=_l("Name, acronym or city."))
    country = SelectField(_l("Country of residence"), validate_choice=False)
    embassy = SelectField(_l("Embassy jurisdiction"), validate_choice=False)
    domain = SelectField(_l("Domain"), validate_choice=False)
    all_statuses = BooleanField(_l("Show every status (pending and rejected too)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("All countries")), *country_choices()]
        self.embassy.choices = [("", _l("All jurisdictions")), *embassy_choices()]
        self.domain.choices = [("", _l("All domains")), *sector_choices()]
        for select_field in (self.country, self.embassy, self.domain):
            if isinstance(select_field.data, str) and text_problem(select_field.data, max_chars=100):
                select_field.data = ""  # a forged link (NUL, control characters) filters nothing
