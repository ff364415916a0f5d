"""The audit log viewer for administrators and officers: filters, pages, an object's whole history, CSV.

The log (``audit_events``) is append-only; this only reads it. Filters: the person (part of the email
or name), the object's type and id, the beginning of the action, a range of dates (UTC). An object's
*whole history* adds the events of what belongs to it: for a project its screenings, assignments and
evaluations, committee decisions, its grant and what belongs to the grant; for a grant its letters,
amendments, ledger entries, disbursements and their requests, and reports. Newest first. The CSV
export streams the same rows, its text cells made inert for spreadsheets
(:func:`codev.oversight.tables.inert`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import render_template, request
from sqlalchemy import Select, and_, func, or_, select, union_all
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import Optional, ValidationError

from codev.accounts.models import Role, User
from codev.core.forms import BaseForm, max_length
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.models import AuditEvent
from codev.core.numbers import INT32_MAX, parse_id
from codev.core.params import paginate
from codev.core.permissions import roles
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.models import (
    AwardLetter,
    ContributionEntry,
    Disbursement,
    DisbursementRequest,
    Grant,
    GrantAmendment,
    Report,
)
from codev.oversight import bp
from codev.oversight.tables import YIELD_PER, csv_response
from codev.reviews.models import Assignment, CommitteeDecision, Evaluation, Screening

AUDIT_ROLES = (Role.ADMIN, Role.OFFICER)
# Where an object's page is, by its table (the viewer links to it).
OBJECT_PAGES = {
    "projects": ("projects.detail", "project_id"),
    "grants": ("grants.detail", "grant_id"),
    "associations": ("associations.detail", "association_id"),
    "calls": ("calls.detail", "call_id"),
}
# What belongs to a grant, by table: the column that names the grant.
_OF_GRANT = ((AwardLetter, AwardLetter.grant_id), (GrantAmendment, GrantAmendment.grant_id),
             (ContributionEntry, ContributionEntry.grant_id), (Disbursement, Disbursement.grant_id),
             (DisbursementRequest, DisbursementRequest.grant_id), (Report, Report.grant_id))
_OF_PROJECT = ((Screening, Screening.project_id), (Assignment, Assignment.project_id),
               (CommitteeDecision, CommitteeDecision.project_id))


class AuditFilters(BaseForm):
    """The viewer's filters (GET, no CSRF): a value that does not pass is shown as an error and ignored."""

    class Meta:
        csrf = False

    person = StringField(_l("Person"), validators=[Optional(), max_length(254)],
                         description=_l("Part of the email or of the name."))
    object_type = SelectField(_l("Object"), choices=[], validators=[Optional()])
    object_id = StringField(_l("Object number"), validators=[Optional(), max_length(10)])
    related = BooleanField(_l("With what belongs to it"))
    action = StringField(_l("Action"), validators=[Optional(), max_length(64)],
                         description=_l("The beginning is enough, for example “grant.”."))
    start = DateField(_l("From (UTC)"), validators=[Optional()])
    end = DateField(_l("To (UTC, included)"), validators=[Optional()])

    def __init__(self, *args, object_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.object_type.choices = [("", _l("All")), *((t, t) for t in object_types)]

    def validate_object_id(self, field) -> None:
        number = parse_id(field.data) if field.data else None
        if field.data and (number is None or number > INT32_MAX):
            raise ValidationError(_("Enter the object's number, for example 12."))

    def good(self, name: str) -> Any:
        field = self[name]
        return field.data if field.data not in (None, "") and not field.errors else None

    def args(self) -> dict[str, str]:
        """The filters that passed, as the query string of a link (the CSV, the pages)."""
        values = {name: self.good(name) for name in ("person", "object_type", "object_id", "action", "start", "end")}
        values = {k: (v.isoformat() if hasattr(v, "isoformat") else str(v)) for k, v in values.items() if v}
        if self.good("related"):
            values["related"] = "y"
        return values


def object_types() -> list[str]:
    """The kinds of object the log can name: the application's tables (read from the models, not from the
    log: PostgreSQL would scan the whole log for its distinct values)."""
    return sorted(db.metadata.tables)


def _belongs(object_type: str, object_id: int) -> Any:
    """The condition "this object, and what belongs to it": the events' ids, one index lookup per kind of
    object (``ix_audit_events_object``) joined by UNION ALL, so the log is never scanned whole."""
    def of(table: Any, ids: Any) -> Select:
        return select(AuditEvent.id).where(AuditEvent.object_type == table.__tablename__,
                                           AuditEvent.object_id.in_(ids))

    itself = select(AuditEvent.id).where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
    if object_type == "projects":
        grant_ids = select(Grant.id).where(Grant.project_id == object_id)
        assignment_ids = select(Assignment.id).where(Assignment.project_id == object_id)
        parts = [of(model, select(model.id).where(column == object_id)) for model, column in _OF_PROJECT]
        parts += [of(Evaluation, select(Evaluation.id).where(Evaluation.assignment_id.in_(assignment_ids))),
                  of(Grant, grant_ids)]
    elif object_type == "grants":
        grant_ids = select(Grant.id).where(Grant.id == object_id)
        parts = []
    else:
        return AuditEvent.id.in_(itself)
    parts += [of(model, select(model.id).where(column.in_(grant_ids))) for model, column in _OF_GRANT]
    return AuditEvent.id.in_(union_all(itself, *parts))


def audit_query(form: AuditFilters) -> Select:
    """The events the filters select, newest first."""
    stmt = select(AuditEvent)
    person = form.good("person")
    if person:
        needle = person.lower()
        people = select(User.id).where(or_(func.lower(User.email).contains(needle, autoescape=True),
                                           func.lower(User.name).contains(needle, autoescape=True)))
        stmt = stmt.where(AuditEvent.actor_id.in_(people))
    object_type, object_id = form.good("object_type"), form.good("object_id")
    if object_type and object_id:
        number = int(object_id)
        stmt = stmt.where(_belongs(object_type, number) if form.good("related")
                          else and_(AuditEvent.object_type == object_type, AuditEvent.object_id == number))
    elif object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    elif object_id:
        stmt = stmt.where(AuditEvent.object_id == int(object_id))
    action = form.good("action")
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
    start, end = form.good("start"), form.good("end")
    if start:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(start, time(), tzinfo=UTC))
    if end:
        stmt = stmt.where(AuditEvent.at < datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC))
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def people(ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _form() -> AuditFilters:
    form = AuditFilters(formdata=request.args, object_types=object_types())
    form.validate()
    return form


def object_link(event: AuditEvent) -> tuple[str, dict] | None:
    page = OBJECT_PAGES.get(event.object_type or "")
    if page is None or not event.object_id:
        return None
    endpoint, argument = page
    return endpoint, {argument: event.object_id}


@bp.route("/oversight/audit")
@roles(*AUDIT_ROLES)
def audit():
    """The audit log, filtered and paged, newest first."""
    form = _form()
    page = paginate(audit_query(form))
    actors = people({e.actor_id for e in page.items if e.actor_id})
    return render_template("oversight/audit.html", form=form, page=page, actors=actors, args=form.args(),
                           object_link=object_link)


def _csv_rows(form: AuditFilters) -> Iterator[list[Any]]:
    """The rows of the CSV, read a batch at a time (the actor's email and name joined in the same statement)."""
    events = audit_query(form).subquery("events")
    stmt = (select(events, User.email, User.name).outerjoin(User, User.id == events.c.actor_id)
            .order_by(events.c.at.desc(), events.c.id.desc()).execution_options(yield_per=YIELD_PER))

    def as_json(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value is not None else ""

    for row in db.session.execute(stmt):
        e = row._mapping
        yield [e["id"], e["at"], e["action"], e["email"] or "", e["name"] or "", e["object_type"] or "",
               e["object_id"], e["ip"] or "", as_json(e["before"]), as_json(e["after"])]


@bp.route("/oversight/audit.csv")
@roles(*AUDIT_ROLES)
def audit_csv():
    """The events the filters select, as CSV (streamed, formula-looking cells made inert)."""
    form = _form()
    headers = [_("Event"), _("Time (UTC)"), _("Action"), _("Email"), _("Name"), _("Object"), _("Object number"),
               _("IP address"), _("Before"), _("After")]
    return csv_response(f"codev-audit-{utcnow():%Y-%m-%d}.csv", headers, _csv_rows(form))
