"""The grants pages through the one unit of work: a refusal is said where the person reads it (beside its
field, above the form, or in a flash) and changes nothing; the batch jobs commit grant by grant."""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta

import pytest

from codev.calls.models import Call
from codev.core.models import AuditEvent
from codev.core.timeutil import utcnow
from codev.grants.disbursements.payments import record_disbursement
from codev.grants.life import reminders
from codev.grants.models import ContributionEntry, Disbursement, Grant, GrantStatus, Report
from tests.confirm_support import confirmed
from tests.factories import CallFactory
from tests.factories_grants import approved_project, approver
from tests.factories_ledger import declare, make_grant, page_text, verified
from tests.factories_projects import EXE_BYTES
from tests.test_ledger_pages import declaration_form
from tests.test_reports import report_form
from tests.two_factor_support import step_up

TODAY = utcnow().date()
PAST = TODAY - timedelta(days=1)


def error_beside(response, field: str) -> str:
    """The error paragraph the form macro writes under ``field`` ('' when there is none)."""
    found = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page_text(response), re.S)
    return found.group(1) if found else ""


def status_of(db, grant_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Grant, grant_id).status


def test_a_refused_approval_is_said_beside_the_amount_and_keeps_the_typed_values(client, db, login_as):
    project = approved_project(call=CallFactory(open=True, envelope_xof=5_000_000, committed_xof=2_000_000))
    by = login_as(approver())
    response = client.post(f"/grants/approve/{project.id}", data=step_up(by, confirmed({
        "amount": "4 000 000", "signatory_name": "Essi Lawson", "signatory_title": "Ordonnatrice"})))
    assert response.status_code == 400
    assert "3 000 000" in error_beside(response, "amount")
    assert 'value="4 000 000"' in response.text and 'value="Ordonnatrice"' in response.text
    assert db.session.scalar(db.select(db.func.count(Grant.id))) == 0
    assert db.session.get(Call, project.call_id).committed_xof == 2_000_000


def test_a_refused_proof_is_said_beside_it_and_an_expired_form_above_the_form(client, db, users, login_as):
    member = users["association"]
    grant = make_grant(member)
    login_as(member)
    url = f"/grants/{grant.id}/contributions/new"
    refused = client.post(url, data=declaration_form(proof=(io.BytesIO(EXE_BYTES), "recu.pdf")),
                          content_type="multipart/form-data")
    assert refused.status_code == 400 and error_beside(refused, "proof")
    assert 'value="1 250 000"' in refused.text
    expired = client.post(url, data=declaration_form(idempotency_key="not-a-key"), content_type="multipart/form-data")
    text = page_text(expired)
    assert expired.status_code == 400
    assert re.search(r'role="alert">\s*<p>Ce formulaire a expiré : rechargez la page', text)
    assert not error_beside(expired, "proof") and not error_beside(expired, "idempotency_key")
    assert db.session.scalar(db.select(db.func.count(ContributionEntry.id))) == 0


def test_a_second_report_of_a_kind_is_refused_beside_the_kind(client, db, users, login_as):
    grant = make_grant(users["association"])
    login_as(users["association"])
    assert client.post(f"/grants/{grant.id}/reports/new", data=report_form(grant)).status_code == 302
    again = client.post(f"/grants/{grant.id}/reports/new", data=report_form(grant, narrative="Encore"))
    assert again.status_code == 400 and "attend déjà" in error_beside(again, "kind")
    assert "Encore" in page_text(again)
    assert db.session.scalar(db.select(db.func.count(Report.id))) == 1


def test_a_disbursement_beyond_the_tranche_is_refused_beside_the_amount(client, db, users, login_as):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=10_000_000)
    verified(grant, member, officer, 10_000_000)
    login_as(officer)
    response = client.post(f"/grants/{grant.id}/disbursements/new", data=confirmed({
        "tranche": "1", "amount": "9 000 000", "value_date": TODAY.isoformat(), "bank_reference": "VIR-1",
        "idempotency_key": str(uuid.uuid4())}))
    assert response.status_code == 400 and error_beside(response, "amount")
    assert 'value="VIR-1"' in response.text
    assert db.session.scalar(db.select(db.func.count(Disbursement.id))) == 0


