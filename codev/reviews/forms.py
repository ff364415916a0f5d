"""Forms of the reviews: screening checklist, assignments, the declaration, the scoring grid, list filters.

Scores are typed as text and parsed here (:class:`ScoreField`) so that "abc", "7.5" or "12" on a
scale of 10 get a clear message beside the field rather than a generic one. The grid is built per call
(one score and one comment per criterion) by :func:`evaluation_form`.
"""

from __future__ import annotations

from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import InputRequired, Optional

from codev.calls.models import Criterion
from codev.core.forms import BaseForm, WholeNumberField, max_length, no_control_characters, required
from codev.core.i18n import lazy_gettext as _l
from codev.core.numbers import parse_id
from codev.core.timeutil import utcnow
from codev.reviews.evaluations import EvaluationData
from codev.reviews.models import RECOMMENDATION_LABELS, Evaluation
from codev.reviews.screening import ITEMS, Confirmation

LONG_TEXT = 5000


def _optional_text(label, n: int = LONG_TEXT, **kwargs):
    return TextAreaField(label, validators=[Optional(), max_length(n), no_control_characters], **kwargs)


class DueDateField(DateField):
    """A date typed in the browser's date picker (YYYY-MM-DD), with a message in the reader's language."""

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date, like 2026-03-31.")) from None


# --- screening ---------------------------------------------------------------------------------

OUTCOMES = [
    ("eligible", _l("Eligible: the project goes to evaluation")),
    ("ineligible", _l("Ineligible: the project stops here (give the reasons)")),
    ("returned", _l("Returned for changes (say what to change)")),
]


class ScreeningForm(BaseForm):
    """One confirmation and one comment per checklist item (added below), the outcome, the message."""

    outcome = RadioField(_l("Decision"), choices=OUTCOMES, validators=[required()])
    message = _optional_text(
        _l("Reasons of the ineligibility, or changes to make"),
        description=_l("Sent to the association and shown on the project's history."),
    )

    def confirmations(self) -> dict[str, Confirmation]:
        return {
            item.code: Confirmation(bool(self[f"confirm_{item.code}"].data),
                                    (self[f"comment_{item.code}"].data or "").strip() or None)
            for item in ITEMS
        }


for _item in ITEMS:
    setattr(ScreeningForm, f"confirm_{_item.code}", BooleanField(_item.label))
    setattr(ScreeningForm, f"comment_{_item.code}", StringField(
        _l("Comment"), validators=[Optional(), max_length(1000), no_control_characters]))
del _item


def screening_form_data(items) -> dict:
    """Tick by default the items computed as met (the officer unticks what they do not confirm)."""
    return {f"confirm_{item.code}": item.met for item in items}


# --- assignments -------------------------------------------------------------------------------


class AssignForm(BaseForm):
    evaluator = SelectField(_l("Evaluator"), choices=[], validators=[required()])
    due_on = DueDateField(_l("Due date"), validators=[InputRequired(message=_l("This field is required."))])

    def validate_due_on(self, field) -> None:
        if field.data and field.data < utcnow().date():
            raise ValidationError(_l("The due date cannot be in the past."))


class BulkAssignForm(BaseForm):
    due_on = DueDateField(_l("Due date"), validators=[InputRequired(message=_l("This field is required."))])

    def validate_due_on(self, field) -> None:
        if field.data and field.data < utcnow().date():
            raise ValidationError(_l("The due date cannot be in the past."))


class ActionForm(BaseForm):
    """A POST button: only the CSRF token."""


# --- the evaluator -----------------------------------------------------------------------------

DECLARATIONS = [
    ("none", _l("I have no conflict of interest with this project or its association")),
    ("conflict", _l("I have a conflict of interest: I withdraw from this evaluation")),
]


class DeclarationForm(BaseForm):
    declaration = RadioField(_l("Your declaration"), choices=DECLARATIONS, validators=[required()])
    note = _optional_text(_l("Explanation (optional)"), 1000,
                          description=_l("For a conflict: your link with the association or the project."))


