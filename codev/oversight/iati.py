"""The IATI activity file (standard 2.03) of the funded projects, for the technical and financial partners.

One ``iati-activity`` per project that received a grant: its identifier (the reporting organisation's
identifier, setting ``IATI_ORG_ID``, then the project's reference), the ministry as reporting and
funding organisation, the association as implementing organisation (by its name only: no person is
named anywhere in the file), title and description in French and English, status and dates, Togo and
the region, the OECD-DAC sector, the budget, and the transactions:

- a commitment (type 2) at approval for the grant, and a negative one for money released back to the
  envelope when the grant lapsed or was cancelled (so the commitments add up to what stays committed);
- a disbursement (type 3) for each payment;
- incoming funds (type 1) for each contribution of the association (cash or in kind) that an officer
  verified and nobody reversed.

The file is streamed: three statements read the grants, the disbursements and the verified
contributions, each ordered by grant and read a batch at a time, merged as they come; each activity is
built, written and forgotten.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib.resources import files
from typing import Any

from flask import current_app
from flask_babel import force_locale
from lxml import etree as ET  # built in C: a file of 50 000 activities is written many times faster
from sqlalchemy import select

from codev.accounts.models import Association
from codev.core.countries import country_name
from codev.core.geography import region_name
from codev.core.i18n import gettext as _
from codev.core.sectors import SECTOR_BY_CODE, SECTORS
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.models import Disbursement, Grant
from codev.oversight.queries import register_status, verified_declarations
from codev.oversight.tables import YIELD_PER, clean_text
from codev.projects.models import FundingSource, Project

VERSION = "2.03"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
GOVERNMENT = "10"  # OrganisationType
FUNDING, IMPLEMENTING = "1", "4"  # OrganisationRole
COMMITMENT, DISBURSEMENT, INCOMING = "2", "3", "1"  # TransactionType
STANDARD_GRANT = "110"  # FinanceType
PROJECT_TYPE = "C01"  # AidType: project-type interventions
# The register's status → ActivityStatus (2 implementation, 3 finalisation, 4 closed, 5 cancelled).
ACTIVITY_STATUS = {"funded": "2", "completed": "3", "closed": "4", "lapsed": "5", "cancelled": "5"}


@cache
def dac_names() -> dict[str, dict[str, str]]:
    """OECD-DAC purpose code → {"en": name, "fr": name}, from the reference shipped with the code."""
    text = files("codev.core").joinpath("data/oecd_dac_sectors.csv").read_text(encoding="utf-8")
    return {row["code"]: {"en": row["name_en"], "fr": row["name_fr"]} for row in csv.DictReader(text.splitlines())}


def _activities() -> Any:
    return (
        select(Grant.id.label("grant_id"), Grant.amount_xof, Grant.released_xof, Grant.approved_at,
               Grant.lapsed_at, Grant.cancelled_at, Grant.completed_at, Project.reference, Project.title,
               Project.commune, Project.prefecture, Project.region, Project.sector, Project.start_date,
               Project.duration_months, Project.updated_at, Association.name.label("association"),
               Association.country, register_status().label("status"))
        .select_from(Grant).join(Project, Project.id == Grant.project_id)
        .join(Association, Association.id == Project.association_id)
        .order_by(Grant.id)
    )


def _disbursements() -> Any:
    return (select(Disbursement.grant_id, Disbursement.value_date, Disbursement.amount_xof, Disbursement.tranche_number)
            .order_by(Disbursement.grant_id, Disbursement.id))


def _contributions() -> Any:
    declared = verified_declarations().subquery("standing")
    return (select(declared.c.grant_id, declared.c.value_date, declared.c.amount_xof, declared.c.source)
            .order_by(declared.c.grant_id, declared.c.id))


class _Stream:
    """Rows of a statement ordered by grant, taken grant by grant (a merge with the activities)."""

    def __init__(self, stmt: Any):
        self._rows = iter(db.session.execute(stmt.execution_options(yield_per=YIELD_PER)))
        self._next = next(self._rows, None)

    def of(self, grant_id: int) -> list[Any]:
        found = []
        while self._next is not None and self._next.grant_id <= grant_id:
            if self._next.grant_id == grant_id:
                found.append(self._next)
            self._next = next(self._rows, None)
        return found


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: Any) -> ET.Element:
    element = ET.SubElement(parent, tag, {k.replace("_", "-"): str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = clean_text(text)
    return element


def _narratives(parent: ET.Element, texts: dict[str, str]) -> ET.Element:
    """One narrative per language; French is the file's default language (no xml:lang)."""
    for lang, text in texts.items():
        narrative = _sub(parent, "narrative", text)
        if lang != "fr":
            narrative.set(XML_LANG, lang)
    return parent


