"""The API's query arguments and answers as marshmallow schemas: they validate what a request carries (a value
outside its choices or range is a 400 naming the argument) and write the OpenAPI document.

Nothing personal is in an answer unless its field is the contact's, which the views fill only for a token
holding ``contacts:read``.
"""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from marshmallow import fields, validate

from codev.calls.services import PUBLIC_STATUSES
from codev.core.geography import regions
from codev.core.params import DB_INT_MAX
from codev.core.sectors import SECTOR_BY_CODE
from codev.grants.models import GrantStatus
from codev.oversight.queries import BREAKDOWNS, REGISTER_STATUSES

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50

_ID = validate.Range(1, DB_INT_MAX)
_YEAR = validate.Range(1900, 2100)
_DATES = validate.Range(date(1900, 1, 1), date(2100, 12, 31))


def _id(description: str) -> fields.Integer:
    return fields.Integer(validate=_ID, metadata={"description": description})


class PageArgs(ma.Schema):
    """A page: how many rows (``limit``) and where the previous page ended (``cursor``, from its answer)."""

    limit = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE),
                           metadata={"description": f"Rows per page, 1 to {MAX_PAGE_SIZE}."})
    cursor = fields.String(validate=validate.Length(1, 200),
                           metadata={"description": "The next_cursor of the previous page; absent for the first."})


class RegisterArgs(PageArgs):
    """The register's filters (those of /register)."""

    call = _id("A call's id.")
    region = fields.String(validate=validate.OneOf([r.code for r in regions()]),
                           metadata={"description": "A region of Togo (ISO 3166-2 code)."})
    sector = fields.String(validate=validate.OneOf(list(SECTOR_BY_CODE)), metadata={"description": "A sector."})
    status = fields.String(validate=validate.OneOf(REGISTER_STATUSES),
                           metadata={"description": "The register's status of the project."})
    year = fields.Integer(validate=_YEAR, metadata={"description": "The year the grant was approved."})


class FigureArgs(ma.Schema):
    call = _id("A call's id.")
    region = RegisterArgs._declared_fields["region"]
    sector = RegisterArgs._declared_fields["sector"]
    status = RegisterArgs._declared_fields["status"]
    year = RegisterArgs._declared_fields["year"]
    by = fields.String(validate=validate.OneOf(list(BREAKDOWNS)),
                       metadata={"description": "Also break the figures down by this dimension."})


class CallArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(sorted(s.value for s in PUBLIC_STATUSES)),
                           metadata={"description": "The call's status."})
    year = fields.Integer(validate=_YEAR, metadata={"description": "The year the call opened."})


class DisbursementArgs(PageArgs):
    call = _id("A call's id.")
    grant = _id("A grant's id.")
    region = RegisterArgs._declared_fields["region"]
    sector = RegisterArgs._declared_fields["sector"]
    year = fields.Integer(validate=_YEAR, metadata={"description": "The year of the value date."})
    since = fields.Date(validate=_DATES, metadata={"description": "Paid on or after this date (YYYY-MM-DD)."})
    until = fields.Date(validate=_DATES, metadata={"description": "Paid on or before this date (YYYY-MM-DD)."})


# --- answers ---------------------------------------------------------------------------------------


class Contact(ma.Schema):
    """The association's contact person (personal data: only with the contacts:read scope)."""

    name = fields.String()
    email = fields.String()
    phone = fields.String(allow_none=True)


class CallOut(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True, metadata={"description": "In French."})
    title_en = fields.String(allow_none=True, metadata={"description": "In English, when given."})
    status = fields.String(required=True)
    opens_at = fields.DateTime(allow_none=True)
    closes_at = fields.DateTime(allow_none=True)
    envelope_xof = fields.Integer(required=True, metadata={"description": "The call's envelope, whole XOF."})
    max_grant_xof = fields.Integer(allow_none=True)
    ratio_num = fields.Integer(required=True, metadata={"description": "Francs of the state …"})
    ratio_den = fields.Integer(required=True, metadata={"description": "… for these francs of the association."})
    sectors = fields.List(fields.String())
    regions = fields.List(fields.String())


