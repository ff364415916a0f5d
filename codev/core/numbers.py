"""Numbers typed by people: one parser and one rule for every amount, rate, share, score, count and id.

The rule, the same in every form (and in the pages' one reader, codev/static/js/numbers.js, which the live
plan and the live total of the evaluation grid read figures with; tests/test_browser_numbers.py holds them
to each other):

- the digits 0 to 9; spaces of any kind (and "'", "_") between groups are only spaces;
- a mark that appears twice or more ("1,200,000", "1.200.000"), or before the other mark ("4,000.50",
  "4.000,50"), separates thousands — it must then stand every three digits;
- a single mark that cannot separate thousands ("33,5", "610.25", "4000,50", "0.500") is the decimal mark;
- a single mark followed by exactly three digits ("1,200", "1.200") is read as the reader's language
  writes it: in English "," separates thousands and "." marks decimals; in French "," marks decimals and
  "." separates thousands (the francophone "1.500.000 F CFA"), except where decimals are allowed, where
  "1.200" could be either and is refused. Read as decimals where the field takes fewer, it is refused
  with a message that says how to write thousands in that language — never read as something else;
- at most ``places`` decimals; no sign, no exponent, no hexadecimal, no "NaN".

Other digits — full-width (１２３), Arabic-Indic (١٢٣), superscripts (²) — are refused on purpose, with a
message that says so: what is stored is then always what the person sees they typed. Every result lies
within the bounds the caller gives, chosen to fit its column.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from codev.core.i18n import gettext as _
from codev.core.i18n import locale_name
from codev.core.unit_of_work import DomainError

INT32_MAX = 2**31 - 1  # an Integer column
INT64_MAX = 2**63 - 1  # a BigInteger column
MAX_DIGITS = 18  # before the decimal mark: below 2^63, and far below what int() parses quickly
GROUP_SEPARATORS = re.compile(r"[\s\u00a0\u202f\u2009_']")
_FIGURE = re.compile(r"[0-9.,]+")
_MINUS = ("-", "\u2212", "\u2012", "\u2013")


class NumberError(DomainError, ValueError):
    """Typed text that is not an acceptable number; the message is translated for the person.

    ``kind`` says which rule refused it: "empty", "digits" (not the digits 0 to 9), "format",
    "negative", "decimals", "ambiguous" (a mark the reader's language reads as decimals where the field
    takes fewer) or "range".
    """

    def __init__(self, message: str, kind: str = "format") -> None:
        super().__init__(str(message))
        self.kind = kind


def digits_message() -> str:
    return _("Type the digits 0 to 9: other digits (full-width, Arabic-Indic, superscript…) are not accepted.")


def has_foreign_digits(text: str) -> bool:
    """Whether ``text`` holds a digit or numeral other than 0 to 9 ("１", "١", "²", "½", "Ⅻ")."""
    return any(not c.isascii() and (c.isnumeric() or unicodedata.category(c) == "Nd") for c in text)


@dataclass(frozen=True)
class Wording:
    """What the refusals of one kind of number say (each defaults to ``format``)."""

    format: str
    empty: str | None = None
    negative: str | None = None
    decimals: str | None = None
    too_small: str | None = None
    too_large: str | None = None


def reader_language(locale: str | None = None) -> str:
    """"en" or "fr": the language whose way of writing numbers decides an ambiguous figure."""
    if locale is None:
        locale = locale_name()  # outside a request: the programme's working language, French
    return "en" if str(locale).lower().startswith("en") else "fr"


def ambiguity_message(places: int) -> str:
    """How to write thousands (and decimals) in the reader's language; each translation states its own."""
    if places == 0:
        # Translators: the separators of your language ("1 200" or "1.200" in French).
        return _("Write thousands with a comma or a space, for example 1,200 or 1 200 (a point marks decimals).")
    # Translators: the separators of your language ("1 200,50" in French).
    return _("Write thousands with a comma or a space and decimals with a point, for example 1,200.50.")


def _grouped(text: str, mark: str) -> bool:
    """Whether ``text`` is digits grouped by ``mark`` every three digits ("1,200,000")."""
    return re.fullmatch(r"[1-9][0-9]{0,2}(?:" + re.escape(mark) + r"[0-9]{3})+", text) is not None


def split_figure(raw: str, places: int, language: str) -> tuple[str, str] | str:
    """The whole part and the decimals of ``raw`` (digits, "." and "," only), or the kind of refusal."""
    marks = {c for c in raw if c in ".,"}
    if not marks:
        return raw, ""
    if len(marks) == 2:  # "4,000.50": the last mark is the decimal one, the other groups thousands
        decimal = raw[max(raw.rfind("."), raw.rfind(","))]
        group = "," if decimal == "." else "."
        head, _mark, tail = raw.rpartition(decimal)
        if decimal in head or not tail or not _grouped(head, group):
            return "format"
        return head.replace(group, ""), tail
    mark = marks.pop()
    if raw.count(mark) > 1:
        return (raw.replace(mark, ""), "") if _grouped(raw, mark) else "format"
    head, _mark, tail = raw.partition(mark)
    if not head or not tail:
        return "format"
    if not _grouped(raw, mark):  # "33,5", "4000.50": only a decimal mark
        return head, tail
    groups = mark == "," if language == "en" else mark == "."
    if groups and (language == "en" or places == 0):
        return head + tail, ""
    if not groups and places >= len(tail):
        return head, tail
    return "ambiguous"