class ScoreField(WholeNumberField):
    """A score typed as text; ``number`` is the parsed whole number from 0 to ``maximum`` (None when empty)."""

    def __init__(self, label=None, validators=None, *, maximum: int = 10, **kwargs):
        message = _l("Enter a whole number from 0 to %(max)s.", max=maximum)
        super().__init__(label, validators, minimum=0, maximum=maximum, message=message, **kwargs)


class EvaluationFormBase(BaseForm):
    overall_comment = _optional_text(_l("Overall comment"),
                                     description=_l("Strengths, weaknesses, and any reservation for the committee."))
    recommendation = SelectField(
        _l("Recommendation"), validators=[Optional()],
        choices=[("", _l("Choose…"))] + [(r.value, label) for r, label in RECOMMENDATION_LABELS.items()],
    )

    criteria: list[Criterion] = []

    def evaluation_data(self) -> EvaluationData:
        return EvaluationData(
            scores={c.id: self[f"score_{c.id}"].number for c in self.criteria},
            comments={c.id: self[f"comment_{c.id}"].data for c in self.criteria},
            overall_comment=self.overall_comment.data,
            recommendation=self.recommendation.data or None,
        )

    def score_fields(self):
        return [(c, self[f"score_{c.id}"], self[f"comment_{c.id}"]) for c in self.criteria]


def evaluation_form(criteria: list[Criterion], locale: str, evaluation: Evaluation | None = None) -> EvaluationFormBase:
    """The grid of ``criteria`` in ``locale``, filled from ``evaluation`` (or, on a POST, from what was typed)."""

    class EvaluationForm(EvaluationFormBase):
        pass

    for c in criteria:
        guidance = c.guidance(locale)
        scale = _l("Score from 0 to %(max)s; weight %(weight)s out of 100.", max=c.max_score, weight=c.weight)
        setattr(EvaluationForm, f"score_{c.id}", ScoreField(  # the fieldset's legend names the criterion
            _l("Score"), maximum=c.max_score,
            description=f"{guidance} — {scale}" if guidance else scale,
            render_kw={"inputmode": "numeric", "autocomplete": "off", "class": "score-input",
                       "data-criterion": str(c.id), "data-weight": str(c.weight), "data-max": str(c.max_score),
                       "size": "4"},
        ))
        setattr(EvaluationForm, f"comment_{c.id}", _optional_text(_l("Comment on this criterion"), 2000,
                                                                   render_kw={"rows": "2"}))
    data = {}
    if evaluation is not None:
        data = {"overall_comment": evaluation.overall_comment, "recommendation": evaluation.recommendation or ""}
        for row in evaluation.scores:
            data[f"score_{row.criterion_id}"] = row.score
            data[f"comment_{row.criterion_id}"] = row.comment
    form = EvaluationForm(data=data)
    form.criteria = list(criteria)
    return form


# --- list filters (GET, no CSRF) ------------------------------------------------------------------


class CallFilterForm(BaseForm):
    class Meta:
        csrf = False

    call = SelectField(_l("Call"), choices=[], validators=[Optional()])

    def call_id(self) -> int | None:
        return parse_id(self.call.data) if not self.call.errors else None


NEEDS = [("", _l("All")), ("assign", _l("Evaluators to assign")), ("late", _l("Evaluations late"))]


class InReviewFilterForm(CallFilterForm):
    need = SelectField(_l("Show"), choices=NEEDS, validators=[Optional()])

    def need_value(self) -> str | None:
        return self.need.data if self.need.data and not self.need.errors else None


SHOW = [("", _l("All")), ("open", _l("To do")), ("done", _l("Done"))]


class MineFilterForm(BaseForm):
    class Meta:
        csrf = False

    show = SelectField(_l("Show"), choices=SHOW, validators=[Optional()])
