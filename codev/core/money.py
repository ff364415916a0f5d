"""Money is whole XOF in integers. Parsing, formatting, conversion and words all live here.

Amounts and rates are read by the one parser of :mod:`codev.core.numbers` (digits 0 to 9 only, so that
"１２３" is refused, never stored as 123).

Foreign amounts are held in minor units (cents) and exchange rates in millionths of a franc per unit,
so every conversion is integer arithmetic with one half-up rounding to the franc.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import format_currency, format_decimal
from flask_babel import get_locale
from flask_babel import gettext as _
from num2words import num2words

from codev.core.numbers import GROUP_SEPARATORS, NumberError, Wording, parse_number

# 1 EUR = 655.957 XOF, fixed by law (the CFA franc's peg).
EUR_RATE_MILLIONTHS = 655_957_000
CURRENCIES = ("XOF", "EUR", "USD", "CAD", "GBP", "CHF")
MAX_XOF = 10**15  # far above any programme's envelope; refuses absurd input before it reaches SQL
MAX_RATE_MILLIONTHS = 10**13 - 1  # 9 999 999.999999 francs for one unit


# One error for every number a person types (amounts, rates, shares, counts): see core/numbers.
MoneyError = NumberError


def parse_xof(text: str | int | None, *, allow_zero: bool = False) -> int:
    """A whole number of francs from what a person typed: "2 500 000", "2500000", "2.500.000"."""
    if isinstance(text, bool):
        raise MoneyError(_("Enter an amount in francs CFA, for example 2 500 000."))
    wording = Wording(
        format=_("Enter the amount in digits only, for example 2 500 000."),
        empty=_("Enter an amount in francs CFA, for example 2 500 000."),
        negative=_("The amount cannot be negative."),
        decimals=_("Francs CFA have no cents: enter a whole number of francs."),
        too_small=_("The amount must be greater than zero."),
        too_large=_("This amount is too large."),
    )
    minimum = 0 if allow_zero else 1
    if isinstance(text, int):
        if text < 0:
            raise MoneyError(wording.negative, "negative")
        if text < minimum or text > MAX_XOF:
            raise MoneyError(wording.too_small if text < minimum else wording.too_large, "range")
        return text
    raw = GROUP_SEPARATORS.sub("", text or "")
    raw = raw.removesuffix("FCFA").removesuffix("XOF").removesuffix("F")
    return parse_number(raw, minimum=minimum, maximum=MAX_XOF, wording=wording)


def parse_minor(text: str | None) -> int:
    """An amount in a currency with cents ("1 250,50", "1250.5") as an integer of cents."""
    wording = Wording(
        format=_("Enter the amount in digits, with at most two decimals."),
        empty=_("Enter an amount, for example 1 500."),
        negative=_("The amount cannot be negative."),
        too_small=_("The amount must be greater than zero."),
        too_large=_("This amount is too large."),
    )
    return parse_number(text, places=2, minimum=1, maximum=MAX_XOF * 100, wording=wording)


def parse_rate(text: str | None) -> int:
    """An exchange rate ("655.957", "610,5") as millionths of a franc per unit."""
    wording = Wording(
        format=_("Enter the rate as a number of francs CFA, for example 610.25."),
        negative=_("The rate must be greater than zero."),
        too_small=_("The rate must be greater than zero."),
    )
    return parse_number(text, places=6, minimum=1, maximum=MAX_RATE_MILLIONTHS, wording=wording)


def convert_to_xof(amount_minor: int, rate_millionths: int) -> int:
    """Cents of a currency times its rate, rounded half up to the franc (integers only)."""
    denominator = 100 * 1_000_000
    return (amount_minor * rate_millionths * 2 + denominator) // (2 * denominator)


def rate_text(rate_millionths: int) -> str:
    units, fraction = divmod(rate_millionths, 1_000_000)
    return f"{units}.{fraction:06d}".rstrip("0").rstrip(".")


def minor_text(amount_minor: int) -> str:
    units, cents = divmod(amount_minor, 100)
    return f"{units}.{cents:02d}" if cents else str(units)


def _locale(locale: str | None) -> str:
    return locale or str(get_locale() or "fr")


def format_xof(amount: int | None, locale: str | None = None) -> str:
    """"2 500 000 F CFA" in French, "2,500,000 F CFA" in English."""
    if amount is None:
        return ""
    # The symbol after the number in both languages ("2,500,000 F CFA"): CLDR's English pattern
    # glues it in front ("F CFA2,500,000").
    return format_currency(amount, "XOF", format="#,##0\u00a0¤", locale=_locale(locale))


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


def share_bps(part: int, whole: int) -> int:
    """``part`` as basis points of ``whole`` (rounded half up); 0 when whole is 0."""
    if whole <= 0:
        return 0
    return (part * 10_000 * 2 + whole) // (2 * whole)


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

    def text(self) -> str:
        return f"{self.numerator}:{self.denominator}"
