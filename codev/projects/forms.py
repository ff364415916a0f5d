"""Forms of the application: one per step, plus start, attachments, return, withdrawal and the list filters.

Money is typed as text and parsed with :mod:`codev.core.money` (``XofField`` for francs; foreign amounts
in cents with ``parse_minor`` and converted at today's rate with :func:`codev.calls.rules.to_xof`).
Budget and financing lines are a list of rows; empty rows are ignored, so the page works without
JavaScript ("Add lines" only shows more empty rows).
"""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import Length, Optional

from codev.calls.forms import XofField
from codev.calls.models import ATTACHMENT_KIND_LABELS, AttachmentKind
from codev.calls.rules import to_xof
from codev.core.forms import (
    BaseForm,
    RowForm,
    WholeNumberField,
    max_length,
    no_control_characters,
    required,
    required_input,
)
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.money import CURRENCIES, MAX_XOF, MoneyError, parse_minor, parse_xof, typed_minor, typed_xof
from codev.core.timeutil import utcnow
from codev.projects.models import (
    BUDGET_CATEGORY_LABELS,
    FUNDING_SOURCE_LABELS,
    PROJECT_STATUS_LABELS,
    BudgetCategory,
    FundingSource,
)
from codev.projects.services import (
    MAX_BUDGET_LINES,
    MAX_FINANCING_LINES,
    BudgetLineData,
    FinancingLineData,
    too_many_budget_lines,
)

LONG_TEXT = 5000
MAX_BENEFICIARIES = 10_000_000

PARTNER_KINDS = [
    ("commune", _l("The commune")),
    ("committee", _l("A village or community development committee")),
    ("other", _l("Another local organisation")),
]


def text(label, n: int, *, optional: bool = False, **kwargs):
    """A trimmed text field of at most ``n`` characters, without control characters."""
    first = Optional() if optional else required()
    return StringField(label, validators=[first, max_length(n), no_control_characters], **kwargs)


def long_text(label, *, optional: bool = False, **kwargs):
    first = Optional() if optional else required()
    return TextAreaField(label, validators=[first, max_length(LONG_TEXT), no_control_characters], **kwargs)


class StartForm(BaseForm):
    title = text(_l("Title of the project"), 200, description=_l("You can change it later."))


class GeneralForm(BaseForm):
    version = HiddenField()
    title = text(_l("Title of the project"), 200)
    sector = SelectField(_l("Sector"), choices=[], validators=[required()])
    summary = long_text(_l("Summary"), description=_l("In a few sentences: what, where, for whom."))
    led_by_women = BooleanField(_l("The project is led by women"))

    def data_for(self) -> dict:
        return {"title": self.title.data, "sector": self.sector.data, "summary": self.summary.data,
                "led_by_women": bool(self.led_by_women.data)}


class LocationForm(BaseForm):
    version = HiddenField()
    region = HiddenField()
    prefecture = HiddenField()
    # Checked by the service (commune_by_name, the call's regions) so the refusal says why in words.
    commune = SelectField(_l("Commune"), choices=[], validators=[required()], validate_choice=False)
    village = text(_l("Village or canton"), 120, optional=True)
    local_partner_name = text(_l("Local partner"), 200,
                              description=_l("The commune, or the committee that will run the project on site."))
    local_partner_kind = SelectField(_l("Kind of local partner"), choices=PARTNER_KINDS, validators=[required()])
    local_partner_commitment = long_text(
        _l("Commitment of the local partner"),
        description=_l("What the local partner brings: land, labour, upkeep, management after the works."),
    )

    def data_for(self) -> dict:
        return {name: getattr(self, name).data or None for name in (
            "commune", "village", "local_partner_name", "local_partner_kind", "local_partner_commitment")}


class DescriptionForm(BaseForm):
    version = HiddenField()
    problem = long_text(_l("The problem the project solves"))
    objectives = long_text(_l("Objectives"))
    activities = long_text(_l("Activities"), description=_l("The main activities, in the order they happen."))
    beneficiaries_total = WholeNumberField(_l("Beneficiaries in all"), validators=[required_input()], minimum=1,
                                           maximum=MAX_BENEFICIARIES)
    beneficiaries_women = WholeNumberField(_l("Of whom women"), validators=[required_input()],
                                           maximum=MAX_BENEFICIARIES)
    beneficiaries_youth = WholeNumberField(_l("Of whom young people (15–35)"), validators=[required_input()],
                                           maximum=MAX_BENEFICIARIES)
    start_date = DateField(_l("Planned start"), validators=[required()])
    duration_months = WholeNumberField(_l("Duration in months"), validators=[required_input()], minimum=1,
                                       maximum=120)

    def validate_beneficiaries_women(self, field) -> None:
        _within_total(self, field)

    def validate_beneficiaries_youth(self, field) -> None:
        _within_total(self, field)

    def data_for(self) -> dict:
        return {
            "problem": self.problem.data, "objectives": self.objectives.data, "activities": self.activities.data,
            "beneficiaries_total": self.beneficiaries_total.number,
            "beneficiaries_women": self.beneficiaries_women.number,
            "beneficiaries_youth": self.beneficiaries_youth.number,
            "start_date": self.start_date.data, "duration_months": self.duration_months.number,
        }


def _within_total(form, field) -> None:
    total = form.beneficiaries_total.number
    if total is not None and field.number is not None and field.number > total:
        raise ValidationError(_l("Cannot be more than the total number of beneficiaries."))


