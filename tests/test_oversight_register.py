"""The public register: its figures against plain SQL for every filter, its rows and CSV, a page per project,
no personal data anywhere, and a number of SQL statements that does not grow with the programme."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from sqlalchemy import text

from codev.core.money import format_xof
from tests.factories_oversight import PEOPLE, SPECS, seed_programme
from tests.sql_count import page_statements

STATUS_SQL = {
    "funded": "g.status NOT IN ('lapsed', 'cancelled') AND p.status NOT IN ('completed', 'closed')",
    "completed": "g.status NOT IN ('lapsed', 'cancelled') AND p.status = 'completed'",
    "closed": "g.status NOT IN ('lapsed', 'cancelled') AND p.status = 'closed'",
    "lapsed": "g.status = 'lapsed'",
    "cancelled": "g.status = 'cancelled'",
}
STANDING = ("e.kind = 'declared' AND e.source IN ('association_cash', 'association_in_kind') "
            "AND e.id IN (SELECT refers_to_id FROM contribution_entries WHERE kind = 'verified') "
            "AND e.id NOT IN (SELECT refers_to_id FROM contribution_entries "
            "WHERE kind = 'reversal' AND refers_to_id IS NOT NULL)")


def where(call_id=None, region=None, sector=None, year=None, status=None) -> tuple[str, dict]:
    """The filter as plain SQL over grants g ⋈ projects p, written apart from the app's queries."""
    conditions, params = ["1 = 1"], {}
    if call_id:
        conditions.append("g.call_id = :call_id")
        params["call_id"] = call_id
    if region:
        conditions.append("p.region = :region")
        params["region"] = region
    if sector:
        conditions.append("p.sector = :sector")
        params["sector"] = sector
    if year:
        conditions.append(f"g.approved_at >= '{year}-01-01 00:00:00+00' "
                          f"AND g.approved_at < '{year + 1}-01-01 00:00:00+00'")
    if status:
        conditions.append(STATUS_SQL[status])
    return " AND ".join(conditions), params


def expected(db, **filters) -> dict:
    condition, params = where(**filters)
    grants = "FROM grants g JOIN projects p ON p.id = g.project_id WHERE " + condition
    live = " AND g.status NOT IN ('lapsed', 'cancelled')"

    def one(sql):
        return int(db.session.execute(text(sql), params).scalar() or 0)

    return {
        "listed": one("SELECT COUNT(*) " + grants),
        "funded": one("SELECT COUNT(*) " + grants + live),
        "communes": one("SELECT COUNT(DISTINCT p.commune) " + grants + live),
        "committed": one("SELECT SUM(g.amount_xof - g.released_xof) " + grants),
        "paid": one("SELECT SUM(d.amount_xof) FROM disbursements d JOIN grants g ON g.id = d.grant_id "
                    "JOIN projects p ON p.id = g.project_id WHERE " + condition),
        "diaspora": one("SELECT SUM(e.amount_xof) FROM contribution_entries e JOIN grants g ON g.id = e.grant_id "
                        "JOIN projects p ON p.id = g.project_id WHERE " + condition + " AND " + STANDING),
        "references": {r for (r,) in db.session.execute(text("SELECT p.reference " + grants), params)},
    }


def figures_on(page: str) -> dict[str, str]:
    block = page[page.index('<dl class="figures">'):page.index("</dl>", page.index('<dl class="figures">'))]
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", block, re.S)
    return {html.unescape(k.strip()): html.unescape(v.strip()) for k, v in pairs}


@pytest.fixture
def programme(db):
    return seed_programme()


def filter_cases(programme):
    call_a, call_b = programme["calls"]["A"].id, programme["calls"]["B"].id
    return [
        {}, {"call_id": call_a}, {"call_id": call_b}, {"region": "TG-P"}, {"region": "TG-K"}, {"region": "TG-GL"},
        {"sector": "water"}, {"sector": "health"}, {"year": 2025}, {"year": 2026}, {"year": 2024},
        *({"status": s} for s in STATUS_SQL), {"call_id": call_a, "region": "TG-P", "year": 2026},
        {"call_id": call_b, "sector": "agriculture", "status": "closed"},
    ]


def query_string(filters: dict) -> dict:
    names = {"call_id": "call"}
    return {names.get(k, k): str(v) for k, v in filters.items()}


