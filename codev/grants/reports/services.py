"""Progress and final reports: the association files them, an officer accepts or returns them.

An accepted progress report releases the tranches that wait for it; an accepted final report (with
every tranche paid) completes the grant and its project. A returned report stays in the history with
the officer's comment; the association files a new one. The report form is filed once per idempotency
key (:func:`file_report_from_form`), as contribution declarations are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from codev.accounts.models import Role, User
from codev.calls.models import TrancheCondition
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.mail import queue_mail
from codev.core.money import MAX_XOF
from codev.core.storage import discard_file, store_upload
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.common import OPEN_STATUSES, LedgerError, Sent, claim_key, grant_url, mail_members, sent_before
from codev.grants.disbursements.tranches import MoneyFacts, maybe_complete
from codev.grants.ledger.entries import is_member
from codev.grants.models import Grant, GrantStatus, Report, ReportAttachment, ReportKind, ReportStatus
from codev.grants.workflows import REPORT

REPORT_FORMATS = ("pdf", "jpeg", "png", "docx", "xlsx")
MAX_REPORT_FILES = 10
DEFAULT_REPORT_FILE_MAX_BYTES = 10 * 1024 * 1024

REPORT_KIND_LABELS = {ReportKind.PROGRESS: _l("Progress report"), ReportKind.FINAL: _l("Final report")}


class ReportError(LedgerError):
    """A refused operation on a report; the message is meant for the person."""


def kind_label(kind: str) -> str:
    return str(REPORT_KIND_LABELS.get(ReportKind(kind), kind))


def status_label(status: str) -> str:
    try:
        return ReportStatus(status).label
    except ValueError:
        return status


# --- reading ----------------------------------------------------------------------------------


def grant_reports(grant_id: int) -> list[Report]:
    """The grant's reports, newest first, one statement (their files are read where shown: the report's page)."""
    return list(db.session.scalars(
        select(Report).where(Report.grant_id == grant_id).order_by(Report.submitted_at.desc(), Report.id.desc())))


def to_read_query():
    """Submitted reports of open grants, oldest first (the officer's list)."""
    return (select(Report).join(Grant, Grant.id == Report.grant_id)
            .where(Report.status == ReportStatus.SUBMITTED).order_by(Report.submitted_at, Report.id))


def count_to_read() -> int:
    return db.session.scalar(select(func.count(Report.id)).where(Report.status == ReportStatus.SUBMITTED)) or 0


@dataclass(frozen=True)
class ReportDue:
    kind: ReportKind
    tranche_number: int  # the tranche that waits for it


def reports_due(grant: Grant, facts: MoneyFacts, reports: list[Report]) -> list[ReportDue]:
    """Reports the association should file now: the next unpaid tranche waits for one, none is being read."""
    if grant.status not in OPEN_STATUSES:
        return []
    submitted = {r.kind for r in reports if r.status == ReportStatus.SUBMITTED}
    progress_needed = 0
    for tranche in grant.tranches:
        if tranche.condition == TrancheCondition.PROGRESS_REPORT:
            progress_needed += 1
        if facts.paid_by_tranche.get(tranche.number, 0) >= tranche.amount_xof:
            continue
        # The first tranche not fully paid: does it wait for a report?
        if (tranche.condition == TrancheCondition.PROGRESS_REPORT and facts.accepted_progress < progress_needed
                and ReportKind.PROGRESS not in submitted):
            return [ReportDue(ReportKind.PROGRESS, tranche.number)]
        if (tranche.condition == TrancheCondition.FINAL_REPORT and not facts.accepted_final
                and ReportKind.FINAL not in submitted):
            return [ReportDue(ReportKind.FINAL, tranche.number)]
        return []
    # Every tranche paid: the final report closes the grant.
    if grant.tranches and not facts.accepted_final and ReportKind.FINAL not in submitted:
        return [ReportDue(ReportKind.FINAL, grant.tranches[-1].number)]
    return []


# --- who may do what --------------------------------------------------------------------------


def can_file(user: Any, grant: Grant) -> bool:
    return is_member(user, grant) and grant.status in OPEN_STATUSES


def can_review(user: Any) -> bool:
    return getattr(user, "is_authenticated", False) and user.role == Role.OFFICER


# --- services -----------------------------------------------------------------------------------


def report_file_max_bytes() -> int:
    return int(current_app.config.get("REPORT_FILE_MAX_BYTES") or DEFAULT_REPORT_FILE_MAX_BYTES)


def file_report(
    grant: Grant, user: User, *, kind: str, period_start: date, period_end: date, narrative: str,
    progress_pct: int, expenses: dict[int, int], files: list[FileStorage], today: date | None = None,
) -> Report:
    """File a report outside any form (the demo, scripts, tests): see :func:`file_report_from_form`."""
    return file_report_from_form(grant, user, kind=kind, period_start=period_start, period_end=period_end,
                                 narrative=narrative, progress_pct=progress_pct, expenses=expenses, files=files,
                                 idempotency_key=None, today=today).record


def file_report_from_form(
    grant: Grant, user: User, *, kind: str, period_start: date, period_end: date, narrative: str,
    progress_pct: int, expenses: dict[int, int], files: list[FileStorage], idempotency_key: str | None,
    today: date | None = None,
) -> Sent[Report]:
    """The association files a progress or final report (expenses per budget line, photos, documents).

    Once per idempotency key: the form sent again returns the first report, marked duplicate, and its
    files are not stored a second time.
    """
    today = today or utcnow().date()
    if not is_member(user, grant):
        raise ReportError(_("Only the members of the association can file its reports."))
    if idempotency_key is not None and (found := sent_before(Report, grant, idempotency_key)):
        return Sent(found, duplicate=True)
    if grant.status not in OPEN_STATUSES:
        raise ReportError(_("This grant is “%(state)s”: reports can no longer be filed.",
                            state=GrantStatus(grant.status).label))
    if kind not in {k.value for k in ReportKind}:
        raise ReportError(_("Choose the kind of report."), "kind")
    narrative = (narrative or "").strip()
    if not narrative:
        raise ReportError(_("Tell what was done during the period."), "narrative")
    if not 0 <= progress_pct <= 100:
        raise ReportError(_("The physical progress is a percentage between 0 and 100."), "progress_pct")
    if period_start > period_end:
        raise ReportError(_("The period must end after it starts."), "period_end")
    if period_end > today:
        raise ReportError(_("The period cannot end in the future."), "period_end")
    line_ids = {line.id for line in grant.project.budget_lines}
    if any(line_id not in line_ids for line_id in expenses):
        raise ReportError(_("An expense refers to a line that is not in the project's budget."), "expenses")
    if any(not isinstance(a, int) or a < 0 or a > MAX_XOF for a in expenses.values()):
        raise ReportError(_("Expenses are whole, positive numbers of francs CFA."), "expenses")
    files = [f for f in files if f is not None and f.filename]
    if len(files) > MAX_REPORT_FILES:
        raise ReportError(_("A report has at most %(n)s files.", n=MAX_REPORT_FILES), "files")
    if found := claim_key(Report, grant, idempotency_key):
        return Sent(found, duplicate=True)
    # Read after the lock (when there is a key): two reports of one kind sent at once do not both pass.
    reports = grant_reports(grant.id)
    if any(r.kind == kind and r.status == ReportStatus.SUBMITTED for r in reports):
        raise ReportError(_("A report of this kind is already waiting to be read by the ministry."), "kind")
    if kind == ReportKind.FINAL and any(r.kind == kind and r.status == ReportStatus.ACCEPTED for r in reports):
        raise ReportError(_("The final report has already been accepted."), "kind")
    stored = []
    try:
        for upload in files:
            stored.append(store_upload(upload, kind="report", allowed=REPORT_FORMATS,
                                       max_bytes=report_file_max_bytes(), uploaded_by_id=user.id))
        report = Report(
            grant_id=grant.id, kind=kind, period_start=period_start, period_end=period_end, narrative=narrative,
            progress_pct=progress_pct, submitted_by_id=user.id, idempotency_key=idempotency_key,
            expenses=[{"budget_line_id": i, "amount_xof": a} for i, a in sorted(expenses.items()) if a > 0],
            attachments=[ReportAttachment(attachment_id=f.id, file=f,
                                          kind="photo" if f.content_type.startswith("image/") else "document")
                         for f in stored],
        )
        db.session.add(report)
        db.session.flush()
        audit.record("report.submitted", report, actor=user,
                     after={"grant_id": grant.id, "kind": kind, "progress_pct": progress_pct,
                            "expenses_xof": sum(expenses.values()), "files": len(stored)})
        db.session.flush()
    except Exception:
        for f in stored:
            discard_file(f)
        raise
    _mail_officers(grant, report)
    return Sent(report)


def _report(grant: Grant, report_id: int) -> Report:
    report = db.session.get(Report, report_id)
    if report is None or report.grant_id != grant.id:
        raise ReportError(_("This report does not exist."))
    return report


def _review(grant: Grant, report_id: int, user: User) -> Report:
    if not can_review(user):
        raise ReportError(_("Only a programme officer can accept or return reports."))
    report = _report(grant, report_id)
    if report.status != ReportStatus.SUBMITTED:
        raise ReportError(_("This report has already been read."))
    return report


def accept_report(grant: Grant, report_id: int, user: User) -> Report:
    """An officer accepts a report; it releases the tranches that waited for it (and may complete the grant)."""
    report = _review(grant, report_id, user)
    report.reviewed_by_id = user.id
    report.reviewed_at = utcnow()
    REPORT.fire(report, ReportStatus.ACCEPTED, user)
    mail_members(grant, "report_accepted", kind=lambda locale: kind_in(report.kind, locale))
    if report.kind == ReportKind.FINAL:
        maybe_complete(grant, user)
    return report


def return_report(grant: Grant, report_id: int, user: User, comment: str) -> Report:
    """An officer returns a report with what to change; the association files a new one."""
    comment = (comment or "").strip()
    if not comment:
        raise ReportError(_("Say what the association should change."), "comment")
    report = _review(grant, report_id, user)
    report.reviewed_by_id = user.id
    report.reviewed_at = utcnow()
    report.review_comment = comment
    REPORT.fire(report, ReportStatus.RETURNED, user, comment, audit_after={"comment": comment})
    mail_members(grant, "report_returned", kind=lambda locale: kind_in(report.kind, locale), comment=comment)
    return report


def kind_in(kind: str, locale: str) -> str:
    from flask_babel import force_locale

    with force_locale(locale):
        return kind_label(kind)


def _mail_officers(grant: Grant, report: Report) -> None:
    officers = db.session.scalars(
        select(User).where(User.role == Role.OFFICER, User.active.is_(True)).order_by(User.id)
    ).all()
    project = grant.project
    for person in officers:
        queue_mail(person.email, person.locale, "report_submitted", name=person.name, title=project.title,
                   reference=project.reference, association=project.association.display_name,
                   kind=kind_in(report.kind, person.locale), url=grant_url(grant))
