"""Togo's regions, prefectures and communes, shipped with the code (core/data/togo_communes.csv).

Grand Lomé, an autonomous district inside the Maritime region, is listed as its own "region" with the
code ``TG-GL`` (6 entries in all); its two prefectures (Golfe, Agoè-Nyivé) belong to it and not to
Maritime. Names are matched without regard to accents, case, hyphens, or the spelling variants in
common use (Tandjoaré, Tchoudjo, Cinkancé, Bimah, Kpélé-Akata, Plaine du Mô…).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

GRAND_LOME = "TG-GL"

# Spelling variants seen in sources → the spelling of the reference file (both sides normalised).
VARIANTS = {
    "tandjoare": "tandjouare",
    "tchoudjo": "tchaoudjo",
    "cinkance": "cinkasse",
    "bimah": "binah",
    "kpele akata": "kpele",
    "plaine du mo": "mo",
}
_VARIANT_RE = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(VARIANTS, key=len, reverse=True)) + r")\b")


@dataclass(frozen=True)
class Region:
    code: str
    name: str


@dataclass(frozen=True)
class Prefecture:
    name: str
    region_code: str  # TG-GL for the prefectures of Grand Lomé
    chef_lieu: str


@dataclass(frozen=True)
class Commune:
    name: str
    prefecture: str
    region_code: str  # as in regions(): TG-GL for Grand Lomé
    iso_region_code: str  # the ISO 3166-2 region (Grand Lomé is in TG-M)

    @property
    def region_name(self) -> str:
        return region_name(self.region_code)

    def label(self) -> str:
        """"Golfe 1 (Golfe, Grand Lomé)"."""
        return f"{self.name} ({self.prefecture}, {self.region_name})"


def normalize(text: str | None) -> str:
    """Lower case, no accents, hyphens and apostrophes as spaces, single spaces, variants folded."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = re.sub(r"[-'’_.,]", " ", plain)
    plain = re.sub(r"\s+", " ", plain).strip()
    return _VARIANT_RE.sub(lambda m: VARIANTS[m.group(1)], plain)


@cache
def _rows() -> tuple[dict[str, str], ...]:
    text = files("codev.core").joinpath("data/togo_communes.csv").read_text(encoding="utf-8")
    return tuple(csv.DictReader(text.splitlines()))


def _region_code(row: dict[str, str]) -> str:
    return GRAND_LOME if row["district"] == "Grand Lomé" else row["region_code"]


@cache
def regions() -> tuple[Region, ...]:
    """The five regions in the file's order, with Grand Lomé listed as its own district."""
    seen: dict[str, Region] = {}
    for row in _rows():
        if row["district"] == "Grand Lomé" and GRAND_LOME not in seen:
            seen[GRAND_LOME] = Region(GRAND_LOME, "Grand Lomé")
        elif row["district"] != "Grand Lomé" and row["region_code"] not in seen:
            seen[row["region_code"]] = Region(row["region_code"], row["region"])
    return tuple(seen.values())


def region_choices() -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in regions()]


def region_name(code: str) -> str:
    return next((r.name for r in regions() if r.code == code), code)


@cache
def _all_prefectures() -> tuple[Prefecture, ...]:
    seen: dict[str, Prefecture] = {}
    for row in _rows():
        if row["prefecture"] not in seen:
            seen[row["prefecture"]] = Prefecture(row["prefecture"], _region_code(row), row["chef_lieu"])
    return tuple(seen.values())


@cache
def _all_communes() -> tuple[Commune, ...]:
    return tuple(Commune(row["commune"], row["prefecture"], _region_code(row), row["region_code"]) for row in _rows())


@cache
def _communes_by_key() -> dict[str, Commune]:
    return {normalize(c.name): c for c in _all_communes()}


def prefectures(region_code: str | None = None) -> tuple[Prefecture, ...]:
    """The prefectures of a region (``TG-GL`` for Grand Lomé), or all 39 without a region."""
    if region_code is None:
        return _all_prefectures()
    return tuple(p for p in _all_prefectures() if p.region_code == region_code)


