"""Togo's embassies abroad and the countries each one covers (the directory's jurisdictions).

The table lives in core/data/embassies.csv so the ministry can correct a jurisdiction without code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from codev.core.i18n import locale_name


@dataclass(frozen=True)
class Embassy:
    code: str
    city_fr: str
    city_en: str
    countries: tuple[str, ...]

    def label(self, locale: str | None = None) -> str:
        loc = locale or locale_name()
        return self.city_en if loc == "en" else self.city_fr


@cache
def embassies() -> tuple[Embassy, ...]:
    text = files("codev.core").joinpath("data/embassies.csv").read_text(encoding="utf-8")
    return tuple(
        Embassy(r["code"], r["city_fr"], r["city_en"], tuple(r["countries"].split()))
        for r in csv.DictReader(text.splitlines())
    )


def embassy_for_country(country: str | None) -> Embassy | None:
    return next((e for e in embassies() if country in e.countries), None)


def embassy_label(code: str | None) -> str:
    embassy = next((e for e in embassies() if e.code == code), None)
    return embassy.label() if embassy else ""


def embassy_choices() -> list[tuple[str, str]]:
    return [(e.code, e.label()) for e in embassies()]
