"""Demo calls for ``flask --app codev seed-demo``: one open, one draft, one closed, and exchange rates.

Everything goes through the services and the workflow, as an officer would do it. Never in production.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, has_request_context

from codev.calls import services, workflow
from codev.calls.models import AttachmentKind, Call, CallStatus, TrancheCondition
from codev.calls.services import CallData, CriterionData, TrancheData
from codev.core.timeutil import utcnow

ALL_REGIONS = ["TG-M", "TG-P", "TG-C", "TG-K", "TG-S", "TG-GL"]

# (currency, F CFA per unit as millionths, days before today it became valid)
RATES = [
    ("USD", 562_450_000, 60), ("USD", 570_125_000, 15),
    ("CAD", 411_300_000, 60), ("CAD", 405_870_000, 15),
    ("GBP", 757_200_000, 60), ("GBP", 762_940_000, 15),
    ("CHF", 701_650_000, 60), ("CHF", 698_480_000, 15),
]

GRID = [
    CriterionData(
        "relevance", "Pertinence pour la commune", "Relevance to the commune", 30, 10, 4,
        "Le projet répond-il à un besoin prioritaire de la commune (plan de développement communal) ?",
        "Does the project meet a priority need of the commune (communal development plan)?",
    ),
    CriterionData(
        "feasibility", "Faisabilité technique et budget réaliste", "Technical feasibility and realistic budget", 25,
        10, 4,
        "Devis, étude technique, coûts unitaires comparés aux prix du marché local.",
        "Quotes, technical study, unit costs compared with local market prices.",
    ),
    CriterionData(
        "partnership", "Ancrage local et partenariat", "Local ownership and partnership", 20, 10, None,
        "Engagement écrit de la commune ou du comité villageois, contribution de la communauté.",
        "Written commitment of the commune or village committee, community contribution.",
    ),
    CriterionData(
        "sustainability", "Durabilité et entretien", "Sustainability and maintenance", 15, 10, None,
        "Qui entretient l'ouvrage après le projet, avec quel budget ?",
        "Who maintains the facility after the project, with what budget?",
    ),
    CriterionData(
        "inclusion", "Bénéficiaires, femmes et jeunes", "Beneficiaries, women and youth", 10, 10, None,
        "Nombre de bénéficiaires directs, place des femmes et des jeunes.",
        "Number of direct beneficiaries, place of women and youth.",
    ),
]

TRANCHES = [
    TrancheData(4000, TrancheCondition.CONTRIBUTION_VERIFIED.value),
    TrancheData(4000, TrancheCondition.PROGRESS_REPORT.value),
    TrancheData(2000, TrancheCondition.FINAL_REPORT.value),
]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _open_call_data(opens: datetime, closes: datetime) -> CallData:
    year = opens.year
    return CallData(
        title=f"Appel à projets de coréalisation {year} — eau, santé, éducation, agriculture",
        title_en=f"{year} co-development call — water, health, education, agriculture",
        description=(
            "Le ministère invite les associations de la diaspora togolaise à proposer des projets de "
            "développement local dans leurs communes d'origine : forages et adductions d'eau, centres de "
            "santé, salles de classe, aménagements agricoles.\n\n"
            "Chaque franc apporté par l'association est complété par un franc de l'État, dans les limites "
            "ci-dessous."
        ),
        description_en=(
            "The ministry invites associations of the Togolese diaspora to propose local development projects "
            "in their home communes: boreholes and water supply, health centres, classrooms, farm works.\n\n"
            "Each franc the association brings is matched by one franc of the state, within the limits below."
        ),
        opens_at=opens, closes_at=closes,
        sectors=["water", "health", "education", "agriculture"], regions=ALL_REGIONS,
        envelope_xof=300_000_000, ratio_num=1, ratio_den=1, max_grant_xof=25_000_000,
        max_grant_share_bps=7000, min_association_share_bps=2000, max_total_budget_xof=80_000_000,
        in_kind_counts_bps=5000, contribution_deadline_days=90, qualification_threshold=60,
        min_evaluators=2, score_gap_flag=20,
        required_kinds=[AttachmentKind.QUOTE.value, AttachmentKind.COMMUNE_LETTER.value,
                        AttachmentKind.PARTNERSHIP.value],
        criteria=list(GRID), tranches=list(TRANCHES),
    )


def seed_calls(officer) -> dict:
    """Create the demo calls and rates; returns {"open": Call, "draft": Call, "closed": Call, "rates": [...]}."""
    if has_request_context():
        return _seed(officer)
    # From the CLI: opening a call emails the associations, and emails are rendered like pages.
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        return _seed(officer)


def _seed(officer) -> dict:
    now = utcnow()
    today = now.date()

    open_call = services.create_call(
        _open_call_data(_at(today - timedelta(days=30), 8), _at(today + timedelta(days=60), 23, 59)), officer
    )
    workflow.fire(open_call, CallStatus.OPEN, officer)

    draft_data = _open_call_data(_at(today + timedelta(days=90), 8), _at(today + timedelta(days=180), 23, 59))
    draft_data.title = f"Appel à projets {today.year + 1} — énergie et jeunesse (en préparation)"
    draft_data.title_en = f"{today.year + 1} call — energy and youth (in preparation)"
    draft_data.sectors = ["energy", "culture_youth", "economy"]
    draft_data.envelope_xof = 150_000_000
    draft_data.ratio_num, draft_data.ratio_den = 2, 1
    draft_data.max_grant_xof = 15_000_000
    draft_data.tranches = []  # still to be decided: the call cannot open yet
    draft_call = services.create_call(draft_data, officer)

    closed_call = _closed_call(officer, today)
    rates = [services.add_rate(c, r, today - timedelta(days=d), officer) for c, r, d in RATES]
    return {"open": open_call, "draft": draft_call, "closed": closed_call, "rates": rates}


def _closed_call(officer, today: date) -> Call:
    """Last year's call: opened, ran its course, and closed on its date."""
    data = _open_call_data(_at(today - timedelta(days=1), 8), _at(today + timedelta(days=1), 23, 59))
    data.title = f"Appel à projets de coréalisation {today.year - 1} — eau et santé"
    data.title_en = f"{today.year - 1} co-development call — water and health"
    data.sectors = ["water", "health"]
    data.envelope_xof = 200_000_000
    data.max_grant_xof = 20_000_000
    call = services.create_call(data, officer)
    workflow.fire(call, CallStatus.OPEN, officer)
    # Demo history: the call ran in the past (dates only; the status still moves through the workflow).
    call.opens_at = _at(today - timedelta(days=300), 8)
    call.closes_at = _at(today - timedelta(days=200), 23, 59)
    workflow.fire(call, CallStatus.CLOSED, officer)
    return call
