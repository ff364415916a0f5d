"""The ministry's dashboard and maps (officers, approvers, administrators), and the card on their home.

The pages read :mod:`codev.oversight.dashboard` (the figures, in SQL) and draw with
:mod:`codev.oversight.charts` and :mod:`codev.oversight.maps`; they format every value here, in the
reader's language, before it is drawn.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.numbers import format_decimal
from flask import render_template, request
from flask_babel import format_date

from codev.accounts.models import MINISTRY_ROLES, Role
from codev.core.countries import country_name
from codev.core.geography import region_name, regions
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.i18n import locale_name
from codev.core.money import bps_decimal, format_number, format_xof
from codev.core.permissions import roles
from codev.core.sectors import sector_label
from codev.core.templating import home_panel
from codev.core.timeutil import utcnow
from codev.oversight import bp, cache, dashboard, maps, overdue, queries
from codev.oversight.charts import Bar, Series, bar_chart, column_chart, funnel_chart
from codev.oversight.forms import FilterForm
from codev.oversight.queries import Filters
from codev.projects.models import PROJECT_STATUS_LABELS

MINISTRY = tuple(sorted(MINISTRY_ROLES))
CHART_ROWS = 12  # a breakdown's chart shows its largest groups; its table shows them all

STAGE_LABELS = {
    "started": _l("Started (drafts included)"),
    "submitted": _l("Submitted"),
    "screened": _l("Found eligible at screening"),
    "qualified": _l("Qualified by the evaluators"),
    "approved": _l("Approved by the committee"),
    "funded": _l("Funded (grant awarded)"),
    "completed": _l("Completed"),
}
DIMENSION_TITLES = {
    "region": (_l("Region"), _l("By region of the project")),
    "prefecture": (_l("Prefecture"), _l("By prefecture of the project")),
    "sector": (_l("Sector"), _l("By sector")),
    "country": (_l("Country of residence"), _l("By the association's country of residence")),
}


def ratio_text(bps: int | None) -> str:
    """A leverage in basis points as "1,25" (fr) or "1.25" (en); a dash when there is nothing to divide by."""
    if bps is None:
        return "—"
    return format_decimal(bps_decimal(bps), format="#,##0.00", locale=locale_name())


def group_name(dimension: str, key: Any) -> str:
    if not key:
        return _("Not given")
    if dimension == "region":
        return region_name(key)
    if dimension == "sector":
        return sector_label(key)
    if dimension == "country":
        return country_name(key)
    return str(key)


def filter_form() -> FilterForm:
    """The register's filter form (call, region, sector, year); the dashboard shows no status."""
    form = FilterForm(formdata=request.args, calls=queries.calls_not_drafts(), statuses=(),
                      first_year=queries.first_year_of_the_programme(), locale=locale_name(),
                      year_help=_l("Projects: year of submission; money: year of the grant's approval."))
    form.validate()
    return form


def _filters(form: FilterForm) -> Filters:
    f = form.filters()
    return Filters(call_id=f.call_id, region=f.region, sector=f.sector, year=f.year)


def _month_names(months: list[str], fmt: str) -> list[str]:
    return [format_date(date(int(m[:4]), int(m[5:]), 1), fmt) for m in months]


def _charts(counts, stages, totals, money, groups, months) -> dict[str, Any]:
    count_text = format_number
    charts = {
        "funnel": funnel_chart("chart-funnel", _("Projects through the programme"),
                               [Bar(str(STAGE_LABELS[s.code]), s.count, count_text(s.count)) for s in stages]),
        "envelope": bar_chart("chart-envelope", _("Envelopes of the calls shown"), [
            Bar(_("Envelope"), totals.envelope_xof, format_xof(totals.envelope_xof), "c"),
            Bar(_("Committed"), totals.committed_xof, format_xof(totals.committed_xof), "a"),
            Bar(_("Disbursed"), totals.paid_xof, format_xof(totals.paid_xof), "b"),
            Bar(_("Remaining"), max(totals.remaining_xof, 0), format_xof(totals.remaining_xof), "c"),
        ]),
        "money": bar_chart("chart-money", _("Money mobilised"), [
            Bar(_("Diaspora money declared"), money.declared_xof, format_xof(money.declared_xof), "c"),
            Bar(_("Diaspora money verified"), money.figures.diaspora_xof, format_xof(money.figures.diaspora_xof), "a"),
            Bar(_("State money committed"), money.figures.committed_xof, format_xof(money.figures.committed_xof), "b"),
            Bar(_("State money paid"), money.figures.paid_xof, format_xof(money.figures.paid_xof), "b"),
        ]),
        "months": column_chart(
            "chart-months", _("Grants approved and tranches paid, by month"),
            _month_names([m.month for m in months], "LLL"),
            [Series(_("Grants approved"), [m.approved_xof for m in months],
                    [format_xof(m.approved_xof) for m in months], "a"),
             Series(_("Tranches paid"), [m.paid_xof for m in months], [format_xof(m.paid_xof) for m in months], "b")]),
    }
    for dimension, rows in groups.items():
        label, title = DIMENSION_TITLES[dimension]
        shown = sorted(rows, key=lambda g: -g.projects)[:CHART_ROWS]
        charts[dimension] = bar_chart(
            f"chart-{dimension}", _("%(title)s: projects submitted", title=title),
            [Bar(group_name(dimension, g.key), g.projects, count_text(g.projects)) for g in shown if g.projects],
            empty=_("No project matches these filters."), heading=_("Projects submitted"))
    return charts


