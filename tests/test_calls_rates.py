"""Exchange rates: EUR fixed, others by date; conversions exact to the franc; the officers' page."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from codev.calls.models import ExchangeRate
from codev.calls.rules import rate_for, to_xof
from codev.core.models import AuditEvent
from codev.core.money import MoneyError, parse_minor


@pytest.fixture
def rates(db, users):
    for currency, rate, valid_from in [
        ("USD", 600_000_000, date(2026, 1, 1)), ("USD", 610_250_000, date(2026, 6, 1)),
        ("CAD", 420_500_000, date(2026, 1, 1)),
    ]:
        db.session.add(ExchangeRate(currency=currency, rate_millionths=rate, valid_from=valid_from))
    db.session.commit()


def test_eur_is_fixed_and_exact_to_the_franc(db):
    # 1 234,56 EUR × 655,957 = 809 818,273 92 → 809 818 F CFA (by hand: 1 234,56 × 655 = 808 636,8;
    # 1 234,56 × 0,957 = 1 181,473 92).
    assert to_xof(parse_minor("1 234,56"), "EUR", date(2026, 3, 1)) == (809_818, 655_957_000)
    assert to_xof(100, "EUR", date(1999, 1, 1)) == (656, 655_957_000)  # 655,957 rounds up
    assert to_xof(1, "EUR", date(2026, 1, 1)) == (7, 655_957_000)  # 6,559 57 → 7
    assert rate_for("eur", date(2026, 1, 1)) == 655_957_000


def test_xof_converts_to_itself(db):
    assert to_xof(250_000_000, "XOF", date(2026, 1, 1)) == (2_500_000, 1_000_000)


@pytest.mark.backends
def test_the_latest_rate_valid_on_the_date_is_used(db, rates):
    assert rate_for("USD", date(2025, 12, 31)) is None
    assert rate_for("USD", date(2026, 1, 1)) == 600_000_000
    assert rate_for("USD", date(2026, 5, 31)) == 600_000_000
    assert rate_for("USD", date(2026, 6, 1)) == 610_250_000
    assert to_xof(parse_minor("1000,50"), "USD", date(2026, 7, 1)) == (610_555, 610_250_000)  # 610 555,125
    assert to_xof(parse_minor("0,01"), "CAD", date(2026, 7, 1)) == (4, 420_500_000)  # 4,205


def test_huge_foreign_amounts_stay_exact(db):
    cents = 10**15 * 100 - 1  # 999 999 999 999 999,99 EUR
    xof, _rate = to_xof(cents, "EUR", date(2026, 1, 1))
    assert xof == 655_956_999_999_999_993  # 655 956 999 999 999 993,44…


@pytest.mark.parametrize("currency", ["GBP", "JPY", ""])
def test_missing_rate_says_so(app, db, rates, currency):
    with app.test_request_context(), force_locale("en"), pytest.raises(MoneyError) as refused:
        to_xof(100, currency, date(2026, 7, 1))
    assert "No exchange rate for" in str(refused.value)
    assert "on 2026-07-01" in str(refused.value)


@pytest.fixture
def officer(db, users, login_as):
    users["officer"].locale = "en"
    return login_as(users["officer"])


def test_rates_page_shows_eur_fixed_and_current_rates(client, db, rates, officer):
    text = client.get("/calls/rates").get_data(as_text=True)
    assert "655.957" in text and "fixed by law" in text
    assert "610.25" in text and "420.5" in text
    assert "no rate yet" in text  # GBP, CHF
    assert "Record a rate" in text
    usd_only = client.get("/calls/rates?currency=CAD").get_data(as_text=True)
    assert "420.5" in usd_only.split("History")[1] and "610.25" not in usd_only.split("History")[1]


@pytest.mark.backends
def test_officer_records_a_rate(client, db, officer):
    answer = client.post("/calls/rates", data={"currency": "GBP", "rate": "762,94", "valid_from": "2026-11-01"})
    assert answer.status_code == 302
    rate = db.session.scalars(db.select(ExchangeRate)).one()
    assert (rate.currency, rate.rate_millionths, rate.valid_from) == ("GBP", 762_940_000, date(2026, 11, 1))
    assert rate.created_by_id == officer.id
    assert db.session.scalar(db.select(AuditEvent.action).where(AuditEvent.object_type == "exchange_rates")) == (
        "exchange_rate.create"
    )


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"currency": "USD", "rate": "610,25", "valid_from": "2026-06-01"},
         "A rate for USD from 2026-06-01 already exists."),
        ({"currency": "USD", "rate": "beaucoup", "valid_from": "2026-07-01"},
         "Enter the rate as a number of francs CFA"),
        ({"currency": "USD", "rate": "0", "valid_from": "2026-07-01"}, "The rate must be greater than zero."),
        ({"currency": "USD", "rate": "610.1234567", "valid_from": "2026-07-01"}, "Enter the rate as a number"),
        ({"currency": "EUR", "rate": "650", "valid_from": "2026-07-01"}, "Not a valid choice."),
        ({"currency": "USD", "rate": "610", "valid_from": "hier"}, "Not a valid date value."),
    ],
)
def test_bad_rates_are_refused(client, db, rates, officer, form, message):
    answer = client.post("/calls/rates", data=form)
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert message in text
    assert f'value="{form["rate"]}"' in text
    assert db.session.scalar(db.select(db.func.count()).select_from(ExchangeRate)) == 3


@pytest.mark.parametrize("role", ["approver", "admin"])
def test_ministry_reads_rates_but_only_officers_record(client, db, users, login_as, role):
    login_as(users[role])
    page = client.get("/calls/rates")
    assert page.status_code == 200 and 'action="/calls/rates"' not in page.get_data(as_text=True)
    form = {"currency": "USD", "rate": "600", "valid_from": "2026-01-01"}
    assert client.post("/calls/rates", data=form).status_code == 403
    login_as(users["association"])
    assert client.get("/calls/rates").status_code == 403
