"""Report pages: the association files progress and final reports; officers accept or return them.

The report form is sent once: sent again, it says "already recorded" with a link to the report
(:func:`codev.grants.ledger.views.sent_again`).
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime
from sqlalchemy.orm import selectinload

from codev.accounts.models import Role
from codev.core.i18n import gettext as _
from codev.core.money import format_xof
from codev.core.numbers import parse_id
from codev.core.params import paginate
from codev.core.permissions import current_person, roles
from codev.core.storage import download
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db
from codev.grants import bp
from codev.grants.access import get_grant_or_404
from codev.grants.award.forms import refusals_beside
from codev.grants.common import keyed_record
from codev.grants.ledger.views import (
    MINISTRY,
    VIEWERS,
    AlreadyRecorded,
    _grants_with_projects,
    _names,
    already_recorded,
    sent_again,
)
from codev.grants.models import Grant, Report
from codev.grants.money_forms import CommentForm, ReportForm, expenses_data
from codev.grants.reports import services as reports

FIELDS = ("kind", "period_start", "period_end", "narrative", "progress_pct", "expenses", "files")
FORM_LEVEL = ("expenses", "idempotency_key")  # errors shown above the form


def _lines(grant: Grant) -> dict:
    return {line.id: line for line in grant.project.budget_lines}


def render_new(grant: Grant, form: ReportForm, status: int = 200):
    lines = _lines(grant)
    for entry in form.expenses.entries:  # each amount is labelled with its budget line
        line = lines.get(parse_id(entry.form.line_id.data))  # "²".isdigit(), yet int("²") fails
        if line is not None:
            entry.form.amount.label.text = _("%(line)s (budgeted: %(amount)s)", line=line.description,
                                             amount=format_xof(line.amount_xof))
    form.fresh_key()
    return render_template("grants/report_new.html", grant=grant, form=form), status


def what_was_filed(grant: Grant, report: Report) -> AlreadyRecorded:
    """A report form's first sending, in words, with a link to the report."""
    return AlreadyRecorded(
        _("%(kind)s for the period from %(start)s to %(end)s, filed on %(date)s. Its state: %(state)s.",
          kind=reports.kind_label(report.kind), start=format_date(report.period_start, "long"),
          end=format_date(report.period_end, "long"), date=format_datetime(report.submitted_at, "medium"),
          state=reports.status_label(report.status)),
        url_for("grants.report", grant_id=grant.id, report_id=report.id),
        _("See the report"))


def report_sent_before(grant: Grant, key: str | None) -> AlreadyRecorded | None:
    """The "already recorded" of a report form whose key was used on this grant (for :func:`sent_again`)."""
    report = keyed_record(Report, grant, key)
    return what_was_filed(grant, report) if report is not None else None


@bp.route("/grants/<int:grant_id>/reports/new", methods=["GET", "POST"])
@roles(Role.ASSOCIATION)
def report_new(grant_id: int):
    """The association files a progress or final report (once per form: see :func:`sent_again`)."""
    grant = get_grant_or_404(grant_id, current_person())
    if again := sent_again(grant, report_sent_before):
        return again
    if not reports.can_file(current_person(), grant):
        abort(404)
    if request.method == "GET":
        kind = request.args.get("kind", "progress")
        form = ReportForm(formdata=None, kind=kind if kind in ("progress", "final") else "progress",
                          period_end=utcnow().date(), expenses=expenses_data(grant.project))
        return render_new(grant, form)
    form = ReportForm()
    if not form.validate_on_submit():
        return render_new(grant, form, 400)
    with unit_of_work(form) as work, refusals_beside("files", shown=FIELDS, above=FORM_LEVEL):
        done = reports.file_report_from_form(
            grant, current_person(), kind=form.kind.data, period_start=form.period_start.data,
            period_end=form.period_end.data, narrative=form.narrative.data, progress_pct=form.progress_pct.data,
            expenses=form.expense_amounts(), files=form.files.data or [],
            idempotency_key=form.idempotency_key.data or "")
        if not done.duplicate:
            work.success = _("Your report is filed; the ministry will read it.")
    if not work:
        return render_new(grant, form, 400)
    if done.duplicate:  # sent twice at once: the other sending filed it while this one waited
        return already_recorded(grant, what_was_filed(grant, done.record))
    return redirect(url_for("grants.detail", grant_id=grant.id) + "#money")


def _report_or_404(grant: Grant, report_id: int) -> Report:
    report = db.session.get(Report, report_id, options=[selectinload(Report.attachments)])
    if report is None or report.grant_id != grant.id:
        abort(404)
    return report


def render_report(grant: Grant, report_id: int, form: CommentForm | None = None, status: int = 200):
    report = _report_or_404(grant, report_id)
    lines = _lines(grant)
    return render_template(
        "grants/report_detail.html", grant=grant, report=report, lines=lines,
        names=_names({report.submitted_by_id, report.reviewed_by_id} - {None}),
        expenses_total=sum(e["amount_xof"] for e in report.expenses or []),
        can_review=reports.can_review(current_person()) and report.status == "submitted",
        form=form or CommentForm(formdata=None), kind_label=reports.kind_label,
        status_label=reports.status_label,
    ), status


@bp.route("/grants/<int:grant_id>/reports/<int:report_id>")
@roles(*VIEWERS)
def report(grant_id: int, report_id: int):
    """A report: narrative, period, progress, expenses per budget line, files, the officer's reading."""
    return render_report(get_grant_or_404(grant_id, current_person()), report_id)


@bp.route("/grants/<int:grant_id>/reports/<int:report_id>/files/<int:file_id>")
@roles(*VIEWERS)
def report_file(grant_id: int, report_id: int, file_id: int):
    """Download a photo or document of a report."""
    report = _report_or_404(get_grant_or_404(grant_id, current_person()), report_id)
    link = next((a for a in report.attachments if a.id == file_id), None)
    if link is None:
        abort(404)
    return download(link.file)


@bp.route("/grants/<int:grant_id>/reports/<int:report_id>/accept", methods=["POST"])
@roles(Role.OFFICER)
def report_accept(grant_id: int, report_id: int):
    """An officer accepts a report: the tranches that waited for it can be paid."""
    grant = get_grant_or_404(grant_id, current_person())
    _report_or_404(grant, report_id)
    with unit_of_work(success=_("The report is accepted; the association has been told.")) as work:
        reports.accept_report(grant, report_id, current_person())
    if work:
        return redirect(url_for("grants.detail", grant_id=grant.id) + "#money")
    return redirect(url_for("grants.report", grant_id=grant.id, report_id=report_id))


@bp.route("/grants/<int:grant_id>/reports/<int:report_id>/return", methods=["POST"])
@roles(Role.OFFICER)
def report_return(grant_id: int, report_id: int):
    """An officer returns a report with what to change; the association files a new one."""
    grant = get_grant_or_404(grant_id, current_person())
    _report_or_404(grant, report_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return render_report(grant, report_id, form, 400)
    with unit_of_work(success=_("The report is returned; the association has been told what to change.")) as work:
        reports.return_report(grant, report_id, current_person(), form.comment.data)
    if work:
        return redirect(url_for("grants.detail", grant_id=grant.id) + "#money")
    return redirect(url_for("grants.report", grant_id=grant.id, report_id=report_id))


@bp.route("/grants/reports/to-read")
@roles(*MINISTRY)
def reports_to_read():
    """Reports waiting for an officer's reading, oldest first."""
    page = paginate(reports.to_read_query())
    grants = _grants_with_projects({r.grant_id for r in page.items})
    return render_template("grants/reports_to_read.html", page=page, grants=grants, kind_label=reports.kind_label)

