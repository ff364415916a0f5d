"""The ranking of a call's qualified projects for the selection committee, on plain data.

Projects are ordered by consolidated score (highest first); ties are broken by the rules the session
chose, in this order: projects led by women first, then the least-funded commune (the smallest total of
grants approved so far in the programme), then the earliest submission; the reference settles anything
left so the order never depends on the database. Each row carries the running total of the requested
grants and whether that total still fits in the envelope remaining: the line where the money runs out
goes just before the first row that does not fit.

Nothing here reads the database or the request, so the rules are tested on hand-made data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache

from babel.numbers import format_decimal

from codev.core.i18n import lazy_gettext as _l
from codev.core.money import format_xof

LED_BY_WOMEN = "led_by_women"
LEAST_FUNDED_COMMUNE = "least_funded_commune"
EARLIEST_SUBMISSION = "earliest_submission"

# Every rule a session may choose, in the order they apply.
TIE_BREAKS = (LED_BY_WOMEN, LEAST_FUNDED_COMMUNE, EARLIEST_SUBMISSION)

TIE_BREAK_LABELS = {
    LED_BY_WOMEN: _l("Projects led by women first"),
    LEAST_FUNDED_COMMUNE: _l("Then the commune that has received the least in grants so far"),
    EARLIEST_SUBMISSION: _l("Then the earliest submission"),
}


@dataclass(slots=True)
class Candidate:
    """A project before the committee, as the ranking reads it (made by the thousand per page: slots, not
    frozen, which costs three times as much to build)."""

    project_id: int
    reference: str
    title: str
    association: str
    commune: str
    score_centi: int | None  # hundredths of a point out of 100; None when no result is in
    requested_grant_xof: int
    led_by_women: bool = False
    commune_funded_xof: int = 0  # grants approved so far in the programme for the project's commune
    submitted_at: datetime | None = None
    spread_flagged: bool = False
    status: str = ""


@dataclass(slots=True)
class RankedRow:
    rank: int
    candidate: Candidate
    running_total_xof: int  # requested grants of this row and every row above it
    fits: bool  # the running total is within the envelope remaining


@dataclass(frozen=True)
class Ranking:
    rows: list[RankedRow]
    remaining_xof: int  # envelope − committed, when the ranking was drawn
    rules: tuple[str, ...]

    @property
    def cutoff(self) -> int | None:
        """Index of the first row that does not fit (the line goes just before it); None if all fit."""
        return next((i for i, row in enumerate(self.rows) if not row.fits), None)

    @property
    def total_requested_xof(self) -> int:
        return self.rows[-1].running_total_xof if self.rows else 0

    @property
    def fitting_count(self) -> int:
        return sum(1 for row in self.rows if row.fits)

    def index_of(self, project_id: int | None) -> int | None:
        """Where the project stands in the rows (None when it is not ranked)."""
        return next((i for i, row in enumerate(self.rows) if row.candidate.project_id == project_id), None)


def parse_tie_breaks(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """The known rules in ``text`` ("led_by_women,earliest_submission"), in their fixed order."""
    chosen = set(text.split(",") if isinstance(text, str) else (text or ()))
    return tuple(rule for rule in TIE_BREAKS if rule in chosen)


def sort_key(candidate: Candidate, rules: Sequence[str]) -> tuple:
    """Highest score first, then each chosen rule, then the reference (a total order)."""
    has_score = candidate.score_centi is not None
    key: list = [0 if has_score else 1, -(candidate.score_centi or 0)]
    for rule in rules:
        if rule == LED_BY_WOMEN:
            key.append(0 if candidate.led_by_women else 1)
        elif rule == LEAST_FUNDED_COMMUNE:
            key.append(candidate.commune_funded_xof)
        elif rule == EARLIEST_SUBMISSION:
            at = candidate.submitted_at
            key.append((0, at.timestamp()) if at is not None else (1, 0))
    key.extend([candidate.reference or "", candidate.project_id])
    return tuple(key)


def rank(candidates: Iterable[Candidate], rules: Sequence[str], remaining_xof: int) -> Ranking:
    """Order ``candidates`` and add running totals against ``remaining_xof``."""
    rules = parse_tie_breaks(rules)
    ordered = sorted(candidates, key=lambda c: sort_key(c, rules))
    return _rows(ordered, rules, remaining_xof)


def in_given_order(candidates: Iterable[Candidate], rules: Sequence[str], remaining_xof: int) -> Ranking:
    """Running totals over candidates already in their frozen order (a closed session)."""
    return _rows(list(candidates), parse_tie_breaks(rules), remaining_xof)


def _rows(ordered: list[Candidate], rules: tuple[str, ...], remaining_xof: int) -> Ranking:
    rows, total = [], 0
    for position, candidate in enumerate(ordered, start=1):
        total += candidate.requested_grant_xof
        rows.append(RankedRow(position, candidate, total, total <= remaining_xof))
    return Ranking(rows, remaining_xof, rules)


def format_score(score_centi: int | None, locale: str) -> str:
    """7350 → "73,50 / 100" (fr) or "73.50 / 100" (en); an empty string when there is no score."""
    if score_centi is None:
        return ""
    if type(score_centi) is int and 0 <= score_centi < 100_000:  # a ranking formats thousands: once per locale
        return f"{score_centi // 100}{_decimal_mark(locale)}{score_centi % 100:02d} / 100"
    number = format_decimal(Decimal(score_centi) / 100, format="0.00", locale=locale)
    return f"{number} / 100"


@cache
def _decimal_mark(locale: str) -> str:
    return format_decimal(Decimal("1.50"), format="0.00", locale=locale)[1]


class TableRow(dict):
    """One row of :func:`table`: a dict whose keys are also its attributes (``row.rank``), so that templates
    rendering thousands of rows read them directly, not through Jinja's failed-attribute-then-item path."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.__dict__ = self


def table(ranking: Ranking, locale: str, decisions: dict[int, str] | None = None,
          start: int = 0, stop: int | None = None) -> list[dict]:
    """The ranking as plain rows of text, formatted in ``locale`` (pages and PDFs print these): all of it,
    or the rows from index ``start`` to ``stop`` (a page of it; the envelope line stays where it falls).

    ``decisions`` maps project ids to the label of the committee's decision, when there is one.
    """
    decisions = decisions or {}
    cutoff = ranking.cutoff
    return [
        TableRow({
            "rank": row.rank, "project_id": row.candidate.project_id, "reference": row.candidate.reference,
            "title": row.candidate.title, "association": row.candidate.association,
            "commune": row.candidate.commune, "score": format_score(row.candidate.score_centi, locale),
            "requested": format_xof(row.candidate.requested_grant_xof, locale),
            "running": format_xof(row.running_total_xof, locale), "fits": row.fits,
            "flagged": row.candidate.spread_flagged, "led_by_women": row.candidate.led_by_women,
            "line_before": cutoff is not None and index == cutoff,
            "decision": decisions.get(row.candidate.project_id, ""), "status": row.candidate.status,
        })
        for index, row in enumerate(ranking.rows[start:stop], start=start)
    ]
