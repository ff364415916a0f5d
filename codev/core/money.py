"""Money is whole XOF in integers. Parsing, formatting, conversion, words — and every rule's arithmetic.

The arithmetic of the matched grant lives here and nowhere else: shares in basis points (rounded down
for a limit, up for a minimum), the match ratio and its inverse (the association money a grant needs),
the eligible money (cash plus the share of in-kind a call counts), the split of a grant into tranches,
the most that may be disbursed (rule 4), and the two guarded statements that commit and release a
call's envelope (rule 3). Each has its property tests (tests/test_money_properties.py).

Amounts and rates are read by the one parser of :mod:`codev.core.numbers` (digits 0 to 9 only, so that
"１２３" is refused, never stored as 123).

Foreign amounts are held in minor units (cents) and exchange rates in millionths of a franc per unit,
so every conversion is integer arithmetic with one half-up rounding to the franc.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from babel.numbers import format_currency, format_decimal
from num2words import num2words
from sqlalchemy import BigInteger, cast, column, table, update

from codev.core.i18n import gettext as _
from codev.core.i18n import locale_name
from codev.core.numbers import GROUP_SEPARATORS, NumberError, Wording, parse_number, typed_number

# 1 EUR = 655.957 XOF, fixed by law (the CFA franc's peg).
EUR_RATE_MILLIONTHS = 655_957_000
CURRENCIES = ("XOF", "EUR", "USD", "CAD", "GBP", "CHF")
MAX_XOF = 10**15  # far above any programme's envelope; refuses absurd input before it reaches SQL
MAX_RATE_MILLIONTHS = 10**13 - 1  # 9 999 999.999999 francs for one unit


_CURRENCY_SUFFIX = re.compile(r"(?:FCFA|CFA|XOF|F)$", re.IGNORECASE)  # "2 500 000 F CFA" as typed

# One error for every number a person types (amounts, rates, shares, counts): see core/numbers.
MoneyError = NumberError


def _amount_wording(**specific: str) -> Wording:
    """The messages of an amount's refusals: what all amounts share, and the words of one kind."""
    return Wording(negative=_("The amount cannot be negative."), too_small=_("The amount must be greater than zero."),
                   too_large=_("This amount is too large."), **specific)


def parse_xof(text: str | int | None, *, allow_zero: bool = False, locale: str | None = None) -> int:
    """A whole number of francs from what a person typed: "2 500 000", "2500000", "2.500.000"."""
    if isinstance(text, bool):
        raise MoneyError(_("Enter an amount in francs CFA, for example 2 500 000."))
    wording = _amount_wording(
        format=_("Enter the amount in digits only, for example 2 500 000."),
        empty=_("Enter an amount in francs CFA, for example 2 500 000."),
        decimals=_("Francs CFA have no cents: enter a whole number of francs."),
    )
    minimum = 0 if allow_zero else 1
    if isinstance(text, int):
        if text < 0:
            raise MoneyError(wording.negative, "negative")
        if text < minimum or text > MAX_XOF:
            raise MoneyError(wording.too_small if text < minimum else wording.too_large, "range")
        return text
    raw = _CURRENCY_SUFFIX.sub("", GROUP_SEPARATORS.sub("", text or ""))
    return parse_number(raw, minimum=minimum, maximum=MAX_XOF, wording=wording, locale=locale)


def parse_minor(text: str | None, locale: str | None = None) -> int:
    """An amount in a currency with cents ("1 250,50", "1250.5") as an integer of cents."""
    wording = _amount_wording(
        format=_("Enter the amount in digits, with at most two decimals."),
        empty=_("Enter an amount, for example 1 500."),
    )
    return parse_number(text, places=2, minimum=1, maximum=MAX_XOF * 100, wording=wording, locale=locale)


def parse_rate(text: str | None, locale: str | None = None) -> int:
    """An exchange rate ("655.957", "610,5") as millionths of a franc per unit."""
    wording = Wording(
        format=_("Enter the rate as a number of francs CFA, for example 610.25."),
        negative=_("The rate must be greater than zero."),
        too_small=_("The rate must be greater than zero."),
    )
    return parse_number(text, places=6, minimum=1, maximum=MAX_RATE_MILLIONTHS, wording=wording, locale=locale)


