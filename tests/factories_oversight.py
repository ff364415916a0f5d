"""A seeded programme for the oversight tests: grants of every register status across two calls, regions,
sectors, years and countries, with verified, rejected, reversed and pending contributions (the diaspora's and
others') and disbursements — written straight into the tables, as the services would have left them.

The people have distinctive names, emails and phones, so a test can look for every one of them in a page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from codev.extensions import db
from codev.grants.models import ContributionEntry, Disbursement, Grant, GrantStatus
from codev.projects.models import ProjectStatus
from tests.factories import AssociationFactory, CallFactory, UserFactory
from tests.factories_ledger import make_grant


@dataclass
class Spec:
    """One funded project of the seeded programme."""

    call: str
    region: str
    prefecture: str
    commune: str
    sector: str
    country: str
    year: int
    amount: int
    project_status: str = ProjectStatus.FUNDED
    grant_status: str = GrantStatus.ACTIVE
    released: int = 0
    verified: list[tuple[str, int]] = field(default_factory=list)  # (source, amount): verified, standing
    rejected: list[int] = field(default_factory=list)  # association cash, rejected
    reversed: list[int] = field(default_factory=list)  # association cash, verified then reversed
    pending: list[int] = field(default_factory=list)  # association cash, not decided yet
    paid: list[tuple[int, int]] = field(default_factory=list)  # (tranche, amount)


CASH, IN_KIND, COMMUNITY = "association_cash", "association_in_kind", "community"

SPECS = [
    Spec("A", "TG-P", "Agou", "Agou 1", "water", "FR", 2025, 10_000_000,
         verified=[(CASH, 3_000_000), (IN_KIND, 1_000_000), (COMMUNITY, 400_000)], rejected=[500_000],
         reversed=[700_000], paid=[(1, 2_000_000), (1, 1_000_000)]),
    Spec("A", "TG-P", "Kloto", "Kloto 1", "health", "DE", 2026, 8_000_000, grant_status=GrantStatus.AWARDED,
         verified=[(CASH, 2_000_000)], pending=[300_000]),
    Spec("A", "TG-M", "Zio", "Zio 3", "education", "US", 2026, 6_000_000, project_status=ProjectStatus.COMPLETED,
         grant_status=GrantStatus.COMPLETED, verified=[(CASH, 6_000_000)],
         paid=[(1, 2_400_000), (2, 2_400_000), (3, 1_200_000)]),
    Spec("B", "TG-K", "Kozah", "Kozah 2", "agriculture", "FR", 2026, 5_000_000, project_status=ProjectStatus.CLOSED,
         grant_status=GrantStatus.COMPLETED, verified=[(CASH, 4_000_000), (IN_KIND, 1_000_000)],
         paid=[(1, 2_000_000), (2, 2_000_000), (3, 1_000_000)]),
    Spec("B", "TG-C", "Tchaoudjo", "Tchaoudjo 2", "water", "BE", 2025, 5_000_000,
         project_status=ProjectStatus.LAPSED, grant_status=GrantStatus.LAPSED, released=5_000_000,
         pending=[1_000_000]),
    Spec("B", "TG-S", "Tône", "Tône 1", "health", "CA", 2026, 6_000_000, project_status=ProjectStatus.LAPSED,
         grant_status=GrantStatus.CANCELLED, released=5_000_000, verified=[(CASH, 1_000_000)], paid=[(1, 1_000_000)]),
    Spec("A", "TG-P", "Agou", "Agou 1", "education", "FR", 2026, 3_000_000, grant_status=GrantStatus.AWARDED),
    Spec("B", "TG-P", "Amou", "Amou 1", "agriculture", "FR", 2024, 4_000_000,
         verified=[(IN_KIND, 2_000_000)], paid=[(1, 1_000_000)]),
]

# People whose name, email or phone must never appear in the register (checked against every user too).
PEOPLE = [
    ("Kokouvi Zanklan-Adjévi", "kokouvi.zanklan@asso-lyon.example.org", "+33 6 11 22 33 44"),
    ("Adjoavi Tchédré-Mawussi", "adjoavi.tchedre@hilfe.example.de", "+49 151 2345 6789"),
    ("Dzigbodi Assiongbon-Kuma", "dzigbodi@maryland.example.us", "+1 301 555 0182"),
]


def _entry(grant: Grant, kind: str, source: str, amount: int, author, refers: ContributionEntry | None = None,
           note: str | None = None, value_date: date | None = None) -> ContributionEntry:
    entry = ContributionEntry(
        grant_id=grant.id, kind=kind, refers_to_id=refers.id if refers else None, source=source, currency="XOF",
        amount_minor=amount, rate_millionths=1_000_000, amount_xof=amount, note=note,
        value_date=value_date or date(grant.approved_at.year, 7, 1), created_by_id=author.id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def seed_programme(specs: list[Spec] | None = None) -> dict:
    """The programme of ``specs`` (default :data:`SPECS`), committed; returns its calls, grants and people."""
    tag = uuid.uuid4().hex[:6]  # the programme may be seeded twice in one test
    officer = UserFactory(officer=True, name=PEOPLE[0][0] + " Officier", email=f"officier.{tag}@ministere.example.tg")
    calls = {"A": CallFactory(open=True, title="Appel A — eau et santé", title_en="Call A — water and health"),
             "B": CallFactory(open=True, title="Appel B — agriculture", title_en="Call B — farming")}
    associations = {}
    grants = []
    for number, spec in enumerate(specs or SPECS):
        if spec.country not in associations:
            name, email, phone = PEOPLE[len(associations) % len(PEOPLE)]
            association = AssociationFactory(
                verified=True, name=f"Association des Togolais ({spec.country})", country=spec.country,
                contact_name=name, contact_email=email, contact_phone=phone)
            associations[spec.country] = UserFactory(role="association", association=association, name=name,
                                                     email=f"membre.{spec.country.lower()}.{tag}.{email}")
        member = associations[spec.country]
        grant = make_grant(member, amount=spec.amount, call=calls[spec.call])
        project = grant.project
        project.region, project.prefecture, project.commune, project.sector = (
            spec.region, spec.prefecture, spec.commune, spec.sector)
        project.title = f"Projet {number + 1} à {spec.commune}"
        project.local_partner_name = f"Comité présidé par {member.name}"
        project.status = spec.project_status
        grant.status = spec.grant_status
        grant.approved_at = datetime(spec.year, 6, 15, 12, 0, tzinfo=UTC)
        grant.released_xof = spec.released
        if spec.grant_status == GrantStatus.LAPSED:
            grant.lapsed_at = datetime(spec.year, 12, 1, tzinfo=UTC)
        if spec.grant_status == GrantStatus.CANCELLED:
            grant.cancelled_at, grant.cancel_reason = datetime(spec.year, 11, 1, tzinfo=UTC), "Projet abandonné"
        db.session.flush()
        for source, amount in spec.verified:
            _entry(grant, "verified", source, amount, officer, refers=_entry(grant, "declared", source, amount, member))
        for amount in spec.rejected:
            _entry(grant, "rejected", CASH, amount, officer, refers=_entry(grant, "declared", CASH, amount, member),
                   note="Reçu illisible")
        for amount in spec.reversed:
            declared = _entry(grant, "declared", CASH, amount, member)
            _entry(grant, "verified", CASH, amount, officer, refers=declared)
            _entry(grant, "reversal", CASH, amount, officer, refers=declared, note="Chèque rejeté")
        for amount in spec.pending:
            _entry(grant, "declared", CASH, amount, member)
        for tranche, amount in spec.paid:
            db.session.add(Disbursement(
                grant_id=grant.id, tranche_number=tranche, amount_xof=amount,
                value_date=date(spec.year, 9, 1), bank_reference=f"VIR-{uuid.uuid4().hex[:8]}",
                idempotency_key=str(uuid.uuid4()), recorded_by_id=officer.id))
        grants.append(grant)
    db.session.commit()
    return {"calls": calls, "grants": grants, "officer": officer, "members": list(associations.values())}
