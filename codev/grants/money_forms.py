"""Forms of a grant's money: contributions, decisions on them, disbursements, signatures, reports.

Amounts are typed as text: francs with ``parse_xof``, other currencies in cents with ``parse_minor``.
The forms that record something once (a declaration, a disbursement, a report) carry a hidden
idempotency key (:class:`SentOnce`: a fresh UUID each time the form is shown).
"""

from __future__ import annotations

import uuid

from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    DateField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Optional

from codev.calls.forms import XofField
from codev.core.forms import BaseForm, RowForm, WholeNumberField, choice_id, max_length, no_control_characters, required
from codev.core.i18n import lazy_gettext as _l
from codev.core.money import CURRENCIES, MoneyError, parse_minor, parse_xof
from codev.core.numbers import parse_id
from codev.grants.models import ReportKind
from codev.grants.reports.services import REPORT_KIND_LABELS
from codev.projects.models import FUNDING_SOURCE_LABELS, FundingSource

LONG_TEXT = 5000


def _date_required():
    return InputRequired(message=_l("Enter a date."))


class SentOnce:
    """A hidden idempotency key, fresh each time the form is shown: sent again, the form records nothing new.

    A mixin, not a form: the forms that record something once list it before their base form.
    """

    idempotency_key = HiddenField()

    def fresh_key(self) -> None:
        """A new key for a form being shown; a form shown again with its errors keeps the key it was sent with."""
        if not self.idempotency_key.data:
            self.idempotency_key.data = str(uuid.uuid4())


class ContributionForm(SentOnce, BaseForm):
    """The association declares money it brought, with its proof."""

    source = SelectField(_l("Who brought this money"),
                         choices=[(s.value, FUNDING_SOURCE_LABELS[s]) for s in FundingSource],
                         description=_l("Only the association's money (in cash, and in kind as far as the call "
                                        "counts it) counts toward the match; the others are recorded too."))
    currency = SelectField(_l("Currency"), choices=[(c, c) for c in CURRENCIES], default="XOF")
    amount = StringField(_l("Amount"), validators=[max_length(40)], render_kw={"inputmode": "decimal"},
                         description=_l("In the currency chosen; foreign amounts are converted at the rate of the "
                                        "value date, and both figures are kept."))
    value_date = DateField(_l("Value date"), validators=[_date_required()],
                           description=_l("The day the money was paid or the goods delivered."))
    proof = FileField(_l("Proof"), description=_l("Receipt, bank statement or photo: PDF, JPEG or PNG."))

    def validate_amount(self, field) -> None:
        try:
            if self.currency.data == "XOF":
                self.amount_minor = parse_xof(field.data)
            else:
                self.amount_minor = parse_minor(field.data)
        except MoneyError as exc:
            raise ValidationError(str(exc)) from exc


class ReasonForm(BaseForm):
    """Why a declaration is rejected, or a verified one reversed."""

    reason = TextAreaField(_l("Reason"), validators=[required(), max_length(2000), no_control_characters],
                           description=_l("The association reads this."))


class DisbursementForm(SentOnce, BaseForm):
    """An officer records money paid on a tranche (a request for a second signature above the threshold)."""

    tranche = SelectField(_l("Tranche"), coerce=choice_id, choices=[])
    amount = XofField(_l("Amount paid (F CFA)"))
    value_date = DateField(_l("Value date"), validators=[_date_required()])
    bank_reference = StringField(_l("Bank reference"), validators=[required(), max_length(80), no_control_characters])


class NoteForm(BaseForm):
    """Why an approver refuses a disbursement request."""

    note = TextAreaField(_l("Why it is refused"), validators=[required(), max_length(2000), no_control_characters])


class ExpenseForm(RowForm):
    """The amount spent on one budget line of the project during the period."""

    line_id = HiddenField()
    amount = XofField(_l("Spent (F CFA)"), optional=True, allow_zero=True)


class ReportForm(SentOnce, BaseForm):
    """The association files a progress or final report: the period, what was done, expenses, files."""

    kind = SelectField(_l("Kind of report"), choices=[(k.value, REPORT_KIND_LABELS[k]) for k in ReportKind])
    period_start = DateField(_l("Period from"), validators=[_date_required()])
    period_end = DateField(_l("Period to"), validators=[_date_required()])
    narrative = TextAreaField(_l("What was done"), validators=[required(), max_length(LONG_TEXT),
                                                                no_control_characters],
                              description=_l("Activities carried out, results, difficulties, next steps."))
    progress_pct = WholeNumberField(_l("Physical progress (%)"), maximum=100,
                                    message=_l("Enter a percentage between 0 and 100."),
                                    validators=[InputRequired(message=_l("Enter a percentage between 0 and 100."))])
    expenses = FieldList(FormField(ExpenseForm))
    files = MultipleFileField(_l("Photos and documents"), validators=[Optional()],
                              description=_l("PDF, JPEG, PNG, Word or Excel; at most 10 files."))

    def expense_amounts(self) -> dict[int, int]:
        amounts = {}
        for entry in self.expenses.entries:
            line_id = parse_id(entry.form.line_id.data)
            if line_id is None:
                continue
            amounts[line_id] = entry.form.amount.amount or 0
        return amounts


class CommentForm(BaseForm):
    """What the association should change in a returned report."""

    comment = TextAreaField(_l("What to change"), validators=[required(), max_length(2000), no_control_characters])


def expenses_data(project) -> list[dict]:
    """One empty row per budget line of the project."""
    return [{"line_id": str(line.id), "amount": ""} for line in project.budget_lines]

