"""The ministry's exports: who may download them, CSV and XLSX that hold exactly the filtered rows with sums
equal to plain SQL, headers in the reader's language, cells that never run as formulas."""

from __future__ import annotations

import csv
import io
import re
from itertools import zip_longest

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.factories_oversight import seed_programme
from tests.sql_count import page_statements

DATASETS = ("projects", "evaluations", "grants", "ledger", "disbursements")


@pytest.fixture
def programme(db):
    return seed_programme()


def read_csv(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))


def read_xlsx(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip_longest(rows[0], row)) for row in rows[1:]]  # read-only rows stop at their last value


def sql_rows(db, dataset: str, where: str = "1 = 1", **params) -> int:
    """How many rows each export should hold, counted in plain SQL (p: the row's project)."""
    sources = {
        "projects": "projects p",
        "evaluations": "assignments a JOIN projects p ON p.id = a.project_id",
        "grants": "grants g JOIN projects p ON p.id = g.project_id",
        "ledger": "contribution_entries e JOIN grants g ON g.id = e.grant_id JOIN projects p ON p.id = g.project_id",
        "disbursements": "disbursements d JOIN grants g ON g.id = d.grant_id JOIN projects p ON p.id = g.project_id",
    }
    return db.session.execute(text(f"SELECT COUNT(*) FROM {sources[dataset]} WHERE {where}"), params).scalar()


@pytest.mark.parametrize("who", ["anonymous", "association", "evaluator"])
def test_exports_are_for_the_ministry(client, users, login_as, who):
    if who != "anonymous":
        login_as(users[who])
    for url in ("/oversight/exports", "/oversight/exports/grants.csv", "/oversight/exports/grants.xlsx"):
        response = client.get(url)
        assert response.status_code == (302 if who == "anonymous" else 403), url


@pytest.mark.parametrize("role", ["officer", "approver", "admin"])
def test_the_ministry_sees_the_exports_with_their_row_counts(client, db, users, login_as, programme, role):
    login_as(users[role])
    page = client.get("/oversight/exports").get_data(as_text=True)
    assert "Registre des contreparties" in page and 'href="/oversight/exports/ledger.xlsx"' in page
    assert re.search(rf'<td class="num"[^>]*>{sql_rows(db, "ledger")}</td>', page)


@pytest.mark.backends
@pytest.mark.parametrize("dataset", DATASETS)
def test_every_export_holds_exactly_the_filtered_rows(client, db, users, login_as, programme, dataset, backend):
    login_as(users["officer"])
    call_b = programme["calls"]["B"].id
    cases = [
        ({}, "1 = 1", {}),
        ({"region": "TG-P"}, "p.region = 'TG-P'", {}),
        ({"call": str(call_b)}, "p.call_id = :call", {"call": call_b}),
        ({"sector": "water", "status": "funded"}, "p.sector = 'water' AND p.status = 'funded'", {}),
    ]
    for args, where, params in cases:
        want = sql_rows(db, dataset, where, **params)
        as_csv = read_csv(client.get(f"/oversight/exports/{dataset}.csv", query_string=args))
        as_xlsx = read_xlsx(client.get(f"/oversight/exports/{dataset}.xlsx", query_string=args))
        assert len(as_csv) == len(as_xlsx) == want, (dataset, args)


def test_grant_and_money_exports_add_up_to_plain_sql(client, db, users, login_as, programme):
    login_as(users["officer"])
    grants = read_xlsx(client.get("/oversight/exports/grants.xlsx", query_string={"year": "2026"}))
    committed = db.session.execute(text(
        "SELECT SUM(amount_xof - released_xof) FROM grants WHERE approved_at >= '2026-01-01 00:00:00+00' "
        "AND approved_at < '2027-01-01 00:00:00+00'")).scalar()
    assert sum(r["Fonds de l'État engagés (XOF)"] for r in grants) == committed
    assert all(isinstance(r["Subvention attribuée (XOF)"], int) for r in grants)  # money stays a number
    paid = read_csv(client.get("/oversight/exports/disbursements.csv"))
    assert sum(int(r["Montant (XOF)"]) for r in paid) == db.session.execute(
        text("SELECT SUM(amount_xof) FROM disbursements")).scalar()
    ledger = read_csv(client.get("/oversight/exports/ledger.csv", query_string={"year": "2025"}))
    assert len(ledger) == db.session.execute(text(
        "SELECT COUNT(*) FROM contribution_entries WHERE value_date >= '2025-01-01' AND value_date < '2026-01-01'"
    )).scalar()


def test_headers_follow_the_persons_language(client, db, users, login_as, programme):
    officer = users["officer"]
    officer.locale = "en"
    login_as(officer)
    english = read_csv(client.get("/oversight/exports/grants.csv"))
    assert "State money committed (XOF)" in english[0]
    officer.locale = "fr"
    login_as(officer)
    french = read_xlsx(client.get("/oversight/exports/grants.xlsx"))
    assert "Fonds de l'État engagés (XOF)" in french[0]


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1", "\r=1"]


def test_a_formula_looking_cell_comes_out_inert(client, db, users, login_as, programme):
    from codev.grants.models import Disbursement

    grant = programme["grants"][1]
    grant.project.title = FORMULAS[0]
    for number, formula in enumerate(FORMULAS):
        db.session.add(Disbursement(
            grant_id=grant.id, tranche_number=1, amount_xof=1, value_date=grant.approved_at.date(),
            bank_reference=formula, idempotency_key=f"formula-{number}", recorded_by_id=programme["officer"].id))
    db.session.commit()
    login_as(users["officer"])
    for fmt, read in (("csv", read_csv), ("xlsx", read_xlsx)):
        rows = read(client.get(f"/oversight/exports/disbursements.{fmt}"))
        references = [r["Référence bancaire"] for r in rows if r["Projet"] == "'" + FORMULAS[0]]
        assert len(references) == len(FORMULAS) and all(ref.startswith("'") for ref in references), fmt
        assert {ref[1:].replace("\n", "\r") for ref in references} == set(FORMULAS), fmt  # XML reads \\r as \\n
    response = client.get("/oversight/exports/projects.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row if str(cell.value).endswith(FORMULAS[0])]
    assert cells and all(cell.data_type == "s" and cell.value.startswith("'") for cell in cells)
    register = client.get("/register.csv").get_data(as_text=True)
    assert "'" + FORMULAS[0].replace('"', '""') in register


def test_unknown_exports_are_not_found(client, users, login_as):
    login_as(users["officer"])
    assert client.get("/oversight/exports/users.csv").status_code == 404
    assert client.get("/oversight/exports/grants.pdf").status_code == 404


def test_exports_issue_a_bounded_number_of_statements(client, db, users, login_as):
    from tests.factories_oversight import SPECS

    seed_programme(SPECS[:1])
    login_as(users["officer"])
    urls = ["/oversight/exports", *(f"/oversight/exports/{d}.{f}" for d in DATASETS for f in ("csv", "xlsx"))]
    few = {url: page_statements(db, client, url) for url in urls}
    seed_programme(SPECS * 3)
    many = {url: page_statements(db, client, url) for url in urls}
    assert few == many