@pytest.mark.backends
def test_figures_equal_plain_sql_for_every_filter(client, db, programme, backend):
    """Each figure card and each listed project, for each filter, against SQL written apart."""
    for filters in filter_cases(programme):
        want = expected(db, **filters)
        page = client.get("/register", query_string=query_string(filters)).get_data(as_text=True)
        shown = figures_on(page)
        assert shown["Projets financés"] == str(want["funded"]), filters
        assert shown["Communes touchées"] == str(want["communes"]), filters
        assert shown["Fonds de l'État engagés"] == format_xof(want["committed"], "fr"), filters
        assert shown["Fonds de l'État versés"] == format_xof(want["paid"], "fr"), filters
        assert shown["Fonds de la diaspora vérifiés"] == format_xof(want["diaspora"], "fr"), filters
        listed = set(re.findall(r'<small class="muted">(CODEV-[^<]+)</small>', page))
        assert listed == want["references"], filters


GROUP_SQL = {"region": "p.region", "country": "a.country", "call": "g.call_id", "sector": "p.sector",
             "status": "CASE WHEN g.status = 'cancelled' THEN 'cancelled' WHEN g.status = 'lapsed' THEN 'lapsed' "
                       "WHEN p.status IN ('completed', 'closed') THEN p.status ELSE 'funded' END"}


@pytest.mark.backends
@pytest.mark.parametrize("dimension", sorted(GROUP_SQL))
def test_figures_by_each_dimension_equal_plain_sql(db, programme, dimension, backend):
    """The breakdowns the register (by region) and the dashboard show, against GROUP BY written apart."""
    from codev.oversight.queries import Filters, figures_by

    for filters in ({}, {"year": 2026}, {"region": "TG-P"}):
        condition, params = where(**filters)
        group = GROUP_SQL[dimension]
        joined = ("JOIN grants g ON g.id = x.grant_id JOIN projects p ON p.id = g.project_id "
                  "JOIN associations a ON a.id = p.association_id WHERE " + condition)

        def sums(sql, params=params):
            return {key: int(value) for key, value in db.session.execute(text(sql), params)}

        committed = sums(f"SELECT {group}, SUM(g.amount_xof - g.released_xof) FROM grants g JOIN projects p "
                         f"ON p.id = g.project_id JOIN associations a ON a.id = p.association_id WHERE {condition} "
                         f"GROUP BY {group}")
        paid = sums(f"SELECT {group}, SUM(x.amount_xof) FROM disbursements x {joined} GROUP BY {group}")
        diaspora = sums(f"SELECT {group}, SUM(x.amount_xof) FROM contribution_entries x {joined} AND "
                        + STANDING.replace("e.", "x.") + f" GROUP BY {group}")
        found = dict(figures_by(dimension, Filters(**filters)))
        assert {k: f.committed_xof for k, f in found.items()} == committed, (dimension, filters)
        assert {k: f.paid_xof for k, f in found.items() if f.paid_xof} == paid, (dimension, filters)
        assert {k: f.diaspora_xof for k, f in found.items() if f.diaspora_xof} == diaspora, (dimension, filters)


def test_the_seeded_programme_has_what_the_figures_should_show(client, db, programme):
    """The figures by hand, once: a sanity check of the fixture and of the definitions."""
    page = client.get("/register").get_data(as_text=True)
    shown = figures_on(page)
    assert shown["Projets financés"] == "6"  # two of eight lapsed or were cancelled
    assert shown["Communes touchées"] == "5"  # Agou 1 twice
    assert shown["Fonds de l'État engagés"] == format_xof(47_000_000 - 10_000_000, "fr")
    # Verified diaspora money: reversed, rejected, pending and the community's excluded.
    assert shown["Fonds de la diaspora vérifiés"] == format_xof(20_000_000, "fr")
    assert shown["Effet de levier"] == "0,54 F de la diaspora par franc de l'État"
    assert "Subvention caduque" in page and "Subvention annulée" in page


@pytest.mark.backends
def test_the_csv_holds_exactly_the_filtered_rows_and_sums(client, db, programme, backend):
    for filters in filter_cases(programme):
        want = expected(db, **filters)
        response = client.get("/register.csv", query_string=query_string(filters))
        assert response.status_code == 200 and response.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
        assert {r["Référence du projet"] for r in rows} == want["references"], filters
        assert sum(int(r["Fonds de l'État engagés (XOF)"]) for r in rows) == want["committed"], filters
        assert sum(int(r["Versé (XOF)"]) for r in rows) == want["paid"], filters
        assert sum(int(r["Fonds de la diaspora vérifiés (XOF)"]) for r in rows) == want["diaspora"], filters


