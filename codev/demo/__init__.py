"""A realistic demo programme: associations on three continents, partner structures, one account per role.

Used by ``flask --app codev seed-demo`` (and ``make run`` on an empty database). Never in production.
"""

from __future__ import annotations

from datetime import timedelta

from codev.accounts.models import (
    Association,
    AssociationDomain,
    AssociationStatus,
    PartnerRegion,
    PartnerSector,
    PartnerStructure,
    Role,
    StructureKind,
    User,
)
from codev.accounts.passwords import hash_password
from codev.accounts.two_factor.models import requires_two_factor
from codev.accounts.two_factor.services import enrol_with
from codev.accounts.workflows import ASSOCIATION
from codev.calls.models import Call
from codev.core import audit
from codev.core.embassies import embassy_for_country
from codev.core.timeutil import utcnow
from codev.demo.calls import seed_calls
from codev.demo.committee import seed_committee
from codev.demo.grants import seed_grants
from codev.demo.money import seed_money
from codev.demo.projects import seed_projects
from codev.demo.reserve import seed_reserve
from codev.demo.reviews import seed_reviews
from codev.extensions import db

DEMO_PASSWORD = "codev-demo-2026"  # noqa: S105 (documented demo password)
# The authenticator key of the demo approver and admin, whose role requires a second factor (documented in
# the README: add it to an authenticator app by hand to sign in as them).
DEMO_TOTP_SECRET = "CODEVDEMOSECRETTOGOLOMEKARAKPALI"  # noqa: S105 (documented demo key)

# (email, name, role, locale, title) of the staff accounts.
STAFF = [
    ("admin@codev.demo", "Afi Mensah", Role.ADMIN, "fr", "Administratrice du système"),
    ("agent@codev.demo", "Kodjo Agbeko", Role.OFFICER, "fr", "Chargé de programme"),
    ("ordonnateur@codev.demo", "Essi Lawson", Role.APPROVER, "fr", "Directrice des Togolais de l'extérieur"),
]

STRUCTURES = [
    {
        "name": "Direction régionale de l'Hydraulique des Plateaux",
        "acronym": "DRH-P",
        "kind": StructureKind.STATE,
        "regions": ["TG-P"],
        "sectors": ["water"],
        "evaluators": [("evaluateur@codev.demo", "Yawo Tsogbe", "fr")],
    },
    {
        "name": "Agence nationale d'appui au développement à la base",
        "acronym": "ANADEB",
        "kind": StructureKind.STATE,
        "regions": ["TG-M", "TG-P", "TG-C", "TG-K", "TG-S", "TG-GL"],
        "sectors": ["economy", "agriculture", "infrastructure", "social"],
        "evaluators": [("evaluatrice@codev.demo", "Akossiwa Dzifa", "fr")],
    },
    {
        "name": "ONG Santé et Éducation pour Tous",
        "acronym": "SEPT",
        "kind": StructureKind.NON_STATE,
        "regions": ["TG-K", "TG-S", "TG-C"],
        "sectors": ["health", "education"],
        "evaluators": [("reviewer@codev.demo", "Mawuli Adjovi", "en")],
    },
]

# Associations: the first member's account is listed with each one.
ASSOCIATIONS = [
    {
        "name": "Association des ressortissants de Kpalimé en France", "acronym": "ARKF",
        "country": "FR", "city": "Paris", "status": AssociationStatus.VERIFIED, "locale": "fr",
        "registration_number": "W751234567", "registration_authority": "Préfecture de police de Paris",
        "founded_year": 2009, "members_count": 84, "home_region": "TG-P", "domains": ["water", "health"],
        "member": ("association@codev.demo", "Komi Amegah", "fr"),
    },
    {
        "name": "Togo-Hilfe Hamburg e.V.", "acronym": "THH",
        "country": "DE", "city": "Hamburg", "status": AssociationStatus.VERIFIED, "locale": "fr",
        "registration_number": "VR 20457", "registration_authority": "Amtsgericht Hamburg",
        "founded_year": 2014, "members_count": 37, "home_region": "TG-M", "domains": ["education", "energy"],
        "member": ("hamburg@codev.demo", "Edem Kpodar", "fr"),
    },
    {
        "name": "Togolese Diaspora Association of Maryland", "acronym": "TDAM",
        "country": "US", "city": "Silver Spring", "status": AssociationStatus.VERIFIED, "locale": "en",
        "registration_number": "D19887766", "registration_authority": "Maryland SDAT",
        "founded_year": 2011, "members_count": 120, "home_region": "TG-K", "domains": ["health", "water"],
        "member": ("maryland@codev.demo", "Sena Attisso", "en"),
    },
    {
        "name": "Communauté togolaise de Montréal", "acronym": "CTM",
        "country": "CA", "city": "Montréal", "status": AssociationStatus.PENDING, "locale": "fr",
        "registration_number": "1171234567", "registration_authority": "Registraire des entreprises du Québec",
        "founded_year": 2016, "members_count": 52, "home_region": "TG-C", "domains": ["agriculture"],
        "member": ("montreal@codev.demo", "Ayélé Dogbé", "fr"),
    },
    {
        "name": "Amicale des Togolais de Belgique", "acronym": "ATB",
        "country": "BE", "city": "Bruxelles", "status": AssociationStatus.VERIFIED, "locale": "fr",
        "registration_number": "0456.789.123", "registration_authority": "Moniteur belge",
        "founded_year": 2005, "members_count": 65, "home_region": "TG-S", "domains": ["culture_youth", "education"],
        "member": ("bruxelles@codev.demo", "Kossi Tchalla", "fr"),
    },
    {
        "name": "Union des Togolais d'Abidjan", "acronym": "UTA",
        "country": "CI", "city": "Abidjan", "status": AssociationStatus.REJECTED, "locale": "fr",
        "registration_number": None, "registration_authority": None,
        "founded_year": 2020, "members_count": 15, "home_region": "TG-M", "domains": ["economy"],
        "member": ("abidjan@codev.demo", "Yao Kouassi", "fr"),
        "reason": "Le récépissé de déclaration de l'association manque ; merci de le joindre aux statuts.",
    },
]