@bp.route("/oversight/dashboard")
@roles(*MINISTRY)
def dashboard_page():
    """The programme at a glance, overall or for one call, region, sector or year."""
    form = filter_form()
    filters = _filters(form)
    version = cache.Version()  # the figures kept for this state of the data (codev.oversight.cache)
    seen = version.get("overview", filters, lambda: dashboard.overview(filters))
    counts, groups, money = seen.counts, seen.groups, seen.money
    stages = dashboard.funnel(counts)
    calls, totals = version.get("envelopes", filters, lambda: dashboard.envelopes(filters))
    today = utcnow().date()
    months = version.get("by_month", (filters, today), lambda: dashboard.by_month(filters, today))
    return render_template(
        "oversight/dashboard.html", form=form, filters=filters, args=filters.query_args(), stages=stages,
        stage_labels=STAGE_LABELS, statuses=dashboard.by_status(counts), status_labels=PROJECT_STATUS_LABELS,
        calls=calls, totals=totals, money=money, groups=groups, months=months,
        month_names=_month_names([m.month for m in months], "LLLL y"), dimension_titles=DIMENSION_TITLES,
        overdue=overdue.counts(filters), overdue_days=overdue.OVERDUE_DAYS, ratio_text=ratio_text,
        group_name=group_name, charts=_charts(counts, stages, totals, money, groups, months), locale=locale_name(),
    )


# --- maps -----------------------------------------------------------------------------------------

WORLD_MEASURES = {"associations": _l("Associations"), "projects": _l("Projects submitted"),
                  "diaspora": _l("Diaspora money verified")}
TOGO_MEASURES = {"projects": _l("Projects submitted"), "funded": _l("Projects funded"),
                 "committed": _l("State money committed")}


def _measure(name: str, measures: dict, default: str) -> str:
    value = request.args.get(name, default)
    return value if value in measures else default


def _world_value(row: dashboard.CountryRow, measure: str) -> maps.Value | None:
    value = {"associations": row.associations, "projects": row.projects, "diaspora": row.figures.diaspora_xof}[measure]
    text = format_xof(value) if measure == "diaspora" else format_number(value)
    return maps.Value(value, text) if value else None


def _togo_value(group: dashboard.Group, measure: str) -> maps.Value | None:
    value = {"projects": group.projects, "funded": group.figures.projects_funded,
             "committed": group.figures.committed_xof}[measure]
    text = format_xof(value) if measure == "committed" else format_number(value)
    return maps.Value(value, text) if value else None


def _legend(values: dict[str, maps.Value], money_measure: bool) -> list[tuple[int, str]]:
    largest = max((v.value for v in values.values()), default=0)
    return maps.legend(largest, format_xof if money_measure else format_number)


@bp.route("/oversight/maps")
@roles(*MINISTRY)
def maps_page():
    """Where the associations live (world) and where the projects are (Togo's regions), with their tables."""
    form = filter_form()
    filters = _filters(form)
    world_measure = _measure("world", WORLD_MEASURES, "associations")
    togo_measure = _measure("togo", TOGO_MEASURES, "projects")
    version = cache.Version()
    groups = version.get("overview", filters, lambda: dashboard.overview(filters)).groups
    countries = version.get("countries", filters, lambda: dashboard.countries(groups["country"]))
    world_values = {r.country: v for r in countries if (v := _world_value(r, world_measure))}
    by_region = groups["region"]
    togo_values = {g.key: v for g in by_region if g.key and (v := _togo_value(g, togo_measure))}
    region_names = {r.code: r.name for r in regions()}
    basemap = maps.world()
    world_map = maps.choropleth(
        "map-world", _("Where the associations live: %(measure)s", measure=WORLD_MEASURES[world_measure]),
        basemap, world_values, legend_rows=_legend(world_values, world_measure == "diaspora"),
        legend_title=str(WORLD_MEASURES[world_measure]), scale=3)
    togo_map = maps.choropleth(
        "map-togo", _("The projects in Togo: %(measure)s", measure=TOGO_MEASURES[togo_measure]),
        maps.togo(), togo_values, labels=region_names, no_data="0",
        legend_rows=_legend(togo_values, togo_measure == "committed"), legend_title=str(TOGO_MEASURES[togo_measure]))
    return render_template(
        "oversight/maps.html", form=form, filters=filters, args=filters.query_args(), world_map=world_map,
        togo_map=togo_map, countries=countries, off_map=[r for r in countries if r.country not in basemap.ids()],
        by_region=by_region, by_prefecture=groups["prefecture"], group_name=group_name,
        world_measure=world_measure, togo_measure=togo_measure, world_measures=WORLD_MEASURES,
        togo_measures=TOGO_MEASURES, ratio_text=ratio_text,
    )


# --- the home card ------------------------------------------------------------------------------


@home_panel(Role.OFFICER, Role.APPROVER, Role.ADMIN)
def dashboard_panel():
    """A link to the dashboard and the maps."""
    return "oversight/_panel_dashboard.html", {}
