"""Forms of the administration: users and their roles, partner structures, list filters."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    ValidationError,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from codev.accounts.admin import services
from codev.accounts.forms import LANGUAGE_CHOICES
from codev.accounts.models import Role, StructureKind
from codev.accounts.services import email_taken
from codev.core.forms import BaseForm, choice_id, email_address, max_length, no_control_characters, required
from codev.core.geography import region_choices
from codev.core.i18n import lazy_gettext as _l
from codev.core.sectors import sector_choices


def optional_int(value):
    """Coerce a select's value to an id, the empty choice to None (a bad value fails validation)."""
    if value in (None, "", "None"):
        return None
    return choice_id(value)


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, role.label) for role in Role]


class _OptionalCheckbox(CheckboxInput):
    # A required list means "at least one box", not "every box": no `required` on each input.
    validation_attrs = ["disabled"]


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (rendered by the ``field`` macro like any other field)."""

    widget = ListWidget(prefix_label=False)
    option_widget = _OptionalCheckbox()


class UserEditForm(BaseForm):
    name = StringField(_l("Full name"), validators=[required(), max_length(120), no_control_characters])
    role = SelectField(_l("Role"))
    locale = SelectField(
        _l("Language"), choices=LANGUAGE_CHOICES,
        description=_l("The language of the emails this person receives."),
    )
    title = StringField(
        _l("Job title"), validators=[max_length(120), no_control_characters],
        description=_l("Printed under the signature of an approver."),
    )
    partner_structure_id = SelectField(
        _l("Partner structure"), coerce=optional_int,
        description=_l("Required for an evaluator."),
    )
    association_id = SelectField(
        _l("Association"), coerce=optional_int,
        description=_l("Required for an association member."),
    )
    active = BooleanField(_l("Active (can sign in)"))

    def __init__(self, *args, structure_id: int | None = None, association_id: int | None = None,
                 **kwargs):
        """``structure_id`` and ``association_id``: the user's current links, kept selectable."""
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()
        none = [("", "—")]
        self.partner_structure_id.choices = none + services.structure_choices(include_id=structure_id)
        self.association_id.choices = none + services.association_choices(include_id=association_id)

    def validate_partner_structure_id(self, field) -> None:
        if self.role.data == Role.EVALUATOR and not field.data:
            raise ValidationError(_l("An evaluator belongs to a partner structure: choose it."))

    def validate_association_id(self, field) -> None:
        if self.role.data == Role.ASSOCIATION and not field.data:
            raise ValidationError(_l("An association member belongs to an association: choose it."))

    def user_data(self) -> dict:
        """The values the services take, by name."""
        names = ("name", "role", "locale", "title", "partner_structure_id", "association_id")
        data = {name: getattr(self, name).data for name in names}
        if "active" in self._fields:
            data["active"] = self.active.data
        return data


class UserCreateForm(UserEditForm):
    email = EmailField(_l("Email"), validators=[required(), email_address(), max_length(254)])
    active = None  # a new account is active; it receives a link to choose its password

    def validate_email(self, field) -> None:
        if field.data and email_taken(field.data):
            raise ValidationError(_l("A user with this email address already exists."))


class UserFilterForm(BaseForm):
    """The filters of the users list (GET, no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Name or email"), validators=[max_length(100)])
    role = SelectField(_l("Role"), validators=[Optional()])
    active = SelectField(
        _l("Status"),
        choices=[("", _l("All")), ("1", _l("Active")), ("0", _l("Deactivated"))],
        validators=[Optional()],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [("", str(_l("All roles"))), *role_choices()]


class AtLeastOne:
    """At least one box of a multi-checkbox ticked (flags the field as required)."""

    field_flags = {"required": True}

    def __init__(self, message) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if not field.data:
            raise ValidationError(self.message)


class StructureForm(BaseForm):
    name = StringField(_l("Name"), validators=[required(), max_length(200), no_control_characters])
    acronym = StringField(_l("Acronym"), validators=[max_length(30), no_control_characters])
    kind = SelectField(_l("Kind"))
    email = EmailField(_l("Email"), validators=[Optional(), email_address(), max_length(254)])
    phone = StringField(_l("Phone"), validators=[max_length(40), no_control_characters])
    regions = MultiCheckboxField(
        _l("Regions of competence"),
        validators=[AtLeastOne(_l("Tick at least one region of competence."))],
    )
    sectors = MultiCheckboxField(
        _l("Sectors"), validators=[AtLeastOne(_l("Tick at least one sector."))]
    )
    active = BooleanField(_l("Active (its evaluators can be assigned)"), default=True)

    def __init__(self, *args, structure_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.structure_id = structure_id
        self.kind.choices = [(kind.value, kind.label) for kind in StructureKind]
        self.regions.choices = region_choices()
        self.sectors.choices = sector_choices()

    def validate_name(self, field) -> None:
        if field.data and services.structure_name_taken(field.data, exclude_id=self.structure_id):
            raise ValidationError(_l("Another partner structure already has this name."))

    def structure_data(self) -> dict:
        names = ("name", "acronym", "kind", "email", "phone", "active", "regions", "sectors")
        return {name: getattr(self, name).data for name in names}


class StructureFilterForm(BaseForm):
    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), validators=[Optional()])
    active = SelectField(
        _l("Status"),
        choices=[("", _l("All")), ("1", _l("Active")), ("0", _l("Deactivated"))],
        validators=[Optional()],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", str(_l("All kinds")))] + [(k.value, k.label) for k in StructureKind]
