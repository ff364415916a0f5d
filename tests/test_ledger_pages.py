"""The money pages: declaring with a proof, the officer's decisions, who reaches what, bounded queries."""

from __future__ import annotations

import io
import uuid

import pytest

from codev.core.timeutil import utcnow
from codev.grants.disbursements.payments import record_disbursement
from codev.grants.ledger.entries import read_ledger
from codev.grants.models import ContributionEntry
from codev.grants.reports import services as reports
from tests.confirm_support import confirmed
from tests.factories import UserFactory
from tests.factories_ledger import declare, make_grant, member_of_grant, page_text, verified
from tests.factories_projects import EXE_BYTES, PDF_BYTES
from tests.sql_count import page_statements

# The navigation's menus close by themselves with it; a page's own charts need no script.
MENU_SCRIPT = '<script src="/static/js/menu.js" defer></script>'


def declaration_form(**overrides):
    data = {"source": "association_cash", "currency": "XOF", "amount": "1 250 000",
            "value_date": utcnow().date().isoformat(), "proof": (io.BytesIO(PDF_BYTES), "recu.pdf"),
            "idempotency_key": str(uuid.uuid4())}
    data.update(overrides)
    return data


def test_member_declares_with_a_proof(client, db, users, login_as):
    member = users["association"]
    grant = make_grant(member)
    login_as(member)
    response = client.post(f"/grants/{grant.id}/contributions/new", data=declaration_form(),
                           content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/grants/{grant.id}#money")
    entry = db.session.scalar(db.select(ContributionEntry))
    assert (entry.amount_xof, entry.kind, entry.created_by_id) == (1_250_000, "declared", member.id)
    page = page_text(client.get(f"/grants/{grant.id}"))
    assert "1 250 000" in page and f"/grants/{grant.id}/contributions/{entry.id}" in page


@pytest.mark.parametrize("overrides", [
    {"amount": "12,5"},
    {"value_date": "2999-01-01"},
    {"proof": (EXE_BYTES, "recu.pdf")},  # bytes: a file object made here would be read (and closed) once
    {"currency": "CAD", "amount": "100"},  # no CAD rate recorded
])
def test_refused_declaration_keeps_the_form(client, db, users, login_as, overrides):
    member = users["association"]
    grant = make_grant(member)
    login_as(member)
    overrides = {name: (io.BytesIO(value[0]), value[1]) if isinstance(value, tuple) else value
                 for name, value in overrides.items()}  # a fresh file for each engine the test runs on
    response = client.post(f"/grants/{grant.id}/contributions/new", data=declaration_form(**overrides),
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(ContributionEntry.id))) == 0


def test_officer_verifies_rejects_and_reverses(client, db, users, login_as):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member)
    one, two = declare(grant, member, 1_000_000), declare(grant, member, 2_000_000)
    db.session.commit()
    login_as(officer)
    page = client.get(f"/grants/{grant.id}").get_data(as_text=True)
    assert f"/grants/{grant.id}/contributions/{one.id}/verify" in page
    assert client.post(f"/grants/{grant.id}/contributions/{one.id}/verify").status_code == 302
    assert client.post(f"/grants/{grant.id}/contributions/{two.id}/reject",
                       data=confirmed({"reject-reason": ""})).status_code == 400
    assert client.post(f"/grants/{grant.id}/contributions/{two.id}/reject",
                       data=confirmed({"reject-reason": "Reçu illisible"})).status_code == 302
    assert client.post(f"/grants/{grant.id}/contributions/{one.id}/reverse",
                       data=confirmed({"reverse-reason": "Chèque sans provision"})).status_code == 302
    db.session.expire_all()
    book = read_ledger(db.session.scalars(db.select(ContributionEntry)).all(), grant.in_kind_counts_bps)
    assert book.states == {one.id: "reversed", two.id: "rejected"}
    entry_page = client.get(f"/grants/{grant.id}/contributions/{two.id}").get_data(as_text=True)
    assert "Reçu illisible" in entry_page
    login_as(member)  # members do not decide
    assert client.post(f"/grants/{grant.id}/contributions/{one.id}/verify").status_code == 403


