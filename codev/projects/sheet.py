"""The project sheet (fiche projet): the application as a PDF, from plain data in one language.

:func:`sheet_data` turns the project into plain dicts and strings (money, dates and labels formatted
in the sheet's language), so the template never touches the ORM; Jinja escapes every value.
"""

from __future__ import annotations

from flask_babel import force_locale, format_date, format_datetime

from codev.core.countries import country_name
from codev.core.geography import region_name
from codev.core.i18n import gettext as _
from codev.core.money import format_bps, format_minor, format_number, format_xof
from codev.core.pdf import render_pdf
from codev.core.sectors import sector_label
from codev.core.templating import ministry_name
from codev.core.timeutil import utcnow
from codev.projects.models import Project
from codev.projects.reading import event_label, label_of, plan_summary


def sheet_data(project: Project, locale: str) -> dict:
    """Everything the sheet prints, as plain values formatted in ``locale``."""
    with force_locale(locale):
        plan = plan_summary(project)
        association, call = project.association, project.call
        return {
            "lang": locale,
            "ministry": ministry_name(locale),
            "printed_at": format_datetime(utcnow(), "medium"),
            "reference": project.reference or "",
            "status": label_of("status", project.status),
            "submitted_at": format_datetime(project.submitted_at, "medium") if project.submitted_at else "",
            "title": project.title,
            "call": call.title_for(locale),
            "association": {
                "name": association.display_name, "country": country_name(association.country, locale),
                "city": association.city, "contact": association.contact_name, "email": association.contact_email,
            },
            "general": {
                "sector": sector_label(project.sector) if project.sector else "",
                "summary": project.summary or "",
                "led_by_women": _("Yes") if project.led_by_women else _("No"),
                "start": format_date(project.start_date, "long") if project.start_date else "",
                "duration": _("%(n)s months", n=project.duration_months) if project.duration_months else "",
            },
            "location": {
                "region": region_name(project.region) if project.region else "", "prefecture": project.prefecture or "",
                "commune": project.commune or "", "village": project.village or "",
                "partner": project.local_partner_name or "", "commitment": project.local_partner_commitment or "",
            },
            "description": {
                "problem": project.problem or "", "objectives": project.objectives or "",
                "activities": project.activities or "",
                "total": _count(project.beneficiaries_total, locale),
                "women": _count(project.beneficiaries_women, locale),
                "youth": _count(project.beneficiaries_youth, locale),
            },
            "budget": [
                {"category": label_of("category", line.category), "description": line.description,
                 "quantity": format_number(line.quantity, locale), "unit_cost": format_xof(line.unit_cost_xof, locale),
                 "amount": format_xof(line.amount_xof, locale)}
                for line in project.budget_lines
            ],
            "total_budget": format_xof(plan["total_budget"], locale),
            "financing": [
                {"source": label_of("source", line.source), "description": line.description or "",
                 "original": format_minor(line.amount_minor, line.currency, locale) if line.currency != "XOF" else "",
                 "amount": format_xof(line.amount_xof, locale)}
                for line in project.financing_lines
            ],
            "plan": [
                {"label": row.label, "amount": format_xof(row.amount_xof, locale),
                 "share": format_bps(row.share_bps, locale)}
                for row in plan["rows"]
            ],
            "total_financing": format_xof(plan["total_financing"], locale),
            "max_grant": format_xof(plan["max_grant"], locale),
            "checks": [{"ok": check.ok, "message": check.message} for check in plan["checks"]],
            "attachments": [
                {"kind": label_of("kind", link.kind), "name": link.file.display_name, "sha256": link.file.sha256}
                for link in project.attachments
            ],
            "events": [
                {"what": event_label(event), "at": format_datetime(event.at, "medium"),
                 "who": event.actor.name if event.actor else "", "message": event.message or ""}
                for event in project.events
            ],
        }


def _count(value: int | None, locale: str) -> str:
    return format_number(value, locale) if value is not None else ""


def render_sheet(project: Project, locale: str) -> bytes:
    """The PDF bytes of the project sheet in ``locale``."""
    data = sheet_data(project, locale)
    with force_locale(locale):
        return render_pdf("project_sheet.html", data)
