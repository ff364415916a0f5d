"""The API's operations (GET only), each with its scope; the OpenAPI document; errors as JSON.

A list reads one page of rows in a fixed number of SQL statements whatever the size of the programme:
``limit + 1`` rows chosen along an index after the cursor's id (the extra row says whether a next page
exists), their money computed for them only, their tranches in one more statement.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from flask import current_app, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from codev.accounts.api_tokens import Scope
from codev.accounts.models import Association
from codev.api import bp, meta
from codev.api import schemas as s
from codev.api.auth import ApiError, decode_cursor, encode_cursor, holds, json_error
from codev.calls.models import Call
from codev.calls.services import PUBLIC_STATUSES
from codev.core.errors import rollback_failed_request
from codev.core.permissions import api_token, public
from codev.extensions import db
from codev.grants.models import Disbursement, Grant, GrantTranche
from codev.oversight import cache, queries
from codev.projects.models import Project

log = logging.getLogger("codev")

ERRORS = {401: "No token, or an unknown, revoked or expired one.",
          403: "The token does not hold the scope this operation needs.",
          429: "Too many requests with this token: wait the seconds Retry-After says."}


def operation(scope: Scope, args: type | None = None, answer: Any = None) -> Callable[[Callable], Callable]:
    """An operation of the API: reached with a token holding ``scope`` (documented so, with its errors),
    its query ``args`` validated (a 400 names each wrong one), its ``answer`` written by the schema."""

    def wrap(view: Callable) -> Callable:
        if answer is not None:
            view = bp.response(200, answer)(view)
        if args is not None:
            view = bp.arguments(args, location="query", as_kwargs=True)(view)
        for code, description in ERRORS.items():
            view = bp.alt_response(code, response=_status_name(code), description=description)(view)
        view = bp.doc(security=[{"bearerAuth": [str(scope)]}],
                      description=f"Needs a token holding the scope `{scope}`.")(view)
        return api_token(str(scope))(view)

    return wrap


def _status_name(code: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(code).name


def _page(rows: Sequence[Any], limit: int, key: Callable[[Any], int], item: Callable[[Any], dict]) -> dict:
    """The answer of a list from up to ``limit + 1`` rows: the page, and where the next one starts."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(key(rows[-1])) if more and rows else None
    following = None
    if cursor:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        following = url_for(request.endpoint, **(request.view_args or {}), **args, cursor=cursor, _external=True)
    return {"items": [item(row) for row in rows], "limit": limit, "next_cursor": cursor, "next": following}


def _filters(call=None, region=None, sector=None, status=None, year=None) -> queries.Filters:
    return queries.Filters(call_id=call, region=region, sector=sector, status=status, year=year)


CONTACT_COLUMNS = (Association.contact_name.label("contact_name"), Association.contact_email.label("contact_email"),
                   Association.contact_phone.label("contact_phone"))
PROJECT_FIELDS = tuple(name for name in s.ProjectOut._declared_fields if name != "contact")


def _project(row: Any) -> dict:
    item = {name: getattr(row, name) for name in PROJECT_FIELDS}
    if holds(Scope.CONTACTS_READ):
        item["contact"] = {"name": row.contact_name, "email": row.contact_email, "phone": row.contact_phone}
    return item


def _contact_columns() -> tuple:
    return CONTACT_COLUMNS if holds(Scope.CONTACTS_READ) else ()


# --- operations ---------------------------------------------------------------------------------


@bp.route("/calls")
@operation(Scope.PUBLIC_READ, s.CallArgs, s.page_of(s.CallOut))
def calls(limit: int, cursor: str | None = None, status: str | None = None, year: int | None = None):
    """Calls for projects as the public reads them (drafts are not), in the order of their ids."""
    stmt = (select(Call).options(selectinload(Call.sectors), selectinload(Call.regions))
            .where(Call.status.in_([str(v) for v in PUBLIC_STATUSES])).order_by(Call.id).limit(limit + 1))
    if (after := decode_cursor(cursor)) is not None:
        stmt = stmt.where(Call.id > after)
    if status:
        stmt = stmt.where(Call.status == status)
    if year:
        start, end = queries.year_bounds(year)
        stmt = stmt.where(Call.opens_at >= start, Call.opens_at < end)
    rows = list(db.session.scalars(stmt))

    def item(call: Call) -> dict:
        return {"id": call.id, "title": call.title, "title_en": call.title_en, "status": str(call.status),
                "opens_at": call.opens_at, "closes_at": call.closes_at, "envelope_xof": call.envelope_xof,
                "max_grant_xof": call.max_grant_xof, "ratio_num": call.ratio_num, "ratio_den": call.ratio_den,
                "sectors": sorted(x.sector for x in call.sectors), "regions": sorted(x.region for x in call.regions)}

    return _page(rows, limit, lambda call: call.id, item)


