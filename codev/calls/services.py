"""Creating and editing calls, exchange rates, and the queries the pages need.

Services check, mutate, write the audit event and flush; they never commit, flash or read the request.
Refusals are :class:`CallError` (one message, or several ``problems``) for the view to show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import abort
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from codev.accounts.models import MINISTRY_ROLES
from codev.calls.models import (
    AttachmentKind,
    Call,
    CallRegion,
    CallRequiredAttachment,
    CallSector,
    CallStatus,
    CallTranche,
    Criterion,
    ExchangeRate,
    TrancheCondition,
)
from codev.calls.rates import RECORDED_CURRENCIES
from codev.core import audit
from codev.core.geography import region_choices
from codev.core.i18n import gettext as _
from codev.core.sectors import SECTOR_BY_CODE
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db

PUBLIC_STATUSES = frozenset({CallStatus.OPEN, CallStatus.CLOSED, CallStatus.EVALUATING, CallStatus.DECIDED,
                             CallStatus.ARCHIVED})
LIMITED_EDIT_STATUSES = frozenset({CallStatus.OPEN, CallStatus.CLOSED, CallStatus.EVALUATING, CallStatus.DECIDED})


class CallError(DomainError):
    """A refused change; ``problems`` lists every reason in words."""


@dataclass(frozen=True)
class CriterionData:
    code: str
    label_fr: str
    label_en: str
    weight: int
    max_score: int = 10
    eliminatory_min: int | None = None
    guidance_fr: str | None = None
    guidance_en: str | None = None


@dataclass(frozen=True)
class TrancheData:
    share_bps: int
    condition: str


@dataclass
class CallData:
    """Everything an officer sets on a draft call (amounts in XOF, shares in basis points)."""

    title: str
    description: str = ""
    title_en: str | None = None
    description_en: str | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    opens_automatically: bool = False
    sectors: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    envelope_xof: int = 0
    ratio_num: int = 1
    ratio_den: int = 1
    max_grant_xof: int | None = None
    max_grant_share_bps: int | None = None
    min_association_share_bps: int | None = None
    max_total_budget_xof: int | None = None
    in_kind_counts_bps: int = 0
    contribution_deadline_days: int | None = None
    qualification_threshold: int = 60
    min_evaluators: int = 2
    score_gap_flag: int = 20
    max_project_files_bytes: int = 50 * 1024 * 1024
    required_kinds: list[str] = field(default_factory=list)
    criteria: list[CriterionData] = field(default_factory=list)
    tranches: list[TrancheData] = field(default_factory=list)


@dataclass(frozen=True)
class OpenCallData:
    """What may still change once a call is open."""

    description: str
    description_en: str | None
    envelope_xof: int
    closes_at: datetime | None = None  # only while the call is open


# --- checks shared by the form and the services ------------------------------------------------


def grid_problems(criteria: list[CriterionData]) -> list[str]:
    """What is wrong with an evaluation grid (an empty grid is allowed in a draft)."""
    problems = []
    codes = [c.code for c in criteria]
    if len(set(codes)) != len(codes):
        problems.append(_("Two criteria have the same code; each code must be unique."))
    for c in criteria:
        if c.eliminatory_min is not None and c.eliminatory_min > c.max_score:
            problems.append(
                _("The eliminatory minimum of %(code)s is above its maximum score.", code=c.code)
            )
    total = sum(c.weight for c in criteria)
    if criteria and total != 100:
        problems.append(_("The weights add up to %(total)s; they must total 100.", total=total))
    return problems


def tranche_problems(tranches: list[TrancheData]) -> list[str]:
    """What is wrong with a tranche plan (an empty plan is allowed in a draft)."""
    total = sum(t.share_bps for t in tranches)
    if tranches and total != 10_000:
        units, rest = divmod(total, 100)
        shown = f"{units}" if not rest else f"{units}.{rest:02d}".rstrip("0")
        return [_("The tranches add up to %(total)s %%; they must total 100 %%.", total=shown)]
    return []


def _data_problems(data: CallData) -> list[str]:
    problems = grid_problems(data.criteria) + tranche_problems(data.tranches)
    regions = {code for code, _name in region_choices()}
    if any(s not in SECTOR_BY_CODE for s in data.sectors) or any(r not in regions for r in data.regions):
        problems.append(_("Choose sectors and regions from the lists."))
    if any(k not in set(AttachmentKind) for k in data.required_kinds):
        problems.append(_("Choose the required documents from the list."))
    if any(t.condition not in set(TrancheCondition) for t in data.tranches):
        problems.append(_("Choose each tranche's condition from the list."))
    if data.opens_at and data.closes_at and data.opens_at >= data.closes_at:
        problems.append(_("The closing date must come after the opening date."))
    return problems


# --- calls ---------------------------------------------------------------------------------------

_SCALARS = (
    "title", "title_en", "description", "description_en", "opens_at", "closes_at", "opens_automatically",
    "envelope_xof",
    "ratio_num", "ratio_den", "max_grant_xof", "max_grant_share_bps", "min_association_share_bps",
    "max_total_budget_xof", "in_kind_counts_bps", "contribution_deadline_days", "qualification_threshold",
    "min_evaluators", "score_gap_flag", "max_project_files_bytes",
)


def snapshot(call: Call) -> dict:
    """The call's settings as plain JSON-able data (for the audit log)."""
    values = {}
    for name in _SCALARS:
        value = getattr(call, name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    values["sectors"] = call.sector_codes
    values["regions"] = call.region_codes
    values["required_kinds"] = call.required_kinds
    values["criteria"] = [{"code": c.code, "weight": c.weight, "max_score": c.max_score,
                           "eliminatory_min": c.eliminatory_min} for c in call.criteria]
    values["tranches"] = [{"share_bps": t.share_bps, "condition": t.condition} for t in call.tranches]
    return values


def _apply(call: Call, data: CallData) -> None:
    for name in _SCALARS:
        setattr(call, name, getattr(data, name))
    call.sectors = [CallSector(sector=s) for s in dict.fromkeys(data.sectors)]
    call.regions = [CallRegion(region=r) for r in dict.fromkeys(data.regions)]
    call.required_attachments = [CallRequiredAttachment(kind=k) for k in dict.fromkeys(data.required_kinds)]
    call.criteria = [
        Criterion(position=i, code=c.code, label_fr=c.label_fr, label_en=c.label_en, guidance_fr=c.guidance_fr,
                  guidance_en=c.guidance_en, weight=c.weight, max_score=c.max_score,
                  eliminatory_min=c.eliminatory_min)
        for i, c in enumerate(data.criteria, start=1)
    ]
    call.tranches = [
        CallTranche(number=i, share_bps=t.share_bps, condition=t.condition)
        for i, t in enumerate(data.tranches, start=1)
    ]


def create_call(data: CallData, user) -> Call:
    """A new draft call with its rules, grid and tranche plan."""
    problems = _data_problems(data)
    if problems:
        raise CallError(_("The call was not saved."), problems)
    call = Call(created_by_id=user.id)
    _apply(call, data)
    db.session.add(call)
    db.session.flush()
    audit.record("call.create", call, actor=user, after=snapshot(call))
    db.session.flush()
    return call


def update_call(call: Call, data: CallData, user) -> Call:
    """Replace every setting of a draft call."""
    if call.status != CallStatus.DRAFT:
        raise CallError(_("Only a draft call can be changed entirely."))
    problems = _data_problems(data)
    if problems:
        raise CallError(_("The call was not saved."), problems)
    before = snapshot(call)
    # Replace the rows of the grid and the plan: delete the old ones first (unique codes and numbers).
    call.criteria = []
    call.tranches = []
    call.sectors = []
    call.regions = []
    call.required_attachments = []
    db.session.flush()
    _apply(call, data)
    db.session.flush()
    audit.record("call.update", call, actor=user, before=before, after=snapshot(call))
    db.session.flush()
    return call


def update_open_call(call: Call, data: OpenCallData, user) -> Call:
    """Description, envelope (never below what is committed) and, while open, the closing date."""
    if call.status not in LIMITED_EDIT_STATUSES:
        raise CallError(_("This call can no longer be changed."))
    before = {"description": call.description, "envelope_xof": call.envelope_xof,
              "closes_at": call.closes_at.isoformat() if call.closes_at else None}
    if data.closes_at is not None and call.status == CallStatus.OPEN and data.closes_at != call.closes_at:
        if data.closes_at <= utcnow():
            raise CallError(_("The new closing date is in the past; to stop submissions now, close the call."))
        if call.opens_at is not None and data.closes_at <= call.opens_at:
            raise CallError(_("The closing date must come after the opening date."))
        call.closes_at = data.closes_at
    call.description = data.description
    call.description_en = data.description_en
    if data.envelope_xof != call.envelope_xof:
        # Guarded against grants approved at the same moment: the row decides, not what we read.
        db.session.flush()
        result = db.session.execute(
            update(Call)
            .where(Call.id == call.id, Call.committed_xof <= data.envelope_xof)
            .values(envelope_xof=data.envelope_xof)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.refresh(call)
            raise CallError(_("The envelope cannot be less than the grants already committed."))
        db.session.refresh(call, ["envelope_xof", "committed_xof"])
    audit.record("call.update", call, actor=user, before=before, after={
        "description": call.description, "envelope_xof": call.envelope_xof,
        "closes_at": call.closes_at.isoformat() if call.closes_at else None,
    })
    db.session.flush()
    return call


def get_call_or_404(call_id: int, user=None) -> Call:
    """The call, or 404 — drafts exist only for the ministry."""
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)
    is_ministry = user is not None and getattr(user, "is_authenticated", False) and user.role in MINISTRY_ROLES
    if call.status not in PUBLIC_STATUSES and not is_ministry:
        abort(404)
    return call


# What the lists of calls show of each (eligible sectors and regions, tranches), loaded for the whole list at once.
LISTED = (selectinload(Call.sectors), selectinload(Call.regions), selectinload(Call.tranches))


def accepting_calls(limit: int | None = None) -> list[Call]:
    """Open calls whose closing date is still ahead, soonest closing first."""
    query = (
        select(Call).options(*LISTED)
        .where(Call.status == CallStatus.OPEN, Call.closes_at > utcnow())
        .order_by(Call.closes_at, Call.id)
    )
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def past_calls(limit: int = 20) -> list[Call]:
    """Calls no longer taking projects (closed, under evaluation, decided), latest first."""
    now = utcnow()
    query = (
        select(Call).options(*LISTED)
        .where(
            (Call.status.in_([CallStatus.CLOSED, CallStatus.EVALUATING, CallStatus.DECIDED]))
            | ((Call.status == CallStatus.OPEN) & (Call.closes_at <= now))
        )
        .order_by(Call.closes_at.desc(), Call.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def status_counts() -> dict[str, int]:
    """How many calls in each status (one query)."""
    rows = db.session.execute(select(Call.status, func.count()).group_by(Call.status)).all()
    counts = {s.value: 0 for s in CallStatus}
    counts.update({str(status): n for status, n in rows})
    return counts


def manage_query(status: str | None):
    query = select(Call).order_by(Call.created_at.desc(), Call.id.desc())
    if status in {s.value for s in CallStatus}:
        query = query.where(Call.status == status)
    return query


# How many projects each call has received: the projects, a later step of the programme, are counted by
# their own package, which gives its counter when the app is built (``count_projects_with``).
_COUNTERS: dict[str, Callable[[list[int]], dict[int, int]]] = {}


def count_projects_with(counter: Callable[[list[int]], dict[int, int]]) -> None:
    """The projects step says how to count the projects of calls (``{call id: projects}``)."""
    _COUNTERS["projects"] = counter


def project_counts(call_ids: list[int]) -> dict[int, int]:
    """Projects per call, drafts left out (one query, asked of the projects step; none before it is built)."""
    counter = _COUNTERS.get("projects")
    if not call_ids or counter is None:
        return {}
    return counter(call_ids)


# --- exchange rates ---------------------------------------------------------------------------


def add_rate(currency: str, rate_millionths: int, valid_from: date, user) -> ExchangeRate:
    """Record a currency's rate to XOF from a date on (one rate per currency and date)."""
    if currency not in RECORDED_CURRENCIES:
        raise CallError(_("Rates are recorded for %(list)s only; EUR is fixed.", list=", ".join(RECORDED_CURRENCIES)),
                        field="currency")
    if rate_millionths <= 0:
        raise CallError(_("The rate must be greater than zero."), field="rate")
    exists = db.session.scalar(
        select(ExchangeRate.id).where(ExchangeRate.currency == currency, ExchangeRate.valid_from == valid_from)
    )
    if exists:
        raise CallError(
            _("A rate for %(currency)s from %(date)s already exists.", currency=currency, date=valid_from.isoformat()),
            field="valid_from",
        )
    rate = ExchangeRate(currency=currency, rate_millionths=rate_millionths, valid_from=valid_from,
                        created_by_id=getattr(user, "id", None))
    db.session.add(rate)
    db.session.flush()
    audit.record("exchange_rate.create", rate, actor=user,
                 after={"currency": currency, "rate_millionths": rate_millionths, "valid_from": valid_from.isoformat()})
    db.session.flush()
    return rate


def rates_query(currency: str | None):
    query = select(ExchangeRate).order_by(ExchangeRate.valid_from.desc(), ExchangeRate.currency)
    if currency in RECORDED_CURRENCIES:
        query = query.where(ExchangeRate.currency == currency)
    return query
