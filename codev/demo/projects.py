"""Demo projects for ``flask --app codev seed-demo``, in every state this step of the programme knows.

A borehole in Kloto (submitted, returned with the officer's message, resubmitted; plan partly in euros),
a health post in Kozah (submitted; the association's cash in dollars), school latrines in Tône (a draft
with four steps done), a classroom in Kloto (returned, awaiting changes), women's market gardens in Vo
(withdrawn). Everything goes through the services and the workflow, as members and officers would do
it. Never in production.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import current_app, has_request_context
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from codev.accounts.models import Association, AssociationStatus, Role, User
from codev.calls.models import Call
from codev.calls.rules import check_plan, to_xof
from codev.core.money import MoneyError
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.projects import attachments, services
from codev.projects.models import Project
from codev.projects.services import BudgetLineData, FinancingLineData
from codev.projects.workflow import Step, plan_figures

# The smallest file the upload check accepts as a PDF; the demo's documents are placeholders.
DEMO_PDF = b"%PDF-1.4\n% codev demo document\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

PROJECTS: list[dict[str, Any]] = [
    {
        "key": "borehole", "association": "ARKF", "state": "resubmitted",
        "title": "Forage équipé d'une pompe solaire à Kpimé-Séva",
        "sector": "water", "led_by_women": False, "commune": "Kloto 1", "village": "Kpimé-Séva",
        "summary": "Un forage de 80 m équipé d'une pompe solaire, un château d'eau de 10 m³ et trois bornes-fontaines "
                   "pour les 1 450 habitants de Kpimé-Séva, qui puisent aujourd'hui l'eau de la rivière Kpimé.",
        "partner": ("Comité villageois de développement (CVD) de Kpimé-Séva", "committee",
                    "Le CVD fournit le terrain, la main-d'œuvre pour les tranchées et gère la vente de l'eau "
                    "(25 F CFA la bassine) pour l'entretien de la pompe."),
        "problem": "Le village n'a pas de point d'eau potable ; les cas de diarrhée chez les enfants sont fréquents "
                   "en saison sèche.",
        "objectives": "Donner accès à l'eau potable à moins de 500 m à tous les ménages du village.",
        "activities": "Étude hydrogéologique ; forage et essais de pompage ; pose de la pompe et des panneaux ; "
                      "construction du château d'eau et des bornes-fontaines ; formation du comité de gestion.",
        "beneficiaries": (1450, 760, 520), "duration": 8,
        "budget": [
            ("works", "Forage à 80 m, tubage et développement", 1, 6_500_000),
            ("equipment", "Pompe immergée solaire et 8 panneaux", 1, 3_200_000),
            ("works", "Château d'eau de 10 m³ et 3 bornes-fontaines", 1, 2_800_000),
            ("training", "Formation du comité de gestion de l'eau", 1, 350_000),
            ("monitoring", "Suivi technique et analyses de l'eau", 1, 650_000),
        ],
        "financing": [
            ("association_cash", "Cotisations des membres à Paris", "EUR", 850_000),  # 8 500,00 EUR
            ("association_in_kind", "Transport des tuyaux depuis Lomé par les membres", "XOF", 600_000),
            ("community", "Main-d'œuvre des habitants (tranchées, sable, gravier)", "XOF", 750_000),
            ("commune", "Commune de Kloto 1", "XOF", 1_000_000),
        ],
        "return_message": "Merci de joindre la lettre d'engagement de la commune de Kloto 1 signée par le maire, et "
                          "de préciser qui assurera l'entretien de la pompe après la première année.",
    },
    {
        "key": "health_post", "association": "TDAM", "state": "submitted",
        "title": "Case de santé de Lama-Tessi", "sector": "health", "led_by_women": True,
        "commune": "Kozah 2", "village": "Lama-Tessi",
        "summary": "Construire et équiper une case de santé de trois salles (consultation, accouchement, "
                   "observation) pour Lama-Tessi et quatre hameaux, à 14 km du centre de santé le plus proche.",
        "partner": ("Commune de Kozah 2", "commune",
                    "La commune affecte un agent de santé communautaire et prend en charge l'entretien du bâtiment."),
        "problem": "Les femmes accouchent à domicile ou font 14 km à moto ; la mortalité néonatale reste élevée.",
        "objectives": "Assurer les consultations prénatales, les accouchements simples et la vaccination sur place.",
        "activities": "Construction du bâtiment ; équipement médical ; kit solaire et chaîne du froid ; formation "
                      "de six agents de santé communautaires.",
        "beneficiaries": (3200, 1700, 1100), "duration": 12,
        "budget": [
            ("works", "Construction du bâtiment (3 salles, 120 m²)", 1, 14_000_000),
            ("equipment", "Lits, table d'accouchement et matériel médical", 1, 4_500_000),
            ("equipment", "Kit solaire pour l'éclairage et la chaîne du froid", 1, 1_800_000),
            ("training", "Formation des agents de santé communautaires", 6, 150_000),
            ("monitoring", "Suivi et évaluation", 1, 800_000),
        ],
        "financing": [
            ("association_cash", "Collecte de la diaspora du Maryland", "USD", 1_600_000),  # 16 000,00 USD
            ("association_in_kind", "Matériel médical donné par un hôpital partenaire", "XOF", 1_000_000),
            ("community", "Briques et main-d'œuvre des habitants", "XOF", 1_200_000),
            ("commune", "Commune de Kozah 2", "XOF", 2_000_000),
        ],
    },
    {
        "key": "latrines", "association": "ATB", "state": "draft",
        "title": "Latrines scolaires à l'EPP de Nassablé", "sector": "education", "led_by_women": False,
        "commune": "Tône 1", "village": "Nassablé",
        "summary": "Deux blocs de latrines séparés filles et garçons et des dispositifs de lavage des mains pour "
                   "les 640 élèves de l'école primaire publique de Nassablé.",
        "partner": ("Association des parents d'élèves de l'EPP Nassablé", "committee",
                    "L'APE assure le nettoyage et la vidange des fosses."),
        "problem": "L'école n'a qu'une latrine hors d'usage ; des filles manquent l'école pendant leurs règles.",
        "objectives": "Des latrines propres et séparées pour tous les élèves ; l'hygiène des mains enseignée.",
        "activities": "Construction de deux blocs ; dispositifs de lavage des mains ; sensibilisation à l'hygiène.",
        "beneficiaries": (660, 330, 640), "duration": 5,
        "budget": [
            ("works", "Bloc de 6 latrines à fosse ventilée (filles)", 1, 3_600_000),
            ("works", "Bloc de 4 latrines et urinoir (garçons)", 1, 2_700_000),
            ("works", "Dispositifs de lavage des mains", 4, 125_000),
            ("training", "Sensibilisation des élèves et des enseignants à l'hygiène", 1, 400_000),
        ],
        "financing": [],
        "steps": (Step.GENERAL, Step.LOCATION, Step.DESCRIPTION, Step.BUDGET),
    },
    {
        "key": "classroom", "association": "ARKF", "state": "returned",
        "title": "Deux salles de classe au CEG de Kpadapé", "sector": "education", "led_by_women": False,
        "commune": "Kloto 2", "village": "Kpadapé",
        "summary": "Remplacer deux salles de classe en paillote du collège de Kpadapé par un bâtiment en dur avec "
                   "bureau et magasin.",
        "partner": ("Commune de Kloto 2", "commune", "La commune fournit le terrain et entretient le bâtiment."),
        "problem": "Les cours s'arrêtent à chaque pluie dans les salles en paillote.",
        "objectives": "Deux salles de 60 places utilisables toute l'année.",
        "activities": "Construction ; tables-bancs ; tableau et éclairage solaire.",
        "beneficiaries": (240, 110, 240), "duration": 6,
        "budget": [
            ("works", "Bâtiment de deux salles, bureau et magasin", 1, 11_000_000),
            ("equipment", "Tables-bancs", 60, 35_000),
            ("equipment", "Tableaux et kit d'éclairage solaire", 1, 900_000),
        ],
        "financing": [
            ("association_cash", "Cotisations des membres", "EUR", 900_000),  # 9 000,00 EUR
            ("community", "Sable, gravier et main-d'œuvre", "XOF", 900_000),
            ("commune", "Commune de Kloto 2", "XOF", 1_500_000),
        ],
        "return_message": "Le devis joint date de 2019 : merci de fournir un devis récent de l'entreprise, et le "
                          "titre du terrain au nom de la commune.",
    },
    {
        "key": "gardens", "association": "THH", "state": "withdrawn",
        "title": "Périmètre maraîcher irrigué des femmes de Vogan", "sector": "agriculture", "led_by_women": True,
        "commune": "Vo 1", "village": "Vogan-Agbavé",
        "summary": "Aménager deux hectares de maraîchage avec un forage, un système goutte-à-goutte et une clôture "
                   "pour le groupement des femmes Dzidzenyo.",
        "partner": ("Groupement des femmes Dzidzenyo", "other", "Le groupement cultive et vend au marché de Vogan."),
        "problem": "Les femmes ne cultivent qu'en saison des pluies faute d'eau.",
        "objectives": "Trois récoltes par an et un revenu régulier pour 45 femmes.",
        "activities": "Forage ; goutte-à-goutte ; clôture ; formation aux techniques maraîchères.",
        "beneficiaries": (45, 45, 18), "duration": 9,
        "budget": [
            ("works", "Forage et château d'eau", 1, 4_500_000),
            ("equipment", "Système goutte-à-goutte pour 2 ha", 1, 3_000_000),
            ("works", "Clôture grillagée", 1, 1_500_000),
            ("training", "Formation aux techniques maraîchères", 1, 500_000),
        ],
        "financing": [
            ("association_cash", "Verein Togo-Hilfe Hamburg", "EUR", 650_000),  # 6 500,00 EUR
            ("community", "Travail du groupement", "XOF", 800_000),
            ("commune", "Commune de Vo 1", "XOF", 500_000),
        ],
        "withdraw_reason": "Le groupement a obtenu un financement de l'ANADEB pour le même périmètre.",
    },
]


def seed_projects(calls: dict, associations: list, members: dict) -> None:
    """Add the demo projects (flushed, not committed) on the open call of ``calls``.

    ``associations`` are the demo associations (matched by acronym, else taken in order among the verified
    ones); ``members`` maps an association (its id, acronym or the object) to the member who works on the
    project (else its first member).
    """
    call = calls.get("open") or next((c for c in calls.values() if isinstance(c, Call) and c.is_accepting()), None)
    if call is None or not call.is_accepting():
        return
    officer = db.session.scalar(select(User).where(User.role == Role.OFFICER, User.active.is_(True)).order_by(User.id))
    verified = [a for a in associations if a.status == AssociationStatus.VERIFIED]
    if not verified or officer is None:
        return
    if has_request_context():
        _seed(call, verified, members, officer)
    else:  # from the CLI: the pages and emails rendered on the way expect a request
        with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
            _seed(call, verified, members, officer)


def _seed(call: Call, verified: list[Association], members: dict, officer: User) -> None:
    by_acronym = {a.acronym: a for a in verified}
    for index, spec in enumerate(PROJECTS):
        association = by_acronym.get(spec["association"]) or verified[index % len(verified)]
        member = _member(association, members)
        if member is not None:
            _project(spec, call, member, officer)


def _member(association: Association, members: dict) -> User | None:
    for key in (association.id, association.acronym, association):
        if key in members:
            return members[key]
    return db.session.scalar(
        select(User).where(User.association_id == association.id, User.role == Role.ASSOCIATION).order_by(User.id)
    )


def _project(spec: dict, call: Call, member: User, officer: User) -> Project:
    project = services.start_project(call, member, spec["title"])
    steps = spec.get("steps", (*Step,))
    total, women, youth = spec["beneficiaries"]
    partner_name, partner_kind, commitment = spec["partner"]
    data = {
        Step.GENERAL: {"title": spec["title"], "sector": spec["sector"], "summary": spec["summary"],
                       "led_by_women": spec["led_by_women"]},
        Step.LOCATION: {"commune": spec["commune"], "village": spec["village"], "local_partner_name": partner_name,
                        "local_partner_kind": partner_kind, "local_partner_commitment": commitment},
        Step.DESCRIPTION: {"problem": spec["problem"], "objectives": spec["objectives"],
                           "activities": spec["activities"], "beneficiaries_total": total,
                           "beneficiaries_women": women, "beneficiaries_youth": youth,
                           "start_date": _first_of_next_quarter(), "duration_months": spec["duration"]},
    }
    for step in (Step.GENERAL, Step.LOCATION, Step.DESCRIPTION):
        if step in steps:
            services.save_step(project, step, data[step], member, project.version)
    if Step.BUDGET in steps:
        services.save_budget(project, [BudgetLineData(*line) for line in spec["budget"]], member, project.version)
    if Step.FINANCING in steps:
        lines = [_financing_line(*line) for line in spec["financing"]]
        grant = sum(line.amount_xof for line in project.budget_lines) - sum(line.amount_xof for line in lines)
        services.save_financing(project, lines, grant, member, project.version)
        if not all(check.ok for check in check_plan(call, plan_figures(project))):
            raise ValueError(f"demo project {spec['key']}: the plan does not meet the call's rules")
    if Step.ATTACHMENTS in steps:
        for kind in [*call.required_kinds, "photo"]:
            attachments.add_attachment(project, kind, _document(kind, spec["key"]), member)
        attachments.finish_attachments(project, member, project.version)
    state = spec["state"]
    if state in ("submitted", "resubmitted", "returned", "withdrawn"):
        services.submit_project(project, member)
    if state in ("resubmitted", "returned"):
        services.return_project(project, officer, spec["return_message"])
    if state == "resubmitted":
        changed = services.step_data(project, Step.DESCRIPTION)
        changed["activities"] += " Entretien de la pompe : le CVD, avec un artisan réparateur formé à Kpalimé."
        services.save_step(project, Step.DESCRIPTION, changed, member, project.version)
        letter = _document("commune_letter", "borehole-signed")
        attachments.add_attachment(project, "commune_letter", letter, member)
        services.submit_project(project, member)
    if state == "withdrawn":
        services.withdraw_project(project, member, spec["withdraw_reason"])
    return project


def _financing_line(source: str, description: str, currency: str, amount_minor: int) -> FinancingLineData:
    if currency == "XOF":
        return FinancingLineData(source, description, "XOF", amount_minor, 1_000_000, amount_minor)
    try:
        xof, rate = to_xof(amount_minor, currency, utcnow().date())
    except MoneyError:  # no rate recorded for that currency: the demo falls back to euros
        xof, rate = to_xof(amount_minor, "EUR", utcnow().date())
        currency = "EUR"
    return FinancingLineData(source, description, currency, amount_minor, rate, xof)


def _document(kind: str, key: str) -> FileStorage:
    return FileStorage(io.BytesIO(DEMO_PDF), filename=f"{key}-{kind}.pdf", content_type="application/pdf")


def _first_of_next_quarter() -> date:
    today = utcnow().date()
    month = ((today.month - 1) // 3 + 1) * 3 + 1
    year = today.year + (month > 12)
    return date(year, (month - 1) % 12 + 1, 1)