def test_a_refused_decision_is_flashed_on_the_declaration_page(client, db, users, login_as):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member)
    entry = declare(grant, member, 1_000_000)
    login_as(officer)
    url = f"/grants/{grant.id}/contributions/{entry.id}"
    assert client.post(f"{url}/verify").status_code == 302
    again = client.post(f"{url}/reject", data=confirmed({"reject-reason": "Reçu illisible"}))
    assert again.status_code == 302 and again.headers["Location"].endswith(url)
    page = page_text(client.get(url))
    assert "Cette déclaration a déjà fait l&#39;objet d&#39;une décision." in page and "Reçu illisible" not in page


def test_the_lapse_button_is_one_unit_of_work(client, db, users, login_as):
    """The button lapses all the grants or, when one is refused, none, and says why."""
    good = make_grant(users["association"], amount=1_000_000, deadline=PAST)
    bad = make_grant(users["association"], amount=2_000_000, deadline=PAST)
    bad.call.committed_xof = 1_000_000  # inconsistent data: the guarded UPDATE matches no row
    login_as(users["officer"])
    response = client.post("/grants/close-lapsed", data=confirmed(), follow_redirects=True)
    assert response.status_code == 200 and "ne contient pas le montant de cette subvention" in page_text(response)
    assert {status_of(db, good.id), status_of(db, bad.id)} == {GrantStatus.AWARDED}


@pytest.mark.backends
def test_the_lapse_command_commits_grant_by_grant(runner, db, users, outbox, backend):
    """A grant refused leaves the others lapsed (before and after it); a second run changes nothing more."""
    member = users["association"]
    calls = [CallFactory(open=True, committed_xof=0) for _ in range(3)]
    first, refused, last = (make_grant(member, amount=1_000_000, deadline=PAST, call=call) for call in calls)
    calls[1].committed_xof = 500_000  # the envelope does not hold the refused grant's money
    db.session.commit()
    result = runner.invoke(args=["close-lapsed"])
    assert result.exit_code == 1
    assert f"grant {first.id} lapsed" in result.output and f"grant {last.id} lapsed" in result.output
    assert f"grant {refused.id} not lapsed" in result.output and "2 grants lapsed" in result.output
    assert [status_of(db, g.id) for g in (first, refused, last)] == [
        GrantStatus.LAPSED, GrantStatus.AWARDED, GrantStatus.LAPSED]
    assert [db.session.get(Call, c.id).committed_xof for c in calls] == [0, 500_000, 0]
    mails = len(outbox(member.email))
    again = runner.invoke(args=["close-lapsed"])
    assert again.exit_code == 1 and "0 grants lapsed" in again.output
    assert len(outbox(member.email)) == mails
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id))
                             .where(AuditEvent.action == "grant.lapsed")) == 2


def test_the_reminders_command_commits_grant_by_grant(runner, db, users, outbox, monkeypatch):
    """A run stopped midway keeps the reminders already sent; the next run sends only the others."""
    member = users["association"]
    sent_first, stopped = (make_grant(member, amount=amount, deadline=TODAY + timedelta(days=20))
                           for amount in (4_000_000, 3_000_000))
    db.session.commit()
    mail = reminders.mail_members

    def failing(grant, template, **context):
        if grant.id == stopped.id:
            raise RuntimeError("the mail queue is down")
        mail(grant, template, **context)

    monkeypatch.setattr(reminders, "mail_members", failing)
    assert runner.invoke(args=["send-reminders"]).exit_code != 0
    db.session.rollback()  # what the ended process leaves: the grant being reminded is not
    monkeypatch.setattr(reminders, "mail_members", mail)
    keys = db.select(AuditEvent.object_id).where(AuditEvent.action == "grant.reminder")
    assert db.session.scalars(keys).all() == [sent_first.id]
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0 and result.output.startswith("1 reminder queued")
    assert sorted(db.session.scalars(keys).all()) == sorted([sent_first.id, stopped.id])
    assert len(outbox(member.email)) == 2
    assert runner.invoke(args=["send-reminders"]).output.startswith("0 reminders queued")


def test_the_disbursement_service_refusal_is_a_domain_error(db, users):
    from codev.core.unit_of_work import DomainError

    grant = make_grant(users["association"])
    with pytest.raises(DomainError) as refused:
        record_disbursement(grant, users["officer"], tranche_number=1, amount_xof=1, value_date=TODAY,
                            bank_reference="", idempotency_key=str(uuid.uuid4()))
    assert refused.value.field == "bank_reference"