def seed_demo() -> str:
    """Add the demo programme (flushed, not committed); returns a summary line."""
    password_hash = hash_password(DEMO_PASSWORD)  # one hash for every demo account keeps seeding fast
    now = utcnow()
    staff = {}
    for email, name, role, locale, title in STAFF:
        user = User(email=email, name=name, role=role, locale=locale, title=title, password_hash=password_hash)
        db.session.add(user)
        staff[role] = user
    db.session.flush()
    for user in staff.values():
        if requires_two_factor(user):
            enrol_with(user, DEMO_TOTP_SECRET)
    officer = staff[Role.OFFICER]

    for spec in STRUCTURES:
        structure = PartnerStructure(name=spec["name"], acronym=spec["acronym"], kind=spec["kind"])
        structure.regions = [PartnerRegion(region=r) for r in spec["regions"]]
        structure.sectors = [PartnerSector(sector=s) for s in spec["sectors"]]
        db.session.add(structure)
        db.session.flush()
        for email, name, locale in spec["evaluators"]:
            db.session.add(User(
                email=email, name=name, role=Role.EVALUATOR, locale=locale,
                partner_structure_id=structure.id, password_hash=password_hash,
            ))

    associations = []
    for index, spec in enumerate(ASSOCIATIONS):
        email, member_name, member_locale = spec["member"]
        embassy = embassy_for_country(spec["country"])
        association = Association(
            name=spec["name"], acronym=spec["acronym"], country=spec["country"], city=spec["city"],
            embassy=embassy.code if embassy else None, registration_number=spec["registration_number"],
            registration_authority=spec["registration_authority"], founded_year=spec["founded_year"],
            members_count=spec["members_count"], contact_name=member_name, contact_email=email,
            home_region=spec["home_region"], locale=spec["locale"], status=AssociationStatus.PENDING,
            created_at=now - timedelta(days=200 - index * 20),
        )
        association.domains = [AssociationDomain(sector=s) for s in spec["domains"]]
        db.session.add(association)
        db.session.flush()
        if spec["status"] is not AssociationStatus.PENDING:  # the officer decided, through the table
            ASSOCIATION.fire(association, spec["status"], officer, spec.get("reason"))
        if spec["status"] is AssociationStatus.VERIFIED:
            association.verified_at = now - timedelta(days=150 - index * 20)
        associations.append(association)
        db.session.add(User(
            email=email, name=member_name, role=Role.ASSOCIATION, locale=member_locale,
            association_id=association.id, password_hash=password_hash,
        ))
    db.session.flush()
    calls = seed_calls(officer)
    seed_projects(calls, associations, {})
    seed_reviews(calls)
    seed_committee(calls, officer, staff[Role.APPROVER])
    seed_money(seed_grants(calls, officer, staff[Role.APPROVER]))
    seed_reserve(calls, officer, staff[Role.APPROVER])
    audit.record("demo.seed", actor=staff[Role.ADMIN])
    return (
        f"demo programme: {len(STAFF)} staff, {len(STRUCTURES)} partner structures, "
        f"{len(ASSOCIATIONS)} associations, {len([c for c in calls.values() if isinstance(c, Call)])} calls"
    )