@bp.route("/projects")
@operation(Scope.PUBLIC_READ, s.RegisterArgs, s.page_of(s.ProjectOut))
def projects(limit: int, cursor: str | None = None, **filters):
    """The funded projects of the public register (with the same filters), in the order of their grants."""
    rows = queries.register_after(_filters(**filters), decode_cursor(cursor), limit + 1, *_contact_columns())
    return _page(rows, limit, lambda row: row.grant_id, _project)


@bp.route("/projects/<int:project_id>")
@operation(Scope.PUBLIC_READ, answer=s.ProjectDetailOut)
@bp.alt_response(404, response="NOT_FOUND", description="No funded project has this id.")
def project(project_id: int):
    """One funded project as its public page shows it: place, beneficiaries, money in and out."""
    row = queries.register_project(project_id)
    if row is None:
        raise ApiError(404, "No funded project has this id.")
    item = {name: getattr(row, name) for name in PROJECT_FIELDS}
    item.update({name: getattr(row, name) for name in (
        "village", "start_date", "duration_months", "beneficiaries_total", "beneficiaries_women",
        "beneficiaries_youth", "ratio_num", "ratio_den")})
    item["budget_xof"] = queries.budget_total(project_id)
    item["verified_by_source"] = [dict(r._mapping) for r in queries.verified_by_source(row.grant_id)]
    item["tranche_plan"] = [dict(r._mapping) for r in queries.tranche_rows(row.grant_id)]
    item["payments"] = [dict(r._mapping) for r in queries.disbursement_rows(row.grant_id)]
    if holds(Scope.CONTACTS_READ):
        contact = db.session.execute(select(*CONTACT_COLUMNS).join(Project, Project.association_id == Association.id)
                                     .where(Project.id == project_id)).one()
        item["contact"] = {"name": contact.contact_name, "email": contact.contact_email,
                           "phone": contact.contact_phone}
    return item


GRANT_COLUMNS = (Grant.status.label("grant_status"), Grant.released_xof, Grant.ratio_num, Grant.ratio_den,
                 Grant.in_kind_counts_bps, Grant.required_association_xof, Grant.contribution_deadline,
                 Grant.completed_at, Grant.lapsed_at, Grant.cancelled_at)


def _tranche_plans(grant_ids: list[int]) -> dict[int, list[dict]]:
    """Every listed grant's tranches with what was paid on each, in one statement."""
    plans: dict[int, list[dict]] = {grant_id: [] for grant_id in grant_ids}
    if not grant_ids:
        return plans
    paid = (select(queries.total(Disbursement.amount_xof))
            .where(Disbursement.grant_id == GrantTranche.grant_id, Disbursement.tranche_number == GrantTranche.number)
            .scalar_subquery())
    for row in db.session.execute(
        select(GrantTranche.grant_id, GrantTranche.number, GrantTranche.share_bps, GrantTranche.amount_xof,
               GrantTranche.condition, paid.label("paid_xof"))
        .where(GrantTranche.grant_id.in_(grant_ids)).order_by(GrantTranche.grant_id, GrantTranche.number)
    ):
        plans[row.grant_id].append({k: v for k, v in row._mapping.items() if k != "grant_id"})
    return plans


@bp.route("/grants")
@operation(Scope.GRANTS_READ, s.RegisterArgs, s.page_of(s.GrantOut))
def grants(limit: int, cursor: str | None = None, **filters):
    """Grants in detail (amounts, rules, dates, tranche plan), with the register's filters."""
    rows = queries.register_after(_filters(**filters), decode_cursor(cursor), limit + 1, *GRANT_COLUMNS)
    plans = _tranche_plans([row.grant_id for row in rows[:limit]])
    names = [name for name in s.GrantOut._declared_fields if name not in ("amount_xof", "tranche_plan")]

    def item(row: Any) -> dict:
        return {**{name: getattr(row, name) for name in names}, "grant_status": str(row.grant_status),
                "amount_xof": row.grant_xof, "tranche_plan": plans[row.grant_id]}

    return _page(rows, limit, lambda row: row.grant_id, item)