def texts() -> dict[str, dict]:
    """Every sentence of the file in French and in English, read from the catalogs once per file."""
    found = {}
    for lang in ("fr", "en"):
        with force_locale(lang):
            found[lang] = {
                "description": _(
                    "Co-development project of the association %(association)s (%(country)s) in the commune of "
                    "%(commune)s (%(prefecture)s, %(region)s, Togo), sector: %(sector)s. The Togolese state matches "
                    "the money of the diaspora with a grant released in tranches."),
                "location": _("Commune of %(commune)s, prefecture of %(prefecture)s, region: %(region)s"),
                "approved": _("Grant approved"),
                "returned": _("Unspent grant returned to the call's envelope"),
                "tranche": _("Tranche %(number)s paid"),
                "cash": _("Contribution of the diaspora association, in cash, verified"),
                "in_kind": _("Contribution of the diaspora association, in kind, verified"),
                "sectors": {sector.code: str(sector.label) for sector in SECTORS},
            }
    return found


def _both(words: dict[str, dict], key: str, **values: Any) -> dict[str, str]:
    """The sentence ``key`` in both languages with ``values`` put in (a country and a sector named in each)."""
    result = {}
    for lang, sentences in words.items():
        put = dict(values)
        if "country" in put:
            put["country"] = country_name(put["country"], lang)
        if "sector" in put:
            put["sector"] = sentences["sectors"].get(put["sector"], put["sector"])
        result[lang] = sentences[key] % put if put else sentences[key]
    return result


def _iso(moment: datetime | date) -> str:
    return (moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment).isoformat()


def _add_months(start: date, months: int) -> date:
    year, month = divmod(start.month - 1 + months, 12)
    day = min(start.day, 28)
    return date(start.year + year, month + 1, day)


def _transaction(activity: ET.Element, kind: str, when: date | datetime, amount: int, description: dict[str, str],
                 provider: tuple[dict[str, str], str | None], receiver: dict[str, str]) -> None:
    element = _sub(activity, "transaction")
    _sub(element, "transaction-type", code=kind)
    _sub(element, "transaction-date", iso_date=_iso(when))
    _sub(element, "value", str(amount), currency="XOF", value_date=_iso(when))
    _narratives(_sub(element, "description"), description)
    names, ref = provider
    _narratives(_sub(element, "provider-org", ref=ref, type=GOVERNMENT if ref else None), names)
    _narratives(_sub(element, "receiver-org"), receiver)