def convert_to_xof(amount_minor: int, rate_millionths: int) -> int:
    """Cents of a currency times its rate, rounded half up to the franc (integers only)."""
    denominator = 100 * 1_000_000
    return (amount_minor * rate_millionths * 2 + denominator) // (2 * denominator)


def rate_text(rate_millionths: int) -> str:
    """A rate as data ("655.957"): exports and files, whatever the reader's language."""
    units, fraction = divmod(rate_millionths, 1_000_000)
    return f"{units}.{fraction:06d}".rstrip("0").rstrip(".")


def format_rate(rate_millionths: int, locale: str | None = None) -> str:
    """A rate as its reader writes it: "655,957" in French, "655.957" in English (pages, letters)."""
    from decimal import Decimal

    return format_decimal(Decimal(rate_millionths) / 1_000_000, format="#,##0.######", locale=_locale(locale))


def typed_xof(amount: int, locale: str | None = None) -> str:
    """Francs as the reader types them back into a field: "2 500 000" in French, "2,500,000" in English."""
    return typed_number(amount, 0, locale)


def typed_minor(amount_minor: int, locale: str | None = None) -> str:
    """Cents as the reader types them back into a field: "4 000,50" in French, "4,000.50" in English."""
    return typed_number(amount_minor, 2, locale, cents=True)


def minor_text(amount_minor: int) -> str:
    units, cents = divmod(amount_minor, 100)
    return f"{units}.{cents:02d}" if cents else str(units)


def _locale(locale: str | None) -> str:
    return locale or locale_name()


XOF_PATTERN = "#,##0\u00a0¤"  # the symbol after the number in both languages (CLDR's English glues it in front)


def format_xof(amount: int | None, locale: str | None = None) -> str:
    """"2 500 000 F CFA" in French, "2,500,000 F CFA" in English."""
    if amount is None:
        return ""
    lang = _locale(locale)
    if type(amount) is int and amount >= 0:  # the common case, without Babel's pattern machinery (rankings)
        try:
            group, suffix = _xof_parts(lang)
        except ValueError:
            return format_currency(amount, "XOF", format=XOF_PATTERN, locale=lang)
        return f"{amount:,}".replace(",", group) + suffix
    return format_currency(amount, "XOF", format=XOF_PATTERN, locale=lang)


@cache
def _xof_parts(lang: str) -> tuple[str, str]:
    """The group separator and the currency suffix Babel writes for ``lang`` (read once from Babel itself)."""
    sample = format_currency(1234567, "XOF", format=XOF_PATTERN, locale=lang)
    group = sample[1]
    digits = f"1{group}234{group}567"
    if not sample.startswith(digits):  # a locale that writes numbers otherwise: Babel every time
        raise ValueError(lang)
    return group, sample[len(digits):]


def format_number(value: int | None, locale: str | None = None) -> str:
    return "" if value is None else format_decimal(value, locale=_locale(locale))


def format_minor(amount_minor: int, currency: str, locale: str | None = None) -> str:
    from decimal import Decimal

    return format_currency(Decimal(amount_minor) / 100, currency, locale=_locale(locale))


def xof_in_words(amount: int, locale: str | None = None) -> str:
    """"deux millions cinq cent mille francs CFA" / "two million five hundred thousand CFA francs"."""
    lang = _locale(locale)
    if lang == "en":
        return num2words(amount, lang="en").replace(",", "") + " CFA francs"
    words = num2words(amount, lang="fr")
    if amount in (0, 1):
        return f"{words} franc CFA"
    # "deux millions de francs CFA", but "deux millions cinq cent mille francs CFA".
    if words.endswith(("million", "millions", "milliard", "milliards")):
        return f"{words} de francs CFA"
    return f"{words} francs CFA"


# --- shares, in basis points (10 000 = the whole) ----------------------------------------------------

BPS = 10_000


def share_bps(part: int, whole: int) -> int:
    """``part`` as basis points of ``whole`` (rounded half up); 0 when whole is 0."""
    if whole <= 0:
        return 0
    return (part * BPS * 2 + whole) // (2 * whole)


def share_floor(amount: int, bps: int) -> int:
    """``bps`` of ``amount`` rounded down: the most that stays within the share (a maximum's limit)."""
    return amount * bps // BPS