def parse_number(
    text: str | None, *, places: int = 0, minimum: int = 0, maximum: int, wording: Wording,
    locale: str | None = None,
) -> int:
    """``text`` as an integer count of 10^-``places`` units ("1 250,50" with 2 places → 125050).

    ``locale`` (by default the reader's) decides "1,200" and "1.200" (see the module's docstring).
    Raises :class:`NumberError` (with ``wording``'s message) unless the value lies in [minimum, maximum].
    """
    if not isinstance(text, str):
        raise NumberError(wording.empty or wording.format, "empty" if text is None else "format")
    raw = GROUP_SEPARATORS.sub("", text)
    if not raw:
        raise NumberError(wording.empty or wording.format, "empty")
    if has_foreign_digits(raw):
        raise NumberError(digits_message(), "digits")
    negative = raw.startswith(_MINUS)
    if negative:
        raw = raw[1:]
    parts = split_figure(raw, places, reader_language(locale)) if _FIGURE.fullmatch(raw) else "format"
    if negative and parts != "format":
        raise NumberError(wording.negative or wording.format, "negative")
    if parts == "ambiguous":
        raise NumberError(ambiguity_message(places), "ambiguous")
    if isinstance(parts, str):
        raise NumberError(wording.format, "format")
    units, fraction = parts[0].lstrip("0") or "0", parts[1]
    if len(units) > MAX_DIGITS:
        raise NumberError(wording.too_large or wording.format, "range")
    if len(fraction) > places:
        raise NumberError(wording.decimals or wording.format, "decimals")
    value = int(units) * 10**places + int(fraction.ljust(places, "0") or "0")
    if value < minimum:
        raise NumberError(wording.too_small or wording.format, "range")
    if value > maximum:
        raise NumberError(wording.too_large or wording.format, "range")
    return value


def typed_number(units: int, places: int = 0, locale: str | None = None, *, cents: bool = False) -> str:
    """An integer count of 10^-``places`` as its reader types it back into a field, read again to the same
    value by :func:`parse_number`: "1 234,5" in French, "1,234.5" in English (``cents`` keeps "4 000,50")."""
    english = reader_language(locale) == "en"
    whole, fraction = divmod(units, 10**places)
    text = f"{whole:,}".replace(",", "," if english else " ")
    decimals = f"{fraction:0{places}d}" if places else ""
    decimals = decimals if cents and fraction else decimals.rstrip("0")
    return f"{text}{'.' if english else ','}{decimals}" if decimals else text


def parse_whole(
    text: str | int | None, *, minimum: int = 0, maximum: int = INT32_MAX, message: str | None = None,
    range_message: str | None = None, locale: str | None = None,
) -> int:
    """A whole number ("1 200", "1.200") from ``minimum`` to ``maximum`` (a count, a score, a year)."""
    low, high = minimum, maximum
    in_range = range_message or _("Enter a number between %(low)s and %(high)s.", low=low, high=high)
    wording = Wording(format=message or _("Enter a whole number, in digits."), too_small=in_range,
                      too_large=in_range)
    if isinstance(text, int) and not isinstance(text, bool):
        if not low <= text <= high:
            raise NumberError(in_range, "range")
        return text
    return parse_number(text, minimum=low, maximum=high, wording=wording, locale=locale)


def parse_percent(text: str | int | None, *, minimum: int = 0, locale: str | None = None) -> int:
    """A share typed as a percentage ("70", "33,5", "70 %") in basis points, from ``minimum`` to 10 000."""
    low = "0" if minimum == 0 else "0,01"
    in_range = _("Enter a percentage between %(low)s and 100.", low=low)
    if isinstance(text, int) and not isinstance(text, bool):
        if not minimum <= text <= 10_000:
            raise NumberError(in_range, "range")
        return text
    wording = Wording(format=_("Enter a percentage between 0 and 100, for example 70 or 33,5."),
                      empty=_("Enter a percentage, for example 70."), too_small=in_range, too_large=in_range)
    raw = text.replace("%", "") if isinstance(text, str) else text
    return parse_number(raw, places=2, minimum=minimum, maximum=10_000, wording=wording, locale=locale)


def parse_id(value: object) -> int | None:
    """An id read from a form or a query string ("12"), or None: digits 0 to 9 only, within a BigInteger."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= INT64_MAX else None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,19}", value.strip()):
        return None
    number = int(value.strip())
    return number if 0 < number <= INT64_MAX else None
