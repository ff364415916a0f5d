"""Forms of the selection committee: a session, a decision, the minutes."""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import Optional

from codev.calls.forms import MultiCheckboxField, XofField
from codev.core.forms import BaseForm, choice_id, max_length, no_control_characters, required
from codev.core.i18n import lazy_gettext as _l
from codev.reviews.models import DECISION_OUTCOME_LABELS, DecisionOutcome
from codev.reviews.ranking import TIE_BREAK_LABELS, TIE_BREAKS

LONG_TEXT = 5000
MINUTES_TEXT = 50_000


class SessionForm(BaseForm):
    """A sitting of the committee: when, where, who, and how ties are broken."""

    call = SelectField(_l("Call"), coerce=choice_id, validators=[required()], choices=[])
    held_on = DateField(_l("Date of the session"), validators=[required()])
    place = StringField(_l("Place"), validators=[Optional(), max_length(200), no_control_characters])
    chair = StringField(_l("Chair"), validators=[Optional(), max_length(200), no_control_characters],
                        description=_l("Name and title of the person who chairs the committee."))
    members = TextAreaField(
        _l("Members"), validators=[required(), max_length(LONG_TEXT), no_control_characters],
        description=_l("One member per line: name, title and institution."),
        render_kw={"rows": 6},
    )
    tie_breaks = MultiCheckboxField(
        _l("When two projects have the same score"),
        choices=[(rule, TIE_BREAK_LABELS[rule]) for rule in TIE_BREAKS],
        default=["led_by_women", "least_funded_commune"],
        description=_l("The rules apply in this order; the project reference settles any remaining tie."),
    )

    def validate_tie_breaks(self, field) -> None:
        if any(rule not in TIE_BREAKS for rule in field.data or []):
            raise ValidationError(_l("Choose among the rules listed."))


class DecisionForm(BaseForm):
    """The committee's decision on one project."""

    outcome = SelectField(
        _l("Decision"), validators=[required()],
        choices=[("", _l("Choose…"))] + [(o.value, DECISION_OUTCOME_LABELS[o]) for o in DecisionOutcome],
    )
    amount = XofField(
        _l("Amount proposed (F CFA)"), optional=True,
        description=_l("For an approval: at most the grant requested, which it is when left as is."),
    )
    reason = TextAreaField(
        _l("Reasons"), validators=[required(), max_length(LONG_TEXT), no_control_characters],
        description=_l("The association reads them in the email that tells it the decision."),
        render_kw={"rows": 4},
    )
    conditions = TextAreaField(
        _l("Conditions"), validators=[Optional(), max_length(LONG_TEXT), no_control_characters],
        description=_l("Required for an approval with conditions."), render_kw={"rows": 3},
    )

    def limit_outcomes(self, allowed: list[DecisionOutcome]) -> None:
        self.outcome.choices = [("", _l("Choose…"))] + [(o.value, DECISION_OUTCOME_LABELS[o]) for o in allowed]

    def validate_conditions(self, field) -> None:
        if self.outcome.data == DecisionOutcome.CONDITIONALLY_APPROVED and not field.data:
            raise ValidationError(_l("Write the conditions of the approval."))


class MinutesForm(BaseForm):
    minutes = TextAreaField(
        _l("Minutes"), validators=[Optional(), max_length(MINUTES_TEXT), no_control_characters],
        description=_l("The account of the session, printed with the decisions. It can be changed until the "
                       "session is closed."),
        render_kw={"rows": 10},
    )
