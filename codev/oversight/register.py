"""The public register of funded projects: its statuses in words and its open-data CSV.

Nothing personal is in it: no email, phone, address or person's name — the association by its name and
country of residence only; no bank reference, no free text an association typed but the project's title.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from codev.core.countries import country_name
from codev.core.geography import region_name
from codev.core.sectors import SECTOR_BY_CODE, sector_label
from codev.oversight.queries import REGISTER_STATUSES, Filters, register_rows

REGISTER_STATUS_LABELS = {
    "funded": _l("Funded"),
    "completed": _l("Completed"),
    "closed": _l("Closed"),
    "lapsed": _l("Grant lapsed"),
    "cancelled": _l("Grant cancelled"),
}
assert set(REGISTER_STATUS_LABELS) == set(REGISTER_STATUSES)


def status_label(code: str) -> str:
    label = REGISTER_STATUS_LABELS.get(code)
    return str(label) if label else code


def status_choices() -> list[tuple[str, Any]]:
    return list(REGISTER_STATUS_LABELS.items())


def _dac(code: str | None) -> str:
    sector = SECTOR_BY_CODE.get(code or "")
    return sector.dac_code if sector else ""


def _call_title(row: Any, locale: str) -> str:
    return (row.call_title_en or row.call_title) if locale == "en" else row.call_title


# (header, value of a register row) — the open-data CSV, in the reader's language.
CSV_COLUMNS = (
    (_l("Project reference"), lambda row, locale: row.reference),
    (_l("Project"), lambda row, locale: row.title),
    (_l("Call"), _call_title),
    (_l("Status"), lambda row, locale: status_label(row.status)),
    (_l("Association"), lambda row, locale: row.association),
    (_l("Country of residence"), lambda row, locale: country_name(row.country, locale)),
    (_l("Region"), lambda row, locale: region_name(row.region or "")),
    (_l("Prefecture"), lambda row, locale: row.prefecture),
    (_l("Commune"), lambda row, locale: row.commune),
    (_l("Sector"), lambda row, locale: sector_label(row.sector) if row.sector else ""),
    (_l("OECD-DAC code"), lambda row, locale: _dac(row.sector)),
    (_l("Approved on"), lambda row, locale: row.approved_at.date()),
    (_l("Grant awarded (XOF)"), lambda row, locale: row.grant_xof),
    (_l("State money committed (XOF)"), lambda row, locale: row.committed_xof),
    (_l("Diaspora money verified (XOF)"), lambda row, locale: row.diaspora_xof),
    (_l("Paid (XOF)"), lambda row, locale: row.paid_xof),
    (_l("Tranches paid"), lambda row, locale: row.tranches_paid),
    (_l("Tranches"), lambda row, locale: row.tranches),
)


def csv_headers() -> list[str]:
    return [str(header) for header, _value in CSV_COLUMNS]


def csv_rows(filters: Filters, locale: str):
    """The register's rows for its CSV, a batch at a time from the database."""
    from codev.extensions import db
    from codev.oversight.tables import YIELD_PER

    for row in db.session.execute(register_rows(filters).execution_options(yield_per=YIELD_PER)):
        yield [value(row, locale) for _header, value in CSV_COLUMNS]
