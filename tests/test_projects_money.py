"""Money in the budget and the financing plan: exact conversions, integers only, bad input refused in words."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from codev.calls.models import ExchangeRate
from codev.core.timeutil import utcnow
from codev.projects.models import BudgetLine, FinancingLine, Project
from codev.projects.reading import plan_summary
from tests.factories_projects import budget_form, financing_form, ready_project


def english(user):
    user.locale = "en"
    return user


def squash(value: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]", "", value)


@pytest.fixture
def project(db, users, login_as):
    member = login_as(english(users["association"]))
    project = ready_project(member)
    db.session.commit()
    return project


def post_financing(client, project, lines, grant="4 000 000"):
    return client.post(f"/projects/{project.id}/financing", data=financing_form(lines, grant, project.version))


def reload(db, project):
    db.session.expire_all()
    return db.session.get(Project, project.id)


def test_euros_convert_exactly_to_the_franc(client, db, project):
    response = post_financing(client, project, [("association_cash", "EUR", "1 000,00"),
                                                ("association_in_kind", "XOF", "1 000 000")])
    assert response.status_code == 302
    line = reload(db, project).financing_lines[0]
    assert (line.currency, line.amount_minor, line.rate_millionths, line.amount_xof) == ("EUR", 100_000, 655_957_000,
                                                                                         655_957)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "€1,000.00" in page and squash("655,957 F CFA") in squash(page)


def test_cents_round_half_up_to_the_franc(client, db, project):
    post_financing(client, project, [("association_cash", "EUR", "0,01"), ("community", "EUR", "1234.5")])
    cash, community = reload(db, project).financing_lines
    assert cash.amount_xof == 7  # 6.55957 → 7
    assert community.amount_xof == 809_779  # 1 234,50 × 655,957 = 809 778,9…


def test_money_columns_hold_integers_never_floats(client, db, project):
    post_financing(client, project, [("association_cash", "EUR", "6 097,96")])
    row = db.session.execute(text("SELECT amount_minor, rate_millionths, amount_xof FROM financing_lines")).one()
    assert all(type(value) is int for value in row)
    budget = db.session.execute(text("SELECT quantity, unit_cost_xof, amount_xof FROM budget_lines")).first()
    assert all(type(value) is int for value in budget)
    summary = plan_summary(reload(db, project))
    assert all(type(row.amount_xof) is int and type(row.share_bps) is int for row in summary["rows"])


def test_other_currencies_need_a_rate_recorded_by_an_officer(client, db, project, users):
    response = post_financing(client, project, [("association_cash", "USD", "1 000")])
    assert response.status_code == 400
    assert "No exchange rate for USD" in response.get_data(as_text=True)
    db.session.add(ExchangeRate(currency="USD", rate_millionths=605_500_000,
                                valid_from=(utcnow() - timedelta(days=2)).date()))
    db.session.commit()
    post_financing(client, project, [("association_cash", "USD", "1 000")])
    line = reload(db, project).financing_lines[0]
    assert (line.amount_minor, line.rate_millionths, line.amount_xof) == (100_000, 605_500_000, 605_500)


@pytest.mark.parametrize(("typed", "message"), [
    ("-5000", "The amount cannot be negative."),
    ("0", "The amount must be greater than zero."),
    ("2000000000000000", "This amount is too large."),
    ("2500,5", "Francs CFA have no cents"),
    ("deux mille", "Enter the amount in digits only"),
])
def test_bad_xof_amounts_are_refused_in_words(client, db, project, typed, message):
    before = [(line.unit_cost_xof, line.amount_xof) for line in project.budget_lines]
    response = client.post(f"/projects/{project.id}/budget", data=budget_form(
        [("works", "Forage", "1", typed)], project.version))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page
    assert f'value="{typed}"' in page  # what was typed comes back to be corrected
    response = post_financing(client, project, [("community", "XOF", typed)], grant=typed)
    assert response.status_code == 400 and page.count(message) >= 1
    assert response.get_data(as_text=True).count(message) >= 2  # the line and the grant
    project = reload(db, project)
    assert [(line.unit_cost_xof, line.amount_xof) for line in project.budget_lines] == before
    assert project.requested_grant_xof == 4_000_000


@pytest.mark.parametrize(("typed", "message"), [
    ("-10", "The amount cannot be negative."),
    ("0,00", "The amount must be greater than zero."),
    ("10,1234", "Enter the amount in digits, with at most two decimals."),  # "10,123" is 10 123 in English
    ("mille", "Enter the amount in digits, with at most two decimals."),
    ("20000000000000000", "This amount is too large."),
])
def test_bad_foreign_amounts_are_refused_in_words(client, db, project, typed, message):
    response = post_financing(client, project, [("association_cash", "EUR", typed)])
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert len(reload(db, project).financing_lines) == 4


@pytest.mark.parametrize(("quantity", "message"), [
    ("0", "Enter a number between 1 and 1000000000."),
    ("-3", "Enter a whole number, in digits."),
    ("1,5", "Enter a whole number, in digits."),
    ("beaucoup", "Enter a whole number, in digits."),
])
def test_bad_quantities_are_refused(client, db, project, quantity, message):
    response = client.post(f"/projects/{project.id}/budget", data=budget_form(
        [("works", "Forage", quantity, "1 000")], project.version))
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_a_line_whose_amount_overflows_is_refused(client, db, project):
    response = client.post(f"/projects/{project.id}/budget", data=budget_form(
        [("works", "Forage", "1000000", "1000000000000")], project.version))
    assert response.status_code == 400 and "This line&#39;s amount is too large." in response.get_data(as_text=True)


def test_budget_lines_are_quantity_times_unit_cost(client, db, project):
    response = client.post(f"/projects/{project.id}/budget", data=budget_form(
        [("works", "Latrines", "4", "1.250.000"), ("training", "Sensibilisation", "12", "25 000")], project.version))
    assert response.status_code == 302
    lines = reload(db, project).budget_lines
    assert [(line.quantity, line.unit_cost_xof, line.amount_xof) for line in lines] == [
        (4, 1_250_000, 5_000_000), (12, 25_000, 300_000)]


def test_two_hundred_budget_lines_are_accepted_and_201_refused(client, db, project):
    lines = [("supplies", f"Article {i}", "1", "1 000") for i in range(200)]
    assert client.post(f"/projects/{project.id}/budget", data=budget_form(lines, project.version)).status_code == 302
    project = reload(db, project)
    assert len(project.budget_lines) == 200
    lines.append(("supplies", "Article de trop", "1", "1 000"))
    response = client.post(f"/projects/{project.id}/budget", data=budget_form(lines, project.version))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "A budget has at most 200 lines: group similar costs into one line." in page
    assert "Article de trop" in page
    assert db.session.query(BudgetLine).count() == 200


def test_removed_and_empty_lines_are_ignored(client, db, project):
    data = budget_form([("works", "Forage", "1", "9 000 000"), ("works", "Ancienne ligne", "1", "5"),
                        ("works", "", "", "")], project.version)
    data["lines-1-remove"] = "y"
    assert client.post(f"/projects/{project.id}/budget", data=data).status_code == 302
    assert [line.description for line in reload(db, project).budget_lines] == ["Forage"]


def test_add_lines_shows_more_rows_without_saving(client, db, project):
    data = budget_form([("works", "Forage tapé", "1", "100")], project.version)
    data["action"] = "add"
    page = client.post(f"/projects/{project.id}/budget", data=data).get_data(as_text=True)
    assert "Forage tapé" in page and "lines-5-description" in page
    assert len(reload(db, project).budget_lines) == 2


def test_financing_page_shows_shares_maximum_and_rules(client, db, project):
    page = squash(client.get(f"/projects/{project.id}/financing").get_data(as_text=True))
    for expected in ("Grant allowed at most:", "4,500,000 F CFA", "40%", "Met:",
                     "The financing plan, 10,000,000 F CFA, matches the total budget."):
        assert squash(expected) in page, expected
    response = post_financing(client, project, [("association_cash", "XOF", "4 000 000")], grant="6 000 000")
    assert response.status_code == 302 and response.headers["Location"].endswith("/financing")
    page = squash(client.get(response.headers["Location"]).get_data(as_text=True))
    assert squash("some rules of the call are not met yet") in page
    assert squash("Not met:") in page and squash("is 5,000,000 F CFA more than 1 × your own contribution") not in page
    assert squash("is more than 1 × your own contribution of 4,000,000 F CFA") in page
    assert FinancingLine.__table__.c.amount_xof.type.python_type is int
