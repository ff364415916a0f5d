"""The public register of funded projects: its statuses in words and its open-data CSV.

Nothing personal is in it: no email, phone, address or person's name — the association by its name and
country of residence only; no bank reference, no free text an association typed but the project's title.
"""

from __future__ import annotations

from typing import Any

from codev.core.countries import country_name
from codev.core.geography import region_name
from codev.core.i18n import lazy_gettext as _l
from codev.core.sectors import SECTOR_BY_CODE, sector_label
from codev.core.templating import localized
from codev.extensions import db
from codev.oversight.queries import REGISTER_STATUSES, Filters, register_rows
from codev.oversight.tables import YIELD_PER, remembered

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
    return localized(row, "call_title", locale)


def csv_columns(locale: str) -> list[tuple[Any, Any]]:
    """(header, value of a register row) — the open-data CSV, in the reader's language; each label is
    translated once per file."""
    status = remembered(status_label)
    country = remembered(lambda code: country_name(code, locale))
    region = remembered(lambda code: region_name(code or ""))
    sector = remembered(lambda code: sector_label(code) if code else "")
    dac = remembered(_dac)
    return [
        (_l("Project reference"), lambda row: row.reference),
        (_l("Project"), lambda row: row.title),
        (_l("Call"), lambda row: _call_title(row, locale)),
        (_l("Status"), lambda row: status(row.status)),
        (_l("Association"), lambda row: row.association),
        (_l("Country of residence"), lambda row: country(row.country)),
        (_l("Region"), lambda row: region(row.region)),
        (_l("Prefecture"), lambda row: row.prefecture),
        (_l("Commune"), lambda row: row.commune),
        (_l("Sector"), lambda row: sector(row.sector)),
        (_l("OECD-DAC code"), lambda row: dac(row.sector)),
        (_l("Approved on"), lambda row: row.approved_at.date()),
        (_l("Grant awarded (XOF)"), lambda row: row.grant_xof),
        (_l("State money committed (XOF)"), lambda row: row.committed_xof),
        (_l("Diaspora money verified (XOF)"), lambda row: row.diaspora_xof),
        (_l("Paid (XOF)"), lambda row: row.paid_xof),
        (_l("Tranches paid"), lambda row: row.tranches_paid),
        (_l("Tranches"), lambda row: row.tranches),
    ]


def csv_headers(locale: str) -> list[str]:
    return [str(header) for header, _value in csv_columns(locale)]


def csv_rows(filters: Filters, locale: str):
    """The register's rows for its CSV, a batch at a time from the database."""
    values = [value for _header, value in csv_columns(locale)]
    for row in db.session.execute(register_rows(filters, whole=True).execution_options(yield_per=YIELD_PER)):
        yield [value(row) for value in values]
