"""The shape of the synthetic programme: proportions, paths through the workflow tables, the bulk writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, insert, select, text

from codev.accounts.models import Association, AssociationDomain, PartnerRegion, PartnerSector, PartnerStructure, User
from codev.accounts.two_factor.models import SecondFactor
from codev.accounts.workflows import ASSOCIATION
from codev.calls.models import Call, CallRegion, CallSector, CallTranche, Criterion, TrancheCondition
from codev.calls.workflow import CALL
from codev.core.models import AuditEvent
from codev.core.money import (
    Ratio,
)
from codev.core.workflow import Workflow
from codev.grants.models import (
    AwardLetter,
    ContributionEntry,
    Disbursement,
    DisbursementRequest,
    Grant,
    GrantTranche,
    Report,
)
from codev.grants.workflows import DISBURSEMENT_REQUEST, GRANT, LETTER, REPORT
from codev.projects.models import BudgetLine, FinancingLine, Project, ProjectEvent
from codev.projects.workflow import PROJECT
from codev.reviews.models import (
    Assignment,
    CommitteeDecision,
    CommitteeSession,
    CriterionScore,
    Evaluation,
    ReserveEntry,
    ReviewResult,
    Screening,
)
from codev.reviews.workflows import ASSIGNMENT, SESSION

SYNTHETIC_PASSWORD = "codev-synthetic-2026"  # noqa: S105 (documented password of the synthetic accounts)
DOMAIN = "synthetic.codev.example"
SIGNATORY_TITLE = "Directeur des Togolais de l'extérieur"
CHUNK = 5000  # rows per INSERT … executemany
FOUR_EYES_XOF = 10_000_000
REGIONS = ["TG-M", "TG-P", "TG-C", "TG-K", "TG-S", "TG-GL"]
COUNTRIES = ["FR", "FR", "FR", "DE", "US", "US", "CA", "BE", "CI", "GH", "IT", "CH", "GB", "NL", "BJ", "GA"]
CITIES = {"FR": "Paris", "DE": "Hamburg", "US": "Silver Spring", "CA": "Montréal", "BE": "Bruxelles",
          "CI": "Abidjan", "GH": "Accra", "IT": "Milano", "CH": "Genève", "GB": "London", "NL": "Rotterdam",
          "BJ": "Cotonou", "GA": "Libreville"}
GRID = [  # code, fr, en, weight, max, eliminatory minimum
    ("relevance", "Pertinence pour la commune", "Relevance to the commune", 30, 10, 4),
    ("feasibility", "Faisabilité technique et budget réaliste", "Technical feasibility and realistic budget",
     25, 10, 4),
    ("partnership", "Ancrage local et partenariat", "Local ownership and partnership", 20, 10, None),
    ("sustainability", "Durabilité et entretien", "Sustainability and maintenance", 15, 10, None),
    ("inclusion", "Bénéficiaires, femmes et jeunes", "Beneficiaries, women and youth", 10, 10, None),
]
TRANCHE_PLAN = [(4000, TrancheCondition.CONTRIBUTION_VERIFIED.value),
                (4000, TrancheCondition.PROGRESS_REPORT.value),
                (2000, TrancheCondition.FINAL_REPORT.value)]
WORKS = {  # sector → (title pattern, budget line descriptions)
    "water": ("Forage équipé d'une pompe solaire à {place}", ["Forage et tubage", "Pompe solaire", "Château d'eau"]),
    "health": ("Réhabilitation du centre de santé de {place}", ["Gros œuvre", "Équipement médical", "Formation"]),
    "education": ("Construction de deux salles de classe à {place}", ["Maçonnerie", "Tables-bancs", "Latrines"]),
    "agriculture": ("Unité de transformation du manioc de {place}", ["Bâtiment", "Râpeuses", "Formation"]),
    "energy": ("Électrification solaire du marché de {place}", ["Panneaux", "Batteries", "Installation"]),
    "economy": ("Atelier de couture pour les jeunes de {place}", ["Machines", "Local", "Fonds de roulement"]),
    "environment": ("Reboisement des berges de {place}", ["Plants", "Clôtures", "Suivi"]),
    "culture_youth": ("Maison des jeunes de {place}", ["Construction", "Équipement", "Animation"]),
    "infrastructure": ("Piste rurale et ponceau de {place}", ["Terrassement", "Ponceau", "Main-d'œuvre"]),
    "social": ("Centre d'accueil des femmes de {place}", ["Local", "Équipement", "Accompagnement"]),
}
SENTENCES = [
    "La population de {place} parcourt chaque jour plusieurs kilomètres pour accéder au service.",
    "Le comité villageois s'est engagé par écrit à assurer l'entretien et la gestion de l'ouvrage.",
    "L'association finance sa part grâce aux cotisations de ses membres et à une soirée de collecte.",
    "La commune met à disposition le terrain et participe aux frais de suivi des travaux.",
    "Les femmes et les jeunes du canton sont associés à chaque étape, de la conception à la gestion.",
    "Le devis a été établi par une entreprise locale et comparé aux prix du marché de la préfecture.",
    "Un rapport d'avancement sera transmis au ministère à mi-parcours, avec photographies du chantier.",
]


# --- the one check on statuses: a walk through a workflow's table --------------------------------


def pairs(workflow: Workflow) -> dict[tuple[str, str], str]:
    """(from, to) → the row's name, for every row of ``workflow``'s table."""
    return {(source, t.target): t.name for t in workflow.transitions for source in t.sources}


PROJECT_MOVES = pairs(PROJECT)


def walk(workflow: Workflow, path: list[str], moves: dict[tuple[str, str], str] | None = None) -> list[str]:
    """The names of the rows that take an object along ``path``; refuses a step the table does not have."""
    moves = moves if moves is not None else pairs(workflow)
    if path[0] not in workflow.initial:
        raise ValueError(f"{workflow.name}: {path[0]} is not an initial state")
    names = []
    for source, target in zip(path, path[1:], strict=False):
        name = moves.get((source, target))
        if name is None:
            raise ValueError(f"{workflow.name}: no row {source} → {target}")
        names.append(name)
    return names


GRANT_MOVES, LETTER_MOVES, REPORT_MOVES = pairs(GRANT), pairs(LETTER), pairs(REPORT)
REQUEST_MOVES, ASSIGNMENT_MOVES, SESSION_MOVES = pairs(DISBURSEMENT_REQUEST), pairs(ASSIGNMENT), pairs(SESSION)
ASSOCIATION_MOVES, CALL_MOVES = pairs(ASSOCIATION), pairs(CALL)


# --- writing rows in bulk --------------------------------------------------------------------------


# Tables in an order where every foreign key points to a table before it (or to itself, rows in order).
ORDER = [t.__table__ for t in (
    User, SecondFactor, PartnerStructure, PartnerRegion, PartnerSector, Association, AssociationDomain, Call,
    CallSector, CallRegion, Criterion, CallTranche, CommitteeSession, Project, BudgetLine, FinancingLine, ProjectEvent,
    Screening, Assignment, Evaluation, CriterionScore, ReviewResult, CommitteeDecision, ReserveEntry, Grant,
    GrantTranche, AwardLetter, ContributionEntry, DisbursementRequest, Disbursement, Report, AuditEvent,
)]


class Writer:
    """Rows buffered per table, written with one ``INSERT`` per chunk, parents before children."""

    def __init__(self, connection: Any):
        self.connection = connection
        self.rows: dict[Any, list[dict]] = {table: [] for table in ORDER}
        self.next_id: dict[Any, int] = {}
        self.counts: dict[str, int] = {}
        for table in ORDER:
            if "id" in table.c and table.c.id.primary_key:
                self.next_id[table] = (connection.scalar(select(func.max(table.c.id))) or 0) + 1

    def id(self, model: Any) -> int:
        table = model.__table__
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def add(self, model: Any, **row: Any) -> int | None:
        table = model.__table__
        if "id" in table.c and "id" not in row and table in self.next_id:
            row["id"] = self.id(model)
        self.rows[table].append(row)
        return row.get("id")

    def flush(self) -> None:
        for table in ORDER:
            rows = self.rows[table]
            for start in range(0, len(rows), CHUNK):
                self.connection.execute(insert(table), rows[start:start + CHUNK])
            self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
            rows.clear()

    def reset_sequences(self) -> None:
        """On PostgreSQL the ids were given here: move each table's sequence past them."""
        if self.connection.dialect.name != "postgresql":
            return
        for table in self.next_id:
            self.connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608 (our table names)
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 1))"))