class ProjectOut(ma.Schema):
    """A funded project as the public register lists it (money in whole XOF)."""

    project_id = fields.Integer(required=True)
    grant_id = fields.Integer(required=True)
    reference = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "The register's status."})
    call_id = fields.Integer(required=True)
    call_title = fields.String(required=True)
    call_title_en = fields.String(allow_none=True)
    association = fields.String(required=True, metadata={"description": "The association's name."})
    country = fields.String(required=True, metadata={"description": "Its country of residence (ISO 3166-1)."})
    region = fields.String(allow_none=True)
    prefecture = fields.String(allow_none=True)
    commune = fields.String(allow_none=True)
    sector = fields.String(allow_none=True)
    approved_at = fields.DateTime(required=True)
    grant_xof = fields.Integer(required=True)
    committed_xof = fields.Integer(required=True)
    diaspora_xof = fields.Integer(required=True, metadata={"description": "Diaspora money verified."})
    paid_xof = fields.Integer(required=True)
    tranches = fields.Integer(required=True)
    tranches_paid = fields.Integer(required=True)
    contact = fields.Nested(Contact, metadata={"description": "Only with the contacts:read scope."})


class TrancheOut(ma.Schema):
    number = fields.Integer()
    share_bps = fields.Integer(metadata={"description": "Share of the grant in basis points (10 000 = 100 %)."})
    amount_xof = fields.Integer()
    condition = fields.String()
    paid_xof = fields.Integer()


class PaymentOut(ma.Schema):
    value_date = fields.Date()
    tranche_number = fields.Integer()
    amount_xof = fields.Integer()


class SourceOut(ma.Schema):
    source = fields.String()
    amount_xof = fields.Integer()


class ProjectDetailOut(ProjectOut):
    village = fields.String(allow_none=True)
    start_date = fields.Date(allow_none=True)
    duration_months = fields.Integer(allow_none=True)
    beneficiaries_total = fields.Integer(allow_none=True)
    beneficiaries_women = fields.Integer(allow_none=True)
    beneficiaries_youth = fields.Integer(allow_none=True)
    ratio_num = fields.Integer()
    ratio_den = fields.Integer()
    budget_xof = fields.Integer()
    verified_by_source = fields.List(fields.Nested(SourceOut))
    tranche_plan = fields.List(fields.Nested(TrancheOut))
    payments = fields.List(fields.Nested(PaymentOut))


class GrantOut(ma.Schema):
    """A grant in detail (grants:read)."""

    grant_id = fields.Integer(required=True)
    project_id = fields.Integer(required=True)
    call_id = fields.Integer(required=True)
    reference = fields.String(required=True, metadata={"description": "The project's reference."})
    status = fields.String(required=True, metadata={"description": "The register's status."})
    grant_status = fields.String(required=True, validate=validate.OneOf([s.value for s in GrantStatus]))
    amount_xof = fields.Integer(required=True)
    released_xof = fields.Integer(required=True, metadata={"description": "Given back to the envelope."})
    committed_xof = fields.Integer(required=True)
    ratio_num = fields.Integer(required=True)
    ratio_den = fields.Integer(required=True)
    in_kind_counts_bps = fields.Integer(required=True)
    required_association_xof = fields.Integer(required=True)
    contribution_deadline = fields.Date(required=True)
    approved_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True)
    lapsed_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    diaspora_xof = fields.Integer(required=True)
    paid_xof = fields.Integer(required=True)
    tranche_plan = fields.List(fields.Nested(TrancheOut))


class DisbursementOut(ma.Schema):
    id = fields.Integer(required=True)
    grant_id = fields.Integer(required=True)
    project_id = fields.Integer(required=True)
    call_id = fields.Integer(required=True)
    tranche_number = fields.Integer(required=True)
    amount_xof = fields.Integer(required=True)
    value_date = fields.Date(required=True)
    recorded_at = fields.DateTime(required=True)
    second_signature = fields.Boolean(required=True, metadata={"description": "An approver signed it too."})


class FiguresOut(ma.Schema):
    projects_listed = fields.Integer()
    projects_funded = fields.Integer()
    committed_xof = fields.Integer()
    paid_xof = fields.Integer()
    diaspora_xof = fields.Integer()
    communes = fields.Integer()
    leverage = fields.Decimal(as_string=True, allow_none=True,
                              metadata={"description": "Diaspora money verified per franc committed."})


class BreakdownOut(FiguresOut):
    key = fields.String(allow_none=True)


class FiguresAnswer(ma.Schema):
    figures = fields.Nested(FiguresOut, required=True)
    by = fields.String(allow_none=True)
    breakdown = fields.List(fields.Nested(BreakdownOut))


def page_of(item: type[ma.Schema]) -> type[ma.Schema]:
    """The answer of a list: its rows, the cursor of the next page (null on the last) and its address."""
    return ma.Schema.from_dict({
        "items": fields.List(fields.Nested(item), required=True),
        "limit": fields.Integer(required=True),
        "next_cursor": fields.String(allow_none=True, required=True),
        "next": fields.String(allow_none=True, required=True, metadata={"description": "The next page's URL."}),
    }, name=f"{item.__name__.removesuffix('Out')}Page")