@bp.route("/disbursements")
@operation(Scope.GRANTS_READ, s.DisbursementArgs, s.page_of(s.DisbursementOut))
def disbursements(limit: int, cursor: str | None = None, call: int | None = None, grant: int | None = None,
                  region: str | None = None, sector: str | None = None, year: int | None = None,
                  since: date | None = None, until: date | None = None):
    """Money paid out, tranche by tranche (date, amount; no bank reference, no person), in the order of ids."""
    stmt = (select(Disbursement.id, Disbursement.grant_id, Grant.project_id, Grant.call_id,
                   Disbursement.tranche_number, Disbursement.amount_xof, Disbursement.value_date,
                   Disbursement.recorded_at, Disbursement.approved_by_id.is_not(None).label("second_signature"))
            .join(Grant, Grant.id == Disbursement.grant_id).order_by(Disbursement.id).limit(limit + 1))
    if (after := decode_cursor(cursor)) is not None:
        stmt = stmt.where(Disbursement.id > after)
    if call:
        stmt = stmt.where(Grant.call_id == call)
    if grant:
        stmt = stmt.where(Disbursement.grant_id == grant)
    if region or sector:
        stmt = stmt.join(Project, Project.id == Grant.project_id)
        stmt = stmt.where(Project.region == region) if region else stmt
        stmt = stmt.where(Project.sector == sector) if sector else stmt
    if year:
        stmt = stmt.where(Disbursement.value_date >= queries.year_bounds(year)[0].date(),
                          Disbursement.value_date < queries.year_bounds(year)[1].date())
    if since:
        stmt = stmt.where(Disbursement.value_date >= since)
    if until:
        stmt = stmt.where(Disbursement.value_date <= until)
    rows = list(db.session.execute(stmt))
    return _page(rows, limit, lambda row: row.id, lambda row: dict(row._mapping))


def _figures_dict(figures: queries.Figures) -> dict:
    return {**{name: getattr(figures, name) for name in queries.FIGURES}, "leverage": figures.leverage}


@bp.route("/figures")
@operation(Scope.PUBLIC_READ, s.FigureArgs, s.FiguresAnswer)
def figures(by: str | None = None, **filters):
    """The programme's figures (those of the register, with its filters), broken down by one dimension."""
    chosen = _filters(**filters)
    version = cache.Version()  # kept per state of the data, as the register keeps them
    answer: dict[str, Any] = {
        "figures": _figures_dict(version.get("programme_figures", chosen, lambda: queries.programme_figures(chosen))),
        "by": by, "breakdown": []}
    if by:
        rows = version.get(f"figures_by_{by}", chosen, lambda: queries.figures_by(by, chosen))
        answer["breakdown"] = [{"key": None if key is None else str(key), **_figures_dict(f)} for key, f in rows]
    return answer


# --- the document and the errors ------------------------------------------------------------------


@meta.route("/openapi.json")
@public
def openapi_json():
    """The OpenAPI 3 document of the API (written by flask-smorest from the operations' schemas)."""
    from codev.api import EXTENSION

    response = jsonify(current_app.extensions[EXTENSION].spec.to_dict())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.errorhandler(HTTPException)
@meta.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return json_error(error)


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    log.exception("unhandled error in the API", exc_info=error)
    rollback_failed_request()
    return {"code": 500, "status": "Internal Server Error", "message": "An unexpected error occurred."}, 500


def under_api() -> bool:
    return request.path == bp.url_prefix or request.path.startswith(f"{bp.url_prefix}/")


def not_found_or_not_allowed(error: HTTPException):
    """A 404 or 405 under /api/v1/ (no operation matched) in JSON; elsewhere the app's page."""
    if under_api():
        return json_error(error)
    from codev.core.errors import MESSAGES, render_error

    return render_error(error.code) if error.code in MESSAGES else error  # as the app's own handler does
