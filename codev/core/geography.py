"""Togo's regions, prefectures and communes, shipped with the code (core/data/togo_communes.csv)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class Region:
    code: str
    name: str


@cache
def _rows() -> tuple[dict[str, str], ...]:
    text = files("codev.core").joinpath("data/togo_communes.csv").read_text(encoding="utf-8")
    return tuple(csv.DictReader(text.splitlines()))


@cache
def regions() -> tuple[Region, ...]:
    """The five regions in the file's order, with Grand Lomé listed as its own district."""
    seen: dict[str, Region] = {}
    for row in _rows():
        if row["district"] == "Grand Lomé" and "TG-GL" not in seen:
            seen["TG-GL"] = Region("TG-GL", "Grand Lomé")
        elif row["district"] != "Grand Lomé" and row["region_code"] not in seen:
            seen[row["region_code"]] = Region(row["region_code"], row["region"])
    return tuple(seen.values())


def region_choices() -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in regions()]


def region_name(code: str) -> str:
    return next((r.name for r in regions() if r.code == code), code)