def test_money_partial_for_each_role(client, db, users, login_as):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=10_000_000)
    verified(grant, member, officer, 1_200_000)
    db.session.commit()
    login_as(member)
    page = page_text(client.get(f"/grants/{grant.id}"))
    assert "<svg" in page and 'class="bar-in"' in page and "<script" not in page.replace(MENU_SCRIPT, "")
    assert f"/grants/{grant.id}/contributions/new" in page and f"/grants/{grant.id}/reports/new" in page
    assert "1 200 000" in page and "4 000 000" in page  # verified of required for the first tranche
    assert "/disbursements/new" not in page
    login_as(officer)
    page = page_text(client.get(f"/grants/{grant.id}"))
    assert f'action="/grants/{grant.id}/disbursements/new"' in page and 'name="idempotency_key"' in page
    assert f"/grants/{grant.id}/contributions/new" not in page
    assert client.get(f"/grants/{grant.id}/ledger").status_code == 200


def test_money_pages_and_proofs_only_for_the_association_and_the_ministry(client, db, users, login_as):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member)
    entry = verified(grant, member, officer, 1_000_000)
    db.session.commit()
    urls = [f"/grants/{grant.id}/ledger", f"/grants/{grant.id}/contributions/{entry.id}",
            f"/grants/{grant.id}/contributions/{entry.id}/proof"]
    for url in urls:
        client.delete_cookie("session", domain="localhost")
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    for outsider in (UserFactory(member=True), users["evaluator"]):
        login_as(outsider)
        assert [client.get(url).status_code for url in urls] == [404, 404, 404]
        assert client.get(f"/grants/{grant.id}/contributions/new").status_code in (403, 404)
    for insider in (member_of_grant(grant), officer, users["approver"], users["admin"]):
        login_as(insider)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (insider.role, url)
            if url.endswith("/proof"):
                assert response.data == PDF_BYTES and "attachment" in response.headers["Content-Disposition"]
            response.close()


def test_officer_home_cards_and_lists(client, db, users, login_as):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member)
    declare(grant, member, 1_000)
    verified(grant, member, officer, 10_000_000)
    db.session.commit()
    login_as(officer)
    home = page_text(client.get("/"))
    assert "/grants/contributions/to-verify" in home and "/grants/tranches/due" in home
    assert f"/grants/{grant.id}/contributions/" in client.get("/grants/contributions/to-verify").get_data(
        as_text=True)
    assert f"/grants/{grant.id}#money" in client.get("/grants/tranches/due").get_data(as_text=True)
    login_as(member)
    assert f"/grants/{grant.id}#money" in client.get("/").get_data(as_text=True)


def grow(grant, member, officer, approver, n):
    """``n`` verified declarations, ``n`` small disbursements, ``n`` reports with a file each."""
    today = utcnow().date()
    for i in range(n):
        verified(grant, member, officer, 100_000 + i, source="association_cash" if i % 2 else "association_in_kind")
        record_disbursement(grant, officer, tranche_number=1, amount_xof=1_000, value_date=today,
                            bank_reference=f"VIR-{i}", idempotency_key=str(uuid.uuid4()))
        report = reports.file_report(grant, member, kind="progress", period_start=today, period_end=today,
                                     narrative="x", progress_pct=i, expenses={}, files=[])
        reports.return_report(grant, report.id, officer, "Complétez")
    declare(grant, member, 5_000)


@pytest.mark.parametrize("role", ["officer", "association"])
def test_money_pages_issue_a_bounded_number_of_queries(client, db, users, login_as, role):
    member, officer, approver = users["association"], users["officer"], users["approver"]
    small, large = make_grant(member), make_grant(member)
    grow(small, member, officer, approver, 1)
    grow(large, member, officer, approver, 12)
    db.session.commit()
    ids = {"small": small.id, "large": large.id}
    login_as(users[role])
    for page in ("/grants/{id}", "/grants/{id}/ledger", "/grants/{id}/disbursements/new"):
        if role == "association" and page.endswith("/new"):
            continue
        few = page_statements(db, client, page.format(id=ids["small"]))
        many = page_statements(db, client, page.format(id=ids["large"]))
        assert few == many, page
