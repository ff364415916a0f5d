"""Forms of a call (rules, grid, tranche plan), of an open call's changes, of exchange rates.

Money is typed as text ("2 500 000") and parsed by :func:`codev.core.money.parse_xof`; shares are typed
as percentages ("70", "33,5") and kept in basis points; the grid and the tranche plan are a fixed number
of rows (empty rows are ignored) so the page works without JavaScript.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from math import gcd

from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    ValidationError,
)
from wtforms.validators import InputRequired, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from codev.calls.models import AttachmentKind, TrancheCondition
from codev.calls.rates import RECORDED_CURRENCIES
from codev.calls.services import (
    CallData,
    CriterionData,
    OpenCallData,
    TrancheData,
    grid_problems,
    tranche_problems,
)
from codev.core.forms import (
    BaseForm,
    RowForm,
    WholeNumberField,
    max_length,
    no_control_characters,
    required,
    required_input,
)
from codev.core.geography import region_choices
from codev.core.i18n import lazy_gettext as _l
from codev.core.money import MoneyError, parse_rate, parse_xof, typed_xof
from codev.core.numbers import NumberError, parse_percent, parse_whole, typed_number
from codev.core.sectors import sector_choices

CRITERIA_ROWS = 8
TRANCHE_ROWS = 5
MB = 1024 * 1024


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (no JavaScript, no ctrl-click)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class XofField(StringField):
    """An amount in francs typed as text; ``amount`` is the parsed integer (None when left empty)."""

    checks_its_own_text = True

    def __init__(self, label=None, validators=None, *, optional: bool = False, allow_zero: bool = False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.optional, self.allow_zero, self.amount = optional, allow_zero, None
        self.render_kw = {"inputmode": "numeric", **(self.render_kw or {})}

    def _value(self) -> str:
        return typed_xof(self.data) if isinstance(self.data, int) else (self.data or "")

    def pre_validate(self, form) -> None:
        self.amount = None
        if isinstance(self.data, str) and not self.data.strip() and self.optional:
            return
        try:
            self.amount = parse_xof(self.data, allow_zero=self.allow_zero)
        except MoneyError as exc:
            raise StopValidation(str(exc)) from exc


class PercentField(StringField):
    """A share typed as a percentage ("70", "33,5", "70 %"); ``bps`` holds basis points."""

    checks_its_own_text = True

    def __init__(self, label=None, validators=None, *, optional: bool = False, minimum: int = 0, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.optional, self.minimum, self.bps = optional, minimum, None
        self.render_kw = {"inputmode": "decimal", **(self.render_kw or {})}

    def _value(self) -> str:
        if isinstance(self.data, int):
            return typed_number(self.data, 2)  # "33,5" in French, "33.5" in English
        return self.data or ""

    def pre_validate(self, form) -> None:
        self.bps = None
        if self.optional and (self.data is None or (isinstance(self.data, str) and not self.data.strip())):
            return
        try:
            self.bps = parse_percent(self.data, minimum=self.minimum)
        except NumberError as exc:
            raise StopValidation(str(exc)) from exc


class RatioField(StringField):
    """The match: state francs per association franc, "1", "2", "3" or "1:2"; ``ratio`` is (num, den)."""

    checks_its_own_text = True

    def _value(self) -> str:
        if isinstance(self.data, tuple):
            num, den = self.data
            return str(num) if den == 1 else f"{num}:{den}"
        return self.data or ""

    def pre_validate(self, form) -> None:
        self.ratio = None
        raw = self.data if isinstance(self.data, str) else self._value()
        sides = re.split(r"[:/]", raw)
        unclear = str(_l("Enter the state francs for one franc of the association: 1, 2, 3 or 1:2."))
        out_of_range = str(_l("Each side of the ratio is a whole number between 1 and 100."))
        if len(sides) > 2 or not raw.strip():
            raise StopValidation(unclear)
        try:
            num, den = (parse_whole(side, minimum=1, maximum=100, message=unclear, range_message=out_of_range)
                        for side in (sides if len(sides) == 2 else [sides[0], "1"]))
        except NumberError as exc:
            raise StopValidation(str(exc)) from exc
        divisor = gcd(num, den)
        self.ratio = (num // divisor, den // divisor)


class _RowForm(RowForm):
    """A row of a grid inside the call form (no CSRF of its own; texts trimmed and checked like BaseForm)."""

    def is_blank(self) -> bool:
        return all(not (f.raw_data and str(f.raw_data[0]).strip()) and f.data in (None, "", []) for f in self)


def _small_int(label, low: int, high: int, *, optional: bool = True, **kwargs):
    """A whole number typed in a range (0 is a value, not an empty field)."""
    first = Optional() if optional else required_input()
    return WholeNumberField(label, validators=[first], minimum=low, maximum=high,
                            message=_l("Enter a whole number from %(min)s to %(max)s.", min=low, max=high), **kwargs)


class CriterionRow(_RowForm):
    code = StringField(_l("Code"), validators=[max_length(20)], description=_l("Short, e.g. relevance"))
    label_fr = StringField(_l("Label (French)"), validators=[max_length(200), no_control_characters])
    label_en = StringField(_l("Label (English)"), validators=[max_length(200), no_control_characters])
    guidance_fr = TextAreaField(_l("Guidance for evaluators (French)"), validators=[max_length(2000)])
    guidance_en = TextAreaField(_l("Guidance for evaluators (English)"), validators=[max_length(2000)])
    weight = _small_int(_l("Weight"), 1, 100)
    max_score = _small_int(_l("Maximum score"), 1, 100, description=_l("10 when left empty"))
    eliminatory_min = _small_int(_l("Eliminatory minimum (optional)"), 0, 100)


class TrancheRow(_RowForm):
    share = PercentField(_l("Share of the grant (%)"), optional=True, minimum=1)
    condition = SelectField(_l("Paid"), choices=[], default="")


def _tranche_choices():
    return [("", "—")] + [(c.value, c.label) for c in TrancheCondition]


class CallForm(BaseForm):
    """Every setting of a draft call."""

    title = StringField(_l("Title"), validators=[required(), max_length(200), no_control_characters])
    title_en = StringField(_l("Title in English (optional)"), validators=[max_length(200), no_control_characters])
    description = TextAreaField(_l("Description"), validators=[max_length(20000)])
    description_en = TextAreaField(_l("Description in English (optional)"), validators=[max_length(20000)])
    opens_date = DateField(_l("Opens on"), validators=[Optional()],
                           description=_l("Dates and times are UTC, which is Togo's time (UTC+0). Empty: when opened."))
    opens_time = TimeField(_l("Opening time"), validators=[Optional()], description=_l("00:00 when left empty"))
    closes_date = DateField(_l("Closes on"), validators=[Optional()], description=_l("UTC, Togo's time."))
    closes_time = TimeField(_l("Closing time"), validators=[Optional()], description=_l("23:59 when left empty"))
    opens_automatically = BooleanField(
        _l("Open the call by itself on its opening date"),
        description=_l("If the call is complete by then; if not, it stays a draft and the officers are told "
                       "what it lacks. Every open call closes by itself at its closing date."))
    sectors = MultiCheckboxField(_l("Eligible sectors"), choices=[])
    regions = MultiCheckboxField(_l("Eligible regions"), choices=[])
    envelope = XofField(_l("Envelope (F CFA)"), allow_zero=True,
                        description=_l("The money available for all grants of the call."))
    ratio = RatioField(_l("Match ratio"), validators=[required()],
                       description=_l("State francs for each franc of the association: 1, 2, 3, "
                                      "or 1:2 for one state franc per two."))
    max_grant = XofField(_l("Maximum grant per project (F CFA, optional)"), optional=True)
    max_grant_share = PercentField(_l("Maximum grant share of the total budget (%, optional)"),
                                   optional=True, minimum=1)
    min_association_share = PercentField(_l("Minimum association share of the total budget (%, optional)"),
                                         optional=True)
    max_total_budget = XofField(_l("Maximum total budget of a project (F CFA, optional)"), optional=True)
    in_kind_counts = PercentField(_l("Share of in-kind contributions counted (%)"),
                                  description=_l("0: only cash counts; 100: in-kind counts like cash."))
    contribution_deadline_days = _small_int(_l("Contribution deadline (days after the award)"), 1, 3650)
    qualification_threshold = _small_int(_l("Qualification threshold (out of 100)"), 0, 100, optional=False)
    min_evaluators = _small_int(_l("Evaluators per project (at least)"), 1, 10, optional=False)
    score_gap_flag = _small_int(_l("Flag a gap between evaluators of (points)"), 1, 100, optional=False)
    max_files_mb = _small_int(_l("Files per project, at most (MB)"), 1, 500, optional=False)
    required_kinds = MultiCheckboxField(_l("Documents every project must attach"), choices=[])
    criteria = FieldList(FormField(CriterionRow), min_entries=CRITERIA_ROWS, max_entries=CRITERIA_ROWS)
    tranches = FieldList(FormField(TrancheRow), min_entries=TRANCHE_ROWS, max_entries=TRANCHE_ROWS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sectors.choices = sector_choices()
        self.regions.choices = region_choices()
        self.required_kinds.choices = [(k.value, k.label) for k in AttachmentKind]
        for row in self.tranches:
            row.form.condition.choices = _tranche_choices()
        self.grid_errors: list[str] = []
        self.tranche_errors: list[str] = []

    @classmethod
    def for_call(cls, call) -> CallForm:
        """The form filled from a saved call."""
        data = {
            "title": call.title, "title_en": call.title_en, "description": call.description,
            "description_en": call.description_en, "opens_automatically": call.opens_automatically,
            "sectors": call.sector_codes, "regions": call.region_codes,
            "envelope": call.envelope_xof, "ratio": (call.ratio_num, call.ratio_den),
            "max_grant": call.max_grant_xof, "max_grant_share": call.max_grant_share_bps,
            "min_association_share": call.min_association_share_bps,
            "max_total_budget": call.max_total_budget_xof, "in_kind_counts": call.in_kind_counts_bps,
            "contribution_deadline_days": call.contribution_deadline_days,
            "qualification_threshold": call.qualification_threshold, "min_evaluators": call.min_evaluators,
            "score_gap_flag": call.score_gap_flag, "max_files_mb": max(1, call.max_project_files_bytes // MB),
            "required_kinds": call.required_kinds,
            "criteria": [{"code": c.code, "label_fr": c.label_fr, "label_en": c.label_en, "guidance_fr": c.guidance_fr,
                          "guidance_en": c.guidance_en, "weight": c.weight, "max_score": c.max_score,
                          "eliminatory_min": c.eliminatory_min} for c in call.criteria],
            "tranches": [{"share": t.share_bps, "condition": t.condition} for t in call.tranches],
        }
        for prefix, value in (("opens", call.opens_at), ("closes", call.closes_at)):
            if value is not None:
                data[f"{prefix}_date"], data[f"{prefix}_time"] = value.date(), value.time().replace(microsecond=0)
        return cls(data=data)

    @classmethod
    def blank(cls) -> CallForm:
        return cls(data={"ratio": (1, 1), "in_kind_counts": 0, "qualification_threshold": 60,
                         "min_evaluators": 2, "score_gap_flag": 20, "max_files_mb": 50})

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        criteria = self._criteria_rows()
        tranches = self._tranche_rows()
        if criteria is not None:
            self.grid_errors += grid_problems(criteria)
        if tranches is not None:
            self.tranche_errors += tranche_problems(tranches)
        opens, closes = self._opens_at(), self._closes_at()
        if opens and closes and opens >= closes:
            self.closes_date.errors.append(_l("The closing date must come after the opening date."))
        if self.opens_automatically.data and opens is None:
            self.opens_date.errors.append(_l("Give the date the call opens on by itself."))
        self.form_errors.extend(self.grid_errors + self.tranche_errors)
        return (ok and not self.grid_errors and not self.tranche_errors and not self.closes_date.errors
                and not self.opens_date.errors)

    def _criteria_rows(self) -> list[CriterionData] | None:
        """The filled rows of the grid; None when a row has its own errors."""
        rows, complete = [], True
        for entry in self.criteria:
            row = entry.form
            if row.is_blank():
                continue
            for name in ("code", "label_fr", "label_en", "weight"):
                if row[name].data in (None, "") and not row[name].errors:
                    row[name].errors = [*row[name].errors, _l("This field is required.")]
            max_score = row.max_score.data or 10
            if row.eliminatory_min.data is not None and row.eliminatory_min.data > max_score:
                row.eliminatory_min.errors = [*row.eliminatory_min.errors,
                                              _l("At most the maximum score (%(max)s).", max=max_score)]
            if row.errors:
                complete = False
                continue
            rows.append(CriterionData(
                code=row.code.data, label_fr=row.label_fr.data, label_en=row.label_en.data, weight=row.weight.data,
                max_score=max_score, eliminatory_min=row.eliminatory_min.data,
                guidance_fr=row.guidance_fr.data or None, guidance_en=row.guidance_en.data or None,
            ))
        if not complete:
            self.grid_errors.append(str(_l("Some rows of the grid are incomplete.")))
            return None
        return rows

    def _tranche_rows(self) -> list[TrancheData] | None:
        rows, complete = [], True
        for entry in self.tranches:
            row = entry.form
            if row.share.bps is None and not row.condition.data and not row.share.errors:
                continue
            if row.share.bps is None and not row.share.errors:
                row.share.errors = [_l("Enter the share of this tranche.")]
            if not row.condition.data:
                row.condition.errors = [*row.condition.errors, _l("Choose when this tranche is paid.")]
            if row.errors:
                complete = False
                continue
            rows.append(TrancheData(share_bps=row.share.bps, condition=row.condition.data))
        if not complete:
            self.tranche_errors.append(str(_l("Some tranches are incomplete.")))
            return None
        return rows

    def _opens_at(self) -> datetime | None:
        return _combine(self.opens_date.data, self.opens_time.data, time(0, 0))

    def _closes_at(self) -> datetime | None:
        return _combine(self.closes_date.data, self.closes_time.data, time(23, 59))

    def call_data(self) -> CallData:
        """The validated form as the service's input."""
        return CallData(
            title=self.title.data, title_en=self.title_en.data or None,
            description=self.description.data or "", description_en=self.description_en.data or None,
            opens_at=self._opens_at(), closes_at=self._closes_at(),
            opens_automatically=bool(self.opens_automatically.data),
            sectors=list(self.sectors.data or []), regions=list(self.regions.data or []),
            envelope_xof=self.envelope.amount, ratio_num=self.ratio.ratio[0], ratio_den=self.ratio.ratio[1],
            max_grant_xof=self.max_grant.amount, max_grant_share_bps=self.max_grant_share.bps,
            min_association_share_bps=self.min_association_share.bps,
            max_total_budget_xof=self.max_total_budget.amount, in_kind_counts_bps=self.in_kind_counts.bps,
            contribution_deadline_days=self.contribution_deadline_days.data,
            qualification_threshold=self.qualification_threshold.data, min_evaluators=self.min_evaluators.data,
            score_gap_flag=self.score_gap_flag.data, max_project_files_bytes=self.max_files_mb.data * MB,
            required_kinds=list(self.required_kinds.data or []),
            criteria=self._criteria_rows() or [], tranches=self._tranche_rows() or [],
        )


