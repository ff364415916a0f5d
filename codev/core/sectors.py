"""The programme's sectors, each mapped to one OECD-DAC 5-digit purpose code (for open-data exports)."""

from __future__ import annotations

from dataclasses import dataclass

from codev.core.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class Sector:
    code: str
    dac_code: str
    label: object  # a lazy string, translated when shown


SECTORS: tuple[Sector, ...] = (
    Sector("water", "14030", _l("Water and sanitation")),
    Sector("health", "12220", _l("Health")),
    Sector("education", "11120", _l("Education")),
    Sector("agriculture", "31120", _l("Agriculture and food")),
    Sector("energy", "23230", _l("Energy")),
    Sector("economy", "32130", _l("Economic development and jobs")),
    Sector("environment", "41010", _l("Environment")),
    Sector("culture_youth", "16061", _l("Culture and youth")),
    Sector("infrastructure", "21020", _l("Rural roads and infrastructure")),
    Sector("social", "16010", _l("Social protection and gender")),
)

SECTOR_BY_CODE = {s.code: s for s in SECTORS}


def sector_choices() -> list[tuple[str, str]]:
    """(code, translated label) pairs for a form."""
    return [(s.code, str(s.label)) for s in SECTORS]


def sector_label(code: str) -> str:
    sector = SECTOR_BY_CODE.get(code)
    return str(sector.label) if sector else code