def activity(row: Any, payments: list[Any], contributions: list[Any], org_id: str, ministry: dict[str, str],
             words: dict[str, dict]) -> bytes:
    """One project's ``iati-activity`` element, serialised."""
    association = {"fr": row.association}
    dac = SECTOR_BY_CODE[row.sector].dac_code if row.sector in SECTOR_BY_CODE else None
    element = ET.Element("iati-activity", {
        "last-updated-datetime": row.updated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        XML_LANG: "fr", "default-currency": "XOF", "humanitarian": "0",
    })
    _sub(element, "iati-identifier", f"{org_id}-{row.reference}")
    _narratives(_sub(element, "reporting-org", ref=org_id, type=GOVERNMENT), ministry)
    _narratives(_sub(element, "title"), {"fr": row.title, "en": row.title})
    _narratives(_sub(element, "description", type="1"), _both(
        words, "description", association=row.association, country=row.country, commune=row.commune or "—",
        prefecture=row.prefecture or "—", region=region_name(row.region or ""), sector=row.sector or ""))
    _narratives(_sub(element, "participating-org", ref=org_id, type=GOVERNMENT, role=FUNDING), ministry)
    _narratives(_sub(element, "participating-org", role=IMPLEMENTING), association)
    _sub(element, "other-identifier", ref=row.reference, type="A1")
    _sub(element, "activity-status", code=ACTIVITY_STATUS.get(row.status, "2"))
    planned_start = row.start_date or row.approved_at.date()
    _sub(element, "activity-date", type="1", iso_date=_iso(planned_start))
    if payments:
        _sub(element, "activity-date", type="2", iso_date=_iso(min(p.value_date for p in payments)))
    if row.duration_months:
        _sub(element, "activity-date", type="3", iso_date=_iso(_add_months(planned_start, row.duration_months)))
    if row.completed_at:
        _sub(element, "activity-date", type="4", iso_date=_iso(row.completed_at))
    _sub(element, "recipient-country", code="TG", percentage="100")
    if row.region:
        location = _sub(element, "location", ref=row.region)
        _sub(location, "location-reach", code="1")
        _narratives(_sub(location, "name"), {"fr": region_name(row.region)})
        _narratives(_sub(location, "description"), _both(
            words, "location", commune=row.commune or "—", prefecture=row.prefecture or "—",
            region=region_name(row.region)))
        _sub(location, "administrative", vocabulary="A4", level="0", code="TG")
        _sub(location, "exactness", code="2")
        _sub(location, "feature-designation", code="ADM1")
    if dac:
        _narratives(_sub(element, "sector", vocabulary="1", code=dac, percentage="100"), dac_names().get(dac, {}))
    _sub(element, "default-finance-type", code=STANDARD_GRANT)
    _sub(element, "default-aid-type", code=PROJECT_TYPE, vocabulary="1")
    approved = row.approved_at.astimezone(UTC).date()
    budget = _sub(element, "budget", type="1", status="2")
    _sub(budget, "period-start", iso_date=_iso(approved))
    _sub(budget, "period-end", iso_date=_iso(approved + timedelta(days=364)))
    _sub(budget, "value", str(row.amount_xof), currency="XOF", value_date=_iso(approved))

    from_ministry = (ministry, org_id)
    _transaction(element, COMMITMENT, approved, row.amount_xof, _both(words, "approved"), from_ministry, association)
    if row.released_xof:
        when = row.cancelled_at or row.lapsed_at or utcnow()
        _transaction(element, COMMITMENT, when, -row.released_xof, _both(words, "returned"), from_ministry,
                     association)
    for payment in payments:
        _transaction(element, DISBURSEMENT, payment.value_date, payment.amount_xof,
                     _both(words, "tranche", number=payment.tranche_number), from_ministry, association)
    for entry in contributions:
        kind = "in_kind" if entry.source == FundingSource.ASSOCIATION_IN_KIND else "cash"
        _transaction(element, INCOMING, entry.value_date, entry.amount_xof, _both(words, kind), (association, None),
                     association)
    return ET.tostring(element, encoding="utf-8", xml_declaration=False)


def iati_chunks() -> Iterator[bytes]:
    """The IATI file, an activity at a time."""
    config = current_app.config
    org_id = config["IATI_ORG_ID"]
    ministry = {"fr": config["MINISTRY_NAME_FR"], "en": config["MINISTRY_NAME_EN"]}
    generated = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    yield (f'<?xml version="1.0" encoding="UTF-8"?>\n'
           f'<iati-activities version="{VERSION}" generated-datetime="{generated}">\n').encode()
    words = texts()
    payments, contributions = _Stream(_disbursements()), _Stream(_contributions())
    for row in db.session.execute(_activities().execution_options(yield_per=YIELD_PER)):
        yield activity(row, payments.of(row.grant_id), contributions.of(row.grant_id), org_id, ministry,
                       words) + b"\n"
    yield b"</iati-activities>\n"