def test_csv_headers_follow_the_language(client, db, programme):
    english = client.get("/register.csv", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert english.removeprefix("\ufeff").startswith("Project reference,Project,Call,Status,Association")
    french = client.get("/register.csv", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert french.removeprefix("\ufeff").startswith("Référence du projet,Projet,Appel,Statut,Association")


def test_a_page_per_funded_project(client, db, programme):
    grant = programme["grants"][0]  # 3 M + 1 M verified, 3 M paid on tranche 1 of 4 M
    page = client.get(f"/register/{grant.project_id}").get_data(as_text=True)
    assert grant.project.title in html.unescape(page)
    assert format_xof(10_000_000, "fr") in page and format_xof(4_000_000, "fr") in page
    assert format_xof(3_000_000, "fr") in page  # paid so far
    assert "Agou 1" in page and "Plateaux" in page


def test_projects_never_funded_are_not_in_the_register(client, db, programme):
    from tests.factories_projects import ProjectFactory

    draft = ProjectFactory()
    db.session.commit()
    assert client.get(f"/register/{draft.id}").status_code == 404
    assert draft.title not in client.get("/register").get_data(as_text=True)


def test_odd_filters_filter_nothing(client, db, programme):
    everything = set(re.findall(r"CODEV-[\w-]+", client.get("/register").get_data(as_text=True)))
    for odd in ({"call": "１"}, {"year": "1999"}, {"status": "<script>"}, {"region": "ZZ"}, {"call": "9" * 30},
                {"sector": "\x00"}, {"page": "-1"}):
        response = client.get("/register", query_string=odd)
        assert response.status_code == 200, odd
        assert set(re.findall(r"CODEV-[\w-]+", response.get_data(as_text=True))) == everything, odd


def test_the_register_is_paged(client, db, programme, app):
    app.config["PAGE_SIZE"] = 3
    first = client.get("/register").get_data(as_text=True)
    last = client.get("/register?page=3").get_data(as_text=True)
    rows = lambda page: re.findall(r'<small class="muted">(CODEV-[^<]+)</small>', page)  # noqa: E731
    assert len(rows(first)) == 3 and len(rows(last)) == 2
    assert "Page 1 sur 3" in first and not set(rows(first)) & set(rows(last))


def personal_strings(db) -> set[str]:
    """Every user's email and name, and every association's contact person, email and phone."""
    found = set()
    for email, name in db.session.execute(text("SELECT email, name FROM users")):
        found |= {email, name}
    for row in db.session.execute(text("SELECT contact_name, contact_email, contact_phone FROM associations")):
        found |= {value for value in row if value}
    return found


def test_no_personal_data_in_the_register_its_pages_and_files(client, db, programme, users):
    strings = personal_strings(db)
    assert {p[0] for p in PEOPLE} <= strings and len(strings) > 10
    urls = ["/register", "/register.csv", "/open-data/iati.xml", "/register?status=cancelled",
            *(f"/register/{g.project_id}" for g in programme["grants"])]
    for url in urls:
        for lang in ("fr", "en"):
            body = html.unescape(client.get(url, headers={"Accept-Language": lang}).get_data(as_text=True))
            leaked = sorted(s for s in strings if s in body)
            assert leaked == [], f"{url} ({lang}) shows {leaked}"


@pytest.mark.backends
def test_register_pages_issue_a_bounded_number_of_statements(client, db, backend):
    """One funded project, then eight more with their ledgers and payments: the same count of statements."""
    urls = ["/register", "/register?region=TG-P&year=2025", "/register.csv", "/open-data/iati.xml",
            "/register/{id}"]
    small = seed_programme(SPECS[:1])["grants"][0].project_id
    few = {url: page_statements(db, client, url.format(id=small)) for url in urls}
    large = seed_programme(SPECS * 3)["grants"][0].project_id
    many = {url: page_statements(db, client, url.format(id=large)) for url in urls}
    assert few == many
    assert max(many.values()) <= 12, many


def test_the_landing_page_links_to_the_register(client):
    assert 'href="/register"' in client.get("/").get_data(as_text=True)
