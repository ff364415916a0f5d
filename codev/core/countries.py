"""Countries of residence (names from Babel's CLDR data, in the reader's language)."""

from __future__ import annotations

from functools import cache

from babel import Locale

from codev.core.i18n import locale_name

# CLDR territories that are not countries one lives in.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AQ", "BV", "HM", "CP", "DG", "IC", "EA", "TA"}


@cache
def _names(locale: str) -> dict[str, str]:
    territories = Locale.parse(locale).territories
    return {
        code: name
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


def country_name(code: str | None, locale: str | None = None) -> str:
    if not code:
        return ""
    return _names(locale or locale_name()).get(code, code)


def country_choices(locale: str | None = None) -> list[tuple[str, str]]:
    """(ISO code, name) pairs sorted by the name as the reader spells it."""
    return list(_sorted_choices(locale or locale_name()))


@cache
def _sorted_choices(locale: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(_names(locale).items(), key=lambda item: _sort_key(item[1])))


def is_country(code: str) -> bool:
    return code in _names("en")


def _sort_key(name: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", name.casefold()) if not unicodedata.combining(c))