class BudgetLineForm(RowForm):
    """One budget line; a row left empty is ignored."""

    category = SelectField(_l("Category"), choices=[(c.value, BUDGET_CATEGORY_LABELS[c]) for c in BudgetCategory])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=300, message=_l(
        "At most %(max)d characters.", max=300)), no_control_characters])
    quantity = WholeNumberField(_l("Quantity"), minimum=1, maximum=1_000_000_000)
    unit_cost = XofField(_l("Unit cost (F CFA)"))
    remove = BooleanField(_l("Remove this line"))

    def is_blank(self) -> bool:
        return all(not field._value().strip() for field in (self.description, self.quantity, self.unit_cost))

    def validate(self, extra_validators=None) -> bool:
        self.line = None
        if self.remove.data or self.is_blank():
            return True
        super().validate(extra_validators)
        for field in (self.description, self.quantity):
            if not field.errors and not field.data:
                field.errors.append(_("This field is required."))
        if self.errors:
            return False
        amount = self.quantity.number * self.unit_cost.amount
        if amount > MAX_XOF:
            self.unit_cost.errors.append(_("This line's amount is too large."))
            return False
        self.line = BudgetLineData(self.category.data, self.description.data.strip(), self.quantity.number,
                                   self.unit_cost.amount)
        return True


class BudgetForm(BaseForm):
    version = HiddenField()
    lines = FieldList(FormField(BudgetLineForm))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        kept = [entry.form.line for entry in self.lines.entries if getattr(entry.form, "line", None)]
        if len(kept) > MAX_BUDGET_LINES:
            self.form_errors.append(too_many_budget_lines())
            return False
        if ok and not kept:
            self.form_errors.append(_("Add at least one budget line."))
            return False
        self.parsed = kept
        return ok


class FinancingLineForm(RowForm):
    """One source of the financing plan; a row left empty is ignored."""

    source = SelectField(_l("Source"), choices=[(s.value, FUNDING_SOURCE_LABELS[s]) for s in FundingSource])
    description = StringField(_l("Who exactly"), validators=[Optional(), Length(max=300, message=_l(
        "At most %(max)d characters.", max=300)), no_control_characters])
    currency = SelectField(_l("Currency"), choices=[(c, c) for c in CURRENCIES], default="XOF")
    amount = StringField(_l("Amount"), validators=[max_length(40)], render_kw={"inputmode": "decimal"})
    remove = BooleanField(_l("Remove this line"))

    def is_blank(self) -> bool:
        return not (self.amount.data or "").strip() and not (self.description.data or "").strip()

    def validate(self, extra_validators=None) -> bool:
        self.line = None
        if self.remove.data or self.is_blank():
            return True
        if not super().validate(extra_validators):
            return False
        currency = self.currency.data
        try:
            if currency == "XOF":
                minor = xof = parse_xof(self.amount.data)
                rate = 1_000_000
            else:
                minor = parse_minor(self.amount.data)
                xof, rate = to_xof(minor, currency, utcnow().date())
            if xof > MAX_XOF:
                raise MoneyError(_("This amount is too large."))
            if xof <= 0:
                raise MoneyError(_("The amount must be greater than zero."))
        except MoneyError as exc:
            self.amount.errors.append(str(exc))
            return False
        self.line = FinancingLineData(self.source.data, (self.description.data or "").strip() or None, currency,
                                      minor, rate, xof)
        return True


class FinancingForm(BaseForm):
    version = HiddenField()
    lines = FieldList(FormField(FinancingLineForm))
    requested_grant = XofField(_l("Grant requested from the ministry (F CFA)"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        kept = [entry.form.line for entry in self.lines.entries if getattr(entry.form, "line", None)]
        if len(kept) > MAX_FINANCING_LINES:
            self.form_errors.append(_("A financing plan has at most %(n)s lines.", n=MAX_FINANCING_LINES))
            return False
        self.parsed = kept
        return ok


def budget_form_data(project) -> dict:
    return {"version": project.version, "lines": [
        {"category": line.category, "description": line.description, "quantity": line.quantity,
         "unit_cost": line.unit_cost_xof} for line in project.budget_lines]}


def financing_form_data(project) -> dict:
    return {"version": project.version, "requested_grant": project.requested_grant_xof or "", "lines": [
        {"source": line.source, "description": line.description, "currency": line.currency,
         "amount": typed_xof(line.amount_minor) if line.currency == "XOF" else typed_minor(line.amount_minor)}
        for line in project.financing_lines]}


class AttachmentForm(BaseForm):
    kind = SelectField(_l("Kind of document"), choices=[(k.value, ATTACHMENT_KIND_LABELS[k]) for k in AttachmentKind])
    file = FileField(
        _l("File"), validators=[FileRequired(message=_l("Choose a file to send."))],
        description=_l("PDF, JPEG, PNG, Word (.docx) or Excel (.xlsx)."),
    )


class VersionForm(BaseForm):
    version = HiddenField()


class ReturnForm(BaseForm):
    message = TextAreaField(
        _l("What the association must change"),
        validators=[required(), max_length(LONG_TEXT), no_control_characters],
    )


class WithdrawForm(BaseForm):
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), max_length(LONG_TEXT),
                                                               no_control_characters])


class FilterForm(BaseForm):
    """Filters of the ministry's list of projects (GET, no CSRF)."""

    class Meta:
        csrf = False

    call = SelectField(_l("Call"), choices=[], validators=[Optional()])
    status = SelectField(_l("Status"), validators=[Optional()],
                         choices=[("", _l("All"))] + [(s.value, label) for s, label in PROJECT_STATUS_LABELS.items()])
    region = SelectField(_l("Region"), choices=[], validators=[Optional()])
    sector = SelectField(_l("Sector"), choices=[], validators=[Optional()])
    country = SelectField(_l("Country of the association"), choices=[], validators=[Optional()])

    def values(self) -> dict:
        """The filters that passed validation (an unknown value is ignored, never a 500)."""
        return {name: field.data for name, field in self._fields.items() if field.data and not field.errors}