# --- the programme's shape --------------------------------------------------------------------------


@dataclass
class Staff:
    officers: list[int]
    approvers: list[int]
    admin: int
    evaluators: list[int]
    structures: list[int]


@dataclass
class CallPlan:
    id: int
    index: int
    status: str
    opens_at: datetime
    closes_at: datetime
    projects: int
    ratio: Ratio
    title: str = ""
    criteria: list[Any] = field(default_factory=list)  # SimpleNamespace(id, code, weight, max_score, …)
    session_id: int | None = None
    session_status: str | None = None
    held_on: date | None = None
    granted: int = 0  # Σ grants
    released: int = 0  # Σ returned to the envelope
    ranking: list[tuple] = field(default_factory=list)  # (score, led_by_women, submitted_at, ref, id, amount, outcome)
    decision_rows: dict[int, dict] = field(default_factory=dict)  # project id → its committee decision row

    # The call's funding rules (the CallRules protocol of codev.calls.rules).
    max_grant_xof: int = 25_000_000
    max_grant_share_bps: int = 7000
    min_association_share_bps: int = 2000
    max_total_budget_xof: int = 80_000_000
    in_kind_counts_bps: int = 5000
    qualification_threshold: int = 60
    min_evaluators: int = 2
    score_gap_flag: int = 20

    @property
    def ratio_num(self) -> int:
        return self.ratio.numerator

    @property
    def ratio_den(self) -> int:
        return self.ratio.denominator