def prefecture_by_name(name: str | None) -> Prefecture | None:
    key = normalize(name)
    return next((p for p in _all_prefectures() if normalize(p.name) == key), None) if key else None


def communes(prefecture: str | None = None) -> tuple[Commune, ...]:
    """The communes of a prefecture (by name, variants accepted), or all 117 without one."""
    if prefecture is None:
        return _all_communes()
    found = prefecture_by_name(prefecture)
    if found is None:
        return ()
    return tuple(c for c in _all_communes() if c.prefecture == found.name)


def commune_by_name(name: str | None) -> Commune | None:
    """The commune called ``name`` (accents, case, hyphens and known variants ignored), else None."""
    key = normalize(name)
    return _communes_by_key().get(key) if key else None


def search_communes(text: str | None, limit: int = 50) -> list[Commune]:
    """Communes whose name or prefecture matches ``text``, best matches first."""
    query = normalize(text)
    if not query:
        return []
    ranked = []
    for index, commune in enumerate(_all_communes()):
        name, prefecture = normalize(commune.name), normalize(commune.prefecture)
        words = name.split() + prefecture.split()
        if name == query:
            rank = 0
        elif prefecture == query:
            rank = 1
        elif name.startswith(query) or prefecture.startswith(query):
            rank = 2
        elif any(w.startswith(query) for w in words):
            rank = 3
        elif query in name or query in prefecture:
            rank = 4
        elif any(w.startswith(query) for w in _context_words(commune)):
            rank = 5  # the prefecture's chef-lieu or the region: "Lomé", "Sokodé", "Kara"
        else:
            continue
        ranked.append((rank, index, commune))
    ranked.sort(key=lambda item: item[:2])
    return [commune for _rank, _index, commune in ranked[:limit]]


@cache
def _chef_lieu(prefecture: str) -> str:
    return next((p.chef_lieu for p in _all_prefectures() if p.name == prefecture), "")


def _context_words(commune: Commune) -> list[str]:
    return normalize(f"{_chef_lieu(commune.prefecture)} {commune.region_name}").split()


def commune_choices(region_codes: list[str] | tuple[str, ...] | None = None) -> dict[str, list[tuple[str, str]]]:
    """Communes grouped "Region — Prefecture" for a WTForms ``SelectField`` (``<optgroup>``, no JavaScript).

    Pass a call's region codes to offer only its eligible communes.
    """
    groups: dict[str, list[tuple[str, str]]] = {}
    for commune in _all_communes():
        if region_codes is not None and commune.region_code not in region_codes:
            continue
        group = f"{commune.region_name} — {commune.prefecture}"
        groups.setdefault(group, []).append((commune.name, commune.name))
    return groups


def chooser_state(region: str | None, prefecture: str | None, q: str | None, next_url: str | None) -> dict:
    """What the no-JavaScript commune chooser (templates/geo/_chooser.html) shows at each step.

    ``next_url``, when it is a path of this site, is where each commune links back to, with
    ``?commune=<name>`` added (the form there validates the name with :func:`commune_by_name`).
    """
    from urllib.parse import urlencode

    from codev.core.urls import safe_next

    found = prefecture_by_name(prefecture)
    if found is not None:
        region = found.region_code
    if region not in {r.code for r in regions()}:
        region = None
    back = safe_next(next_url)
    pick = None
    if back:
        separator = "&" if "?" in back else "?"
        pick = {c.name: f"{back}{separator}{urlencode({'commune': c.name})}" for c in _all_communes()}
    return {
        "regions": regions(), "region": region,
        "prefectures": prefectures(region) if region else (),
        "prefecture": found.name if found else None,
        "communes": communes(found.name) if found else (),
        "q": q or "", "results": search_communes(q) if q else [],
        "next": back, "pick": pick,
    }