def share_ceil(amount: int, bps: int) -> int:
    """``bps`` of ``amount`` rounded up: the least that reaches the share (a minimum's threshold)."""
    return -(-amount * bps // BPS)


def within_share(part: int, whole: int, bps: int) -> bool:
    """``part`` is at most ``bps`` of ``whole`` (exact: no rounding)."""
    return part * BPS <= bps * whole


def reaches_share(part: int, whole: int, bps: int) -> bool:
    """``part`` is at least ``bps`` of ``whole`` (exact: no rounding)."""
    return part * BPS >= bps * whole


def eligible_money(cash: int, in_kind: int, in_kind_counts_bps: int) -> int:
    """The association's money the match counts: its cash and the share of in-kind the call lets count."""
    return cash + share_floor(in_kind, in_kind_counts_bps)


def share_floor_sql(amount, bps):
    """:func:`share_floor` as an SQL expression (integer division: amounts and shares are never negative)."""
    return (cast(amount, BigInteger) * bps) // BPS


def eligible_money_sql(cash, in_kind, in_kind_counts_bps):
    """:func:`eligible_money` as an SQL expression, for the sums the database makes."""
    return cast(cash, BigInteger) + share_floor_sql(in_kind, in_kind_counts_bps)


def bps_decimal(bps: int):
    """Basis points as an exact decimal number of wholes (12 500 → 1.25), for display."""
    from decimal import Decimal

    return Decimal(bps) / BPS


def split(amount: int, shares_bps: list[int]) -> list[int]:
    """``amount`` in parts of the given shares: floor for each, the last takes the rest (sum is exact)."""
    parts, given = [], 0
    for number, share in enumerate(shares_bps, start=1):
        part = amount - given if number == len(shares_bps) else share_floor(amount, share)
        given += part
        parts.append(part)
    return parts


def format_bps(bps: int, locale: str | None = None) -> str:
    """Basis points as a percentage: 7000 → "70 %" (fr) / "70%" (en), 3333 → "33,33 %"."""
    from decimal import Decimal

    lang = _locale(locale)
    number = format_decimal(Decimal(bps) / 100, format="#,##0.##", locale=lang)
    return f"{number}\u00a0%" if lang == "fr" else f"{number}%"


@dataclass(frozen=True)
class Ratio:
    """A match ratio: ``numerator`` state francs per ``denominator`` association francs (e.g. 2:1)."""

    numerator: int
    denominator: int = 1

    def apply(self, amount: int) -> int:
        """The most the state gives for ``amount`` of association money (rounded down)."""
        return amount * self.numerator // self.denominator

    def required_for(self, grant: int) -> int:
        """The least association money V with ``apply(V) >= grant`` (rounded up): what unlocks ``grant``."""
        return -(-grant * self.denominator // self.numerator)

    def text(self) -> str:
        return f"{self.numerator}:{self.denominator}"


def disbursable(grant: int, ratio: Ratio, verified: int) -> int:
    """Rule 4: the most that may be disbursed in all, min(G, ratio × V), V the verified eligible money."""
    return min(grant, ratio.apply(verified))


# --- the envelope of a call (DESIGN.md rule 3) ------------------------------------------------------
# A call's committed money moves only through these two guarded statements, so the sum of its grants
# never exceeds its envelope and never goes below zero, also under concurrent requests on both databases
# (the row is locked by the UPDATE itself; the condition is read again under that lock).

_CALLS = table("calls", column("id"), column("envelope_xof"), column("committed_xof"))


def commit_envelope(session, call_id: int, amount: int) -> bool:
    """Add ``amount`` to the call's committed money if it still fits; False (nothing changed) if not."""
    if amount <= 0:
        raise ValueError("an envelope commitment is a positive amount")
    result = session.execute(
        update(_CALLS)
        .where(_CALLS.c.id == call_id, _CALLS.c.committed_xof + amount <= _CALLS.c.envelope_xof)
        .values(committed_xof=_CALLS.c.committed_xof + amount)
    )
    return result.rowcount == 1


def release_envelope(session, call_id: int, amount: int) -> bool:
    """Give ``amount`` back to the call's envelope if it holds that much; False (nothing changed) if not."""
    if amount < 0:
        raise ValueError("an envelope release is a positive amount")
    if amount == 0:
        return True
    result = session.execute(
        update(_CALLS)
        .where(_CALLS.c.id == call_id, _CALLS.c.committed_xof >= amount)
        .values(committed_xof=_CALLS.c.committed_xof - amount)
    )
    return result.rowcount == 1