# Where a project of a call in each state ends up, with weights (the realistic proportions).
OUTCOMES: dict[str, list[tuple[str, int]]] = {
    "open": [("draft", 30), ("submitted", 25), ("returned", 8), ("withdrawn", 5), ("in_review", 22),
             ("ineligible", 10)],
    "closed": [("draft", 8), ("submitted", 40), ("returned", 7), ("withdrawn", 5), ("in_review", 25),
               ("ineligible", 15)],
    "evaluating": [("in_review", 8), ("qualified", 43), ("not_qualified", 17), ("ineligible", 8),
                   ("withdrawn", 4), ("approved", 7), ("rejected", 5), ("deferred", 3), ("funded", 5)],
    "decided": [("qualified", 10), ("not_qualified", 27), ("ineligible", 12), ("withdrawn", 5), ("rejected", 22),
                ("deferred", 4), ("approved", 3), ("funded", 12), ("lapsed", 3), ("completed", 2)],
    "archived": [("not_qualified", 30), ("ineligible", 12), ("withdrawn", 6), ("rejected", 26), ("qualified", 6),
                 ("deferred", 2), ("funded", 3), ("completed", 2), ("closed", 10), ("lapsed", 3)],
}
# The path of a project to each end state (a return and a resubmission are added at random).
PATHS: dict[str, list[str]] = {
    "draft": ["draft"],
    "submitted": ["draft", "submitted"],
    "returned": ["draft", "submitted", "returned"],
    "ineligible": ["draft", "submitted", "ineligible"],
    "in_review": ["draft", "submitted", "in_review"],
    "qualified": ["draft", "submitted", "in_review", "qualified"],
    "not_qualified": ["draft", "submitted", "in_review", "not_qualified"],
    "approved": ["draft", "submitted", "in_review", "qualified", "approved"],
    "rejected": ["draft", "submitted", "in_review", "qualified", "rejected"],
    "deferred": ["draft", "submitted", "in_review", "qualified", "deferred"],
    "funded": ["draft", "submitted", "in_review", "qualified", "approved", "funded"],
    "completed": ["draft", "submitted", "in_review", "qualified", "approved", "funded", "completed"],
    "lapsed": ["draft", "submitted", "in_review", "qualified", "approved", "funded", "lapsed"],
    "closed": ["draft", "submitted", "in_review", "qualified", "approved", "funded", "completed", "closed"],
    "withdrawn": ["draft", "withdrawn"],
}
MESSAGES = {
    "returned": "Ajoutez le devis détaillé de l'entreprise et précisez la contribution de la commune.",
    "screened_ineligible": "La commune du projet n'est pas dans une région éligible de l'appel.",
    "approved": "Projet pertinent, budget réaliste et ancrage local solide.",
    "rejected": "Le budget n'est pas réaliste au regard des prix du marché local.",
    "deferred": "Le comité attend l'étude technique complète avant de se prononcer.",
    "withdrawn": "L'association reporte le projet à l'an prochain.",
    "lapsed": "La subvention est caduque : la contribution de l'association n'a pas été vérifiée à temps.",
    "closed": "Dossier clos.",
    "completed": "Le rapport final est accepté et chaque tranche de la subvention est payée.",
}


def _at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


@dataclass
class Summary:
    projects: int
    associations: int
    calls: int
    grants: int
    rows: int
    counts: dict[str, int]

    def text(self) -> str:
        return (f"{self.projects} projects, {self.associations} associations, {self.calls} calls, "
                f"{self.grants} grants; {self.rows} rows in all")



def placeholder_pdf(reference: str) -> bytes:
    """A one-page PDF that names the letter (``rerender-letters`` replaces it with the real letter)."""
    content = f"BT /F1 14 Tf 72 760 Td (Lettre {reference} - version synthetique) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


