"""Oversight pages: the public register (its figures, projects, CSV) and the IATI file; the ministry's exports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, render_template, request
from sqlalchemy import func, select

from codev.accounts.models import MINISTRY_ROLES, Role
from codev.calls.models import Call, CallStatus
from codev.core.geography import region_name
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.i18n import locale_name, ngettext
from codev.core.params import PageLinks, page_number
from codev.core.permissions import public, roles
from codev.core.templating import nav_item
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.oversight import bp, cache, queries, register
from codev.oversight.exports import DATASETS
from codev.oversight.forms import FilterForm
from codev.oversight.iati import iati_chunks
from codev.oversight.tables import csv_response, rows_of, xlsx_response
from codev.projects.models import PROJECT_STATUS_LABELS

MINISTRY = tuple(sorted(MINISTRY_ROLES))  # officer, approver, admin

nav_item("oversight.register", _l("Funded projects"), *Role, order=12, group="programme")
nav_item("oversight.exports", _l("Exports"), *MINISTRY, order=90, group="programme")


@bp.context_processor
def _helpers() -> dict:
    """Numbers in the reader's language, and the labels the oversight pages show."""
    from decimal import Decimal

    from babel.numbers import format_decimal

    from codev.calls.models import TrancheCondition
    from codev.core.money import format_number
    from codev.projects.models import FundingSource

    def decimal(value: Decimal) -> str:
        return format_decimal(value, format="#,##0.00", locale=locale_name())

    def tranche_words(paid: int, tranches: int) -> str:
        return ngettext("%(paid)d of %(num)d tranche paid", "%(paid)d of %(num)d tranches paid", tranches, paid=paid)

    def source_label(code: str) -> str:
        return FundingSource(code).label if code in set(FundingSource) else code

    def condition_label(code: str) -> str:
        return TrancheCondition(code).label if code in set(TrancheCondition) else code

    return {"number": format_number, "decimal": decimal, "tranche_words": tranche_words,
            "source_label": source_label, "condition_label": condition_label}


@dataclass(frozen=True)
class RowPage(PageLinks):
    """One page of rows (what the pagination macro reads), counted and sliced by the database."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _register_page(filters: queries.Filters, version: cache.Version) -> RowPage:
    per_page = current_app.config["PAGE_SIZE"]
    count = version.get("register_count", filters, lambda: queries.register_count(filters))
    number = min(page_number(), max(1, -(-count // per_page)))
    items = queries.register_page(filters, per_page, (number - 1) * per_page) if count else []
    return RowPage(items, number, per_page, count)


def _register_form() -> FilterForm:
    form = FilterForm(formdata=request.args, calls=queries.funded_calls(), statuses=register.status_choices(),
                      first_year=queries.first_year(), locale=locale_name(),
                      year_help=_l("The year the grant was approved."))
    form.validate()
    return form


def _open_calls() -> list[Any]:
    return list(db.session.execute(
        select(Call.id, Call.title, Call.title_en, Call.closes_at)
        .where(Call.status == CallStatus.OPEN, Call.closes_at > utcnow()).order_by(Call.closes_at, Call.id).limit(10)
    ))


@bp.route("/register", endpoint="register")
@public
def register_index():
    """The programme's figures, its funded projects (filtered, paged), by region, and the open calls."""
    form = _register_form()
    filters = form.filters()
    version = cache.Version()  # the figures kept for this state of the data (codev.oversight.cache)
    figures, by = version.get("register_figures", filters, lambda: queries.figures_with(filters, ("region",)))
    regions = by["region"]
    return render_template(
        "oversight/register.html", form=form, filters=filters, figures=figures,
        page=_register_page(filters, version),
        by_region=[(region_name(code) if code else _("Not given"), figures) for code, figures in regions],
        open_calls=_open_calls(), status_label=register.status_label, locale=locale_name(),
    )


@bp.route("/register/<int:project_id>")
@public
def register_project(project_id: int):
    """One funded project as the public sees it: place, sector, association, grant, money in and out."""
    row = queries.register_project(project_id)
    if row is None:
        abort(404)
    return render_template(
        "oversight/project.html", row=row, tranches=queries.tranche_rows(row.grant_id),
        payments=queries.disbursement_rows(row.grant_id), verified=queries.verified_by_source(row.grant_id),
        budget=queries.budget_total(project_id), status_label=register.status_label, locale=locale_name(),
    )


@bp.route("/register.csv")
@public
def register_csv():
    """The register as open data (CSV, the same filters), streamed."""
    filters = _register_form().filters()
    name = f"codev-register-{utcnow():%Y-%m-%d}.csv"
    return csv_response(name, register.csv_headers(locale_name()), register.csv_rows(filters, locale_name()))


@bp.route("/open-data/iati.xml")
@public
def iati():
    """The funded projects as an IATI 2.03 activity file, streamed."""
    from flask import Response, stream_with_context

    return Response(stream_with_context(iati_chunks()), mimetype="application/xml", headers={
        "Content-Disposition": 'inline; filename="codev-iati-activities.xml"'})


def _export_form() -> FilterForm:
    calls = list(db.session.execute(select(Call.id, Call.title, Call.title_en).order_by(Call.id.desc())))
    form = FilterForm(formdata=request.args, calls=calls, statuses=list(PROJECT_STATUS_LABELS.items()),
                      first_year=queries.first_year(), locale=locale_name(),
                      year_help=_l("Of submission (projects, evaluations), approval (grants), value date (ledger, "
                                   "disbursements)."))
    form.validate()
    return form


def _export_counts(filters: queries.Filters) -> dict[str, int]:
    counts = {}
    for dataset in DATASETS.values():
        _columns, stmt = dataset.build(filters)
        counts[dataset.name] = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return counts


@bp.route("/oversight/exports")
@roles(*MINISTRY)
def exports():
    """The exports with the filters, and how many rows each file holds."""
    form = _export_form()
    filters = form.filters()
    counts = cache.Version().get("export_counts", filters, lambda: _export_counts(filters))
    return render_template("oversight/exports.html", form=form, datasets=DATASETS.values(), counts=counts,
                           args=filters.query_args())


@bp.route("/oversight/exports/<dataset>.<fmt>")
@roles(*MINISTRY)
def export_file(dataset: str, fmt: str):
    """One export as CSV (streamed) or XLSX (written row by row), headers in the reader's language."""
    found = DATASETS.get(dataset)
    if found is None or fmt not in ("csv", "xlsx"):
        abort(404)
    columns, stmt = found.build(_export_form().filters())
    headers = [str(c.header) for c in columns]
    name = f"codev-{dataset}-{utcnow():%Y-%m-%d}.{fmt}"
    if fmt == "csv":
        return csv_response(name, headers, rows_of(stmt, columns))
    return xlsx_response(name, str(found.title), headers, rows_of(stmt, columns))
