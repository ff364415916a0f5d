"""Reports: the association files them (expenses per budget line, files), an officer accepts or returns them."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest

from codev.core.timeutil import utcnow
from codev.grants.models import Report, ReportStatus
from codev.grants.reports import services as reports
from codev.grants.reports.services import ReportError
from tests.factories import UserFactory
from tests.factories_ledger import make_grant, member_of_grant, page_text
from tests.factories_projects import PDF_BYTES

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TODAY = utcnow().date()


def report_form(grant, **overrides):
    lines = grant.project.budget_lines
    data = {"kind": "progress", "period_start": (TODAY - timedelta(days=90)).isoformat(),
            "period_end": TODAY.isoformat(), "narrative": "Le forage est creusé; la pompe est posée.",
            "progress_pct": "60",
            "expenses-0-line_id": str(lines[0].id), "expenses-0-amount": "3 500 000",
            "expenses-1-line_id": str(lines[1].id), "expenses-1-amount": "", "idempotency_key": str(uuid.uuid4())}
    data.update(overrides)
    return data


def test_association_files_a_report_with_expenses_and_photos(client, db, users, login_as, outbox):
    member = users["association"]
    grant = make_grant(member)
    login_as(member)
    form = client.get(f"/grants/{grant.id}/reports/new").get_data(as_text=True)
    assert "Forage et pompe" in form and "Château d&#39;eau" in form
    data = report_form(grant, files=[(io.BytesIO(PNG), "chantier.png"), (io.BytesIO(PDF_BYTES), "factures.pdf")])
    response = client.post(f"/grants/{grant.id}/reports/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    report = db.session.scalar(db.select(Report))
    assert report.progress_pct == 60 and report.status == ReportStatus.SUBMITTED
    assert report.expenses == [{"budget_line_id": grant.project.budget_lines[0].id, "amount_xof": 3_500_000}]
    assert sorted(a.kind for a in report.attachments) == ["document", "photo"]
    assert outbox(users["officer"].email)  # officers are told
    page = page_text(client.get(f"/grants/{grant.id}/reports/{report.id}"))
    assert "3 500 000" in page and "chantier.png" in page
    photo = next(a for a in report.attachments if a.kind == "photo")
    download = client.get(f"/grants/{grant.id}/reports/{report.id}/files/{photo.id}")
    body, disposition = download.data, download.headers["Content-Disposition"]
    download.close()
    assert download.status_code == 200 and body == PNG and "attachment" in disposition


def test_refused_report_keeps_what_was_typed(client, db, users, login_as):
    grant = make_grant(users["association"])
    login_as(users["association"])
    data = report_form(grant, period_end=(TODAY + timedelta(days=5)).isoformat(), narrative="Travaux en cours")
    response = client.post(f"/grants/{grant.id}/reports/new", data=data)
    page = page_text(response)
    assert response.status_code == 400 and "Travaux en cours" in page and "3 500 000" in page
    data = report_form(grant, progress_pct="140")
    assert client.post(f"/grants/{grant.id}/reports/new", data=data).status_code == 400
    assert db.session.scalar(db.select(db.func.count(Report.id))) == 0


def test_officer_returns_then_accepts(client, db, users, login_as, outbox):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member)
    first = reports.file_report(grant, member, kind="progress", period_start=TODAY, period_end=TODAY,
                                narrative="Début", progress_pct=10, expenses={}, files=[])
    with pytest.raises(ReportError):  # one report of a kind being read at a time
        reports.file_report(grant, member, kind="progress", period_start=TODAY, period_end=TODAY,
                            narrative="Encore", progress_pct=10, expenses={}, files=[])
    db.session.commit()
    login_as(officer)
    assert client.post(f"/grants/{grant.id}/reports/{first.id}/return", data={"comment": ""}).status_code == 400
    response = client.post(f"/grants/{grant.id}/reports/{first.id}/return",
                           data={"comment": "Ajoutez les factures du foreur."})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Report, first.id).status == ReportStatus.RETURNED
    second = reports.file_report(grant, member, kind="progress", period_start=TODAY, period_end=TODAY,
                                 narrative="Avec factures", progress_pct=30, expenses={}, files=[])
    db.session.commit()
    assert client.post(f"/grants/{grant.id}/reports/{second.id}/accept").status_code == 302
    db.session.expire_all()
    assert db.session.get(Report, second.id).status == ReportStatus.ACCEPTED
    assert client.post(f"/grants/{grant.id}/reports/{second.id}/accept", follow_redirects=True).status_code == 200
    assert len(outbox(member.email)) == 2  # returned, accepted


def test_report_rules(db, users):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member)
    base = dict(period_start=TODAY, period_end=TODAY, narrative="x", progress_pct=100, files=[])
    with pytest.raises(ReportError) as refused:
        reports.file_report(grant, member, kind="final", expenses={999_999: 5}, **base)
    assert refused.value.field == "expenses"
    with pytest.raises(ReportError):
        reports.file_report(grant, officer, kind="final", expenses={}, **base)
    final = reports.file_report(grant, member, kind="final", expenses={}, **base)
    with pytest.raises(ReportError):
        reports.accept_report(grant, final.id, member)
    reports.accept_report(grant, final.id, officer)
    with pytest.raises(ReportError):  # the final report is accepted once
        reports.file_report(grant, member, kind="final", expenses={}, **base)


def test_report_pages_only_for_the_association_and_the_ministry(client, db, users, login_as):
    member = users["association"]
    grant = make_grant(member)
    report = reports.file_report(grant, member, kind="progress", period_start=TODAY, period_end=TODAY,
                                 narrative="x", progress_pct=5, expenses={}, files=[])
    db.session.commit()
    url = f"/grants/{grant.id}/reports/{report.id}"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for outsider in (UserFactory(member=True), users["evaluator"]):
        login_as(outsider)
        assert client.get(url).status_code == 404
        assert client.get(f"/grants/{grant.id}/reports/new").status_code in (403, 404)
    for insider in (member_of_grant(grant), users["officer"], users["approver"], users["admin"]):
        login_as(insider)
        assert client.get(url).status_code == 200
    login_as(users["officer"])
    page = client.get("/grants/reports/to-read").get_data(as_text=True)
    assert url in page


def test_the_grant_page_issues_as_many_statements_with_reports_and_their_files_as_without(client, db, users,
                                                                                         login_as):
    from tests.sql_count import page_statements

    member = users["association"]
    grant = make_grant(member)
    login_as(member)
    data = report_form(grant, files=[(io.BytesIO(PNG), "chantier.png"), (io.BytesIO(PDF_BYTES), "factures.pdf")])
    url = f"/grants/{grant.id}"
    without = page_statements(db, client, url)
    assert client.post(f"{url}/reports/new", data=data, content_type="multipart/form-data").status_code == 302
    report = db.session.scalar(db.select(Report))
    assert len(report.attachments) == 2  # the files are there, and the grant page does not read them
    report_url = f"{url}/reports/{report.id}"
    assert page_statements(db, client, url) == without
    assert report_url in client.get(url).text  # the page lists the report