def _combine(day: date | None, at: time | None, default: time) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, at or default, tzinfo=UTC)


class OpenCallForm(BaseForm):
    """What may change once the call is open."""

    description = TextAreaField(_l("Description"), validators=[max_length(20000)])
    description_en = TextAreaField(_l("Description in English (optional)"), validators=[max_length(20000)])
    closes_date = DateField(_l("Closes on"), validators=[Optional()], description=_l("UTC, Togo's time."))
    closes_time = TimeField(_l("Closing time"), validators=[Optional()], description=_l("23:59 when left empty"))
    envelope = XofField(_l("Envelope (F CFA)"), allow_zero=True,
                        description=_l("Never less than the grants already committed."))

    @classmethod
    def for_call(cls, call) -> OpenCallForm:
        data = {"description": call.description, "description_en": call.description_en,
                "envelope": call.envelope_xof}
        if call.closes_at is not None:
            data["closes_date"] = call.closes_at.date()
            data["closes_time"] = call.closes_at.time().replace(microsecond=0)
        return cls(data=data)

    def open_call_data(self) -> OpenCallData:
        return OpenCallData(
            description=self.description.data or "", description_en=self.description_en.data or None,
            envelope_xof=self.envelope.amount,
            closes_at=_combine(self.closes_date.data, self.closes_time.data, time(23, 59)),
        )


class RateForm(BaseForm):
    """A currency's rate to XOF from a date on."""

    currency = SelectField(_l("Currency"), choices=[(c, c) for c in RECORDED_CURRENCIES])
    rate = StringField(_l("Francs CFA for one unit"), validators=[required(), max_length(20)],
                       description=_l("For example 610.25"), render_kw={"inputmode": "decimal"})
    valid_from = DateField(_l("Valid from"), validators=[InputRequired(message=_l("This field is required."))])

    def validate_rate(self, field) -> None:
        try:
            self.rate_millionths = parse_rate(field.data)
        except MoneyError as exc:
            raise ValidationError(str(exc)) from exc


class CommuneSearchForm(BaseForm):
    """The commune chooser's search box (GET)."""

    class Meta:
        csrf = False

    q = StringField(_l("Find a commune by name"), validators=[max_length(100)])
