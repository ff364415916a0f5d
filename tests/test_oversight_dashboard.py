"""The ministry's dashboard: every figure against plain SQL written apart, for each filter; the charts' values
as text; who may open it; a number of SQL statements that does not grow with the programme."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from sqlalchemy import text

from codev.core.money import format_xof, share_bps
from tests.factories_dashboard import OTHERS, seed_dashboard
from tests.factories_oversight import SPECS
from tests.sql_count import page_statements

# The navigation's menus close by themselves with it; a page's own charts need no script.
MENU_SCRIPT = '<script src="/static/js/menu.js" defer></script>'

PAST_SCREENING = ("in_review", "qualified", "not_qualified", "approved", "rejected", "deferred", "funded",
                  "completed", "closed", "lapsed")
QUALIFIED = ("qualified", "approved", "rejected", "deferred", "funded", "completed", "closed", "lapsed")
APPROVED = ("approved", "funded", "completed", "closed", "lapsed")
FUNDED = ("funded", "completed", "closed", "lapsed")
STANDING = ("e.kind = 'declared' AND e.source IN ('association_cash', 'association_in_kind') "
            "AND e.id IN (SELECT refers_to_id FROM contribution_entries WHERE kind = 'verified') "
            "AND e.id NOT IN (SELECT refers_to_id FROM contribution_entries "
            "WHERE kind = 'reversal' AND refers_to_id IS NOT NULL)")
DECLARED = ("e.kind = 'declared' AND e.source IN ('association_cash', 'association_in_kind') "
            "AND e.id NOT IN (SELECT refers_to_id FROM contribution_entries "
            "WHERE kind IN ('rejected', 'reversal') AND refers_to_id IS NOT NULL)")


def _in(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _year(column: str, year: int) -> str:
    return f"{column} >= '{year}-01-01 00:00:00+00' AND {column} < '{year + 1}-01-01 00:00:00+00'"


def place(call_id=None, region=None, sector=None, call_column="p.call_id") -> tuple[list[str], dict]:
    conditions, params = ["1 = 1"], {}
    if call_id:
        conditions.append(f"{call_column} = :call_id")
        params["call_id"] = call_id
    if region:
        conditions.append("p.region = :region")
        params["region"] = region
    if sector:
        conditions.append("p.sector = :sector")
        params["sector"] = sector
    return conditions, params


def expected(db, call_id=None, region=None, sector=None, year=None) -> dict:
    def one(sql, params):
        return int(db.session.execute(text(sql), params).scalar() or 0)

    # Projects: the year of submission (of creation for a draft).
    conditions, params = place(call_id, region, sector)
    if year:
        conditions.append(_year("COALESCE(p.submitted_at, p.created_at)", year))
    projects = "FROM projects p LEFT JOIN grants g ON g.project_id = p.id WHERE " + " AND ".join(conditions)
    stages = [
        one("SELECT COUNT(*) " + projects, params),
        one("SELECT COUNT(*) " + projects + " AND p.status <> 'draft'", params),
        *(one(f"SELECT COUNT(*) {projects} AND p.status IN {_in(s)}", params)
          for s in (PAST_SCREENING, QUALIFIED, APPROVED, FUNDED)),
        one("SELECT COUNT(*) " + projects + " AND (p.status = 'completed' OR (p.status = 'closed' "
            "AND g.status = 'completed'))", params),
    ]
    by_region = dict(db.session.execute(text(
        "SELECT p.region, COUNT(*) " + projects + " AND p.status <> 'draft' GROUP BY p.region"), params).all())

    # Money: the grants of those projects, the year of approval.
    conditions, params = place(call_id, region, sector, "g.call_id")
    if year:
        conditions.append(_year("g.approved_at", year))
    grants = "FROM grants g JOIN projects p ON p.id = g.project_id WHERE " + " AND ".join(conditions)
    ledger = ("FROM contribution_entries e JOIN grants g ON g.id = e.grant_id JOIN projects p ON p.id = g.project_id "
              "WHERE " + " AND ".join(conditions))
    money = {
        "declared": one(f"SELECT SUM(e.amount_xof) {ledger} AND {DECLARED}", params),
        "pending": one(f"SELECT SUM(e.amount_xof) {ledger} AND {DECLARED} AND e.id NOT IN "
                       "(SELECT refers_to_id FROM contribution_entries WHERE refers_to_id IS NOT NULL)", params),
        "verified": one(f"SELECT SUM(e.amount_xof) {ledger} AND {STANDING}", params),
        "committed": one("SELECT SUM(g.amount_xof - g.released_xof) " + grants, params),
        "paid": one("SELECT SUM(d.amount_xof) FROM disbursements d JOIN grants g ON g.id = d.grant_id "
                    "JOIN projects p ON p.id = g.project_id WHERE " + " AND ".join(conditions), params),
        "funded": one("SELECT COUNT(*) " + grants + " AND g.status NOT IN ('lapsed', 'cancelled')", params),
    }

    # Envelopes: calls that are not drafts, the year they opened.
    conditions, params = ["c.status <> 'draft'"], {}
    if call_id:
        conditions.append("c.id = :call_id")
        params["call_id"] = call_id
    if year:
        conditions.append(_year("c.opens_at", year))
    envelopes = {title: (int(e), int(c), int(p or 0)) for title, e, c, p in db.session.execute(text(
        "SELECT c.title, c.envelope_xof, c.committed_xof, (SELECT SUM(d.amount_xof) FROM disbursements d "
        "JOIN grants g ON g.id = d.grant_id WHERE g.call_id = c.id) FROM calls c WHERE " + " AND ".join(conditions)),
        params)}

    # Overdue: call, region, sector only.
    conditions, params = place(call_id, region, sector, "g.call_id")
    scope = " AND ".join(conditions)
    waiting = ("FROM contribution_entries e JOIN grants g ON g.id = e.grant_id JOIN projects p ON p.id = g.project_id "
               "WHERE e.kind = 'declared' AND e.id NOT IN (SELECT refers_to_id FROM contribution_entries "
               "WHERE refers_to_id IS NOT NULL) AND " + scope)
    reports = ("FROM reports r JOIN grants g ON g.id = r.grant_id JOIN projects p ON p.id = g.project_id "
               "WHERE r.status = 'submitted' AND " + scope)
    overdue = {
        "declarations": one("SELECT COUNT(*) " + waiting, params),
        "reports": one("SELECT COUNT(*) " + reports, params),
    }
    return {"stages": stages, "by_region": by_region, "money": money, "envelopes": envelopes, "overdue": overdue}


def section(page: str, name: str) -> str:
    start = page.index(f'aria-labelledby="{name}-title"')
    return page[start:page.index("</section>", start)]


def rows(block: str) -> dict[str, list[str]]:
    """Each table row of ``block``: its heading cell → the texts of its other cells."""
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", block, re.S):
        head = re.search(r"<th scope=\"row\">(.*?)</th>", row, re.S)
        if head:
            label = html.unescape(re.sub(r"<[^>]+>", "", head.group(1)).strip())
            found[label] = [html.unescape(re.sub(r"<[^>]+>", "", c).strip())
                            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return found


@pytest.fixture
def programme(db):
    return seed_dashboard()


def filter_cases(programme):
    a, b = programme["calls"]["A"].id, programme["calls"]["B"].id
    return [{}, {"call_id": a}, {"call_id": b}, {"region": "TG-P"}, {"region": "TG-GL"}, {"sector": "water"},
            {"sector": "agriculture"}, {"year": 2025}, {"year": 2026}, {"year": 2024},
            {"call_id": a, "region": "TG-P", "year": 2026}, {"call_id": b, "sector": "health"}]


def query_string(filters: dict) -> dict:
    return {{"call_id": "call"}.get(k, k): str(v) for k, v in filters.items()}


@pytest.mark.backends
def test_figures_equal_plain_sql_for_every_filter(client, db, programme, users, login_as, backend):
    login_as(users["officer"])
    for filters in filter_cases(programme):
        want = expected(db, **filters)
        page = client.get("/oversight/dashboard", query_string=query_string(filters)).get_data(as_text=True)
        funnel = list(rows(section(page, "funnel").split("</table>")[0]).values())
        assert [int(cells[0]) for cells in funnel[:7]] == want["stages"], filters
        money = [cells[0] for cells in rows(section(page, "money")).values()]
        m = want["money"]
        amounts = ("declared", "pending", "verified", "committed", "paid")
        assert money[:6] == [*(format_xof(m[k], "fr") for k in amounts), str(m["funded"])], filters
        envelope_rows = rows(section(page, "envelope"))
        for title, (envelope, committed, paid) in want["envelopes"].items():
            assert envelope_rows[title] == [format_xof(envelope, "fr"), format_xof(committed, "fr"),
                                            format_xof(paid, "fr"), format_xof(envelope - committed, "fr")], filters
        assert {t for t in envelope_rows if t != "Total"} == set(want["envelopes"]), filters
        groups = rows(section(page, "groups"))
        from codev.core.geography import region_name

        for code, count in want["by_region"].items():
            assert groups[region_name(code)][0] == str(count), (filters, code)
        overdue = section(page, "overdue")
        assert re.search(r'to-verify">(\d+) ', overdue).group(1) == str(want["overdue"]["declarations"]), filters
        assert re.search(r'to-read">(\d+) ', overdue).group(1) == str(want["overdue"]["reports"]), filters


def test_the_seeded_programme_shows_every_stage_and_what_is_late(client, db, programme, users, login_as):
    """The seed is what the figures should show (so the comparison above is not of zeros)."""
    login_as(users["officer"])
    want = expected(db)
    assert want["stages"] == [len(SPECS) + len(OTHERS), len(SPECS) + len(OTHERS) - 1, 12, 10, 8, 8, 2]
    page = client.get("/oversight/dashboard").get_data(as_text=True)
    overdue = section(page, "overdue")
    # Three declarations wait (one for 30 days), two reports (one for 20 days).
    assert re.search(r'to-verify">3 [^<]*</a>:\s*1 ', overdue) and re.search(r'to-read">2 [^<]*</a>:\s*1 ', overdue)
    # Two awarded grants past their deadline: Kloto (8 000 000, 2 000 000 verified) and Agou (3 000 000, nothing).
    assert re.search(r'status=awarded[^"]*">2 ', overdue)
    assert format_xof(6_000_000 + 3_000_000, "fr") in html.unescape(overdue)
    # Declared counts what waits too; paid and committed as on the register.
    money = list(rows(section(page, "money")).values())
    assert money[1] == [format_xof(300_000 + 1_000_000 + 250_000, "fr")]


def test_leverage_says_per_franc_committed_and_per_franc_paid(client, db, programme, users, login_as):
    login_as(users["approver"])
    page = html.unescape(client.get("/oversight/dashboard").get_data(as_text=True))
    m = expected(db)["money"]
    for name, whole in (("committed", m["committed"]), ("paid", m["paid"])):
        ratio = format_decimal(Decimal(share_bps(m["verified"], whole)) / 10_000, format="#,##0.00", locale="fr")
        cards = section(page, "money")
        assert f"<dd>{ratio}</dd>" in cards, (name, ratio)


def test_months_of_the_year_chosen(client, db, programme, users, login_as):
    login_as(users["admin"])
    page = client.get("/oversight/dashboard", query_string={"year": "2026"}).get_data(as_text=True)
    months = list(rows(section(page, "months")).values())
    assert len(months) == 12
    # Grants approved on 15 June, payments valued on 1 September (tests/factories_oversight.py).
    approved_2026 = [s.amount for s in SPECS if s.year == 2026]
    paid_2026 = [a for s in SPECS if s.year == 2026 for _t, a in s.paid]
    assert months[5][:2] == [str(len(approved_2026)), format_xof(sum(approved_2026), "fr")]
    assert months[8][2:] == [str(len(paid_2026)), format_xof(sum(paid_2026), "fr")]
    assert sum(int(m[0]) for m in months) == len(approved_2026)
    chart = page[page.index('id="chart-months"'):page.index("</svg>", page.index('id="chart-months"'))]
    assert html.unescape(format_xof(sum(approved_2026), "fr")) in html.unescape(chart)


def test_charts_are_svg_with_titles_values_and_no_inline_style(client, programme, users, login_as):
    login_as(users["officer"])
    page = client.get("/oversight/dashboard").get_data(as_text=True)
    charts = re.findall(r"<svg .*?</svg>", page, re.S)
    assert len(charts) == 8  # funnel, envelope, money, region, prefecture, sector, country, months
    for chart in charts:
        assert 'viewBox="0 0 ' in chart and 'width="100%"' in chart and "<title" in chart
        assert "style=" not in chart
    funnel = charts[0]
    assert re.search(r"— " + str(len(SPECS) + len(OTHERS)) + r"</text>", funnel)
    # Each chart is followed by its table.
    assert page.count('<details class="chart-table">') == 8
    assert "<script" not in page.replace(MENU_SCRIPT, "")


def test_odd_filters_filter_nothing(client, programme, users, login_as):
    login_as(users["officer"])
    plain = client.get("/oversight/dashboard").get_data(as_text=True)
    odd = client.get("/oversight/dashboard?call=abc&region=ZZ&sector=%00&year=1850&status=x")
    assert odd.status_code == 200
    assert rows(section(odd.get_data(as_text=True), "money")) == rows(section(plain, "money"))


@pytest.mark.parametrize("who, status", [("officer", 200), ("approver", 200), ("admin", 200),
                                         ("evaluator", 403), ("association", 403)])
def test_who_may_open_the_dashboard_and_the_maps(client, users, login_as, who, status):
    login_as(users[who])
    assert client.get("/oversight/dashboard").status_code == status
    assert client.get("/oversight/maps").status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in ("/oversight/dashboard", "/oversight/maps"):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["officer", "approver", "admin"])
def test_the_home_of_the_ministry_links_to_the_dashboard(client, users, login_as, who):
    login_as(users[who])
    page = client.get("/").get_data(as_text=True)
    assert 'href="/oversight/dashboard"' in page and 'href="/oversight/maps"' in page


URLS = ["/oversight/dashboard", "/oversight/dashboard?region=TG-P&year=2026&sector=water",
        "/oversight/maps", "/oversight/maps?world=diaspora&togo=committed&call={call}",
        "/oversight/audit", "/oversight/audit?object_type=projects&object_id={project}&related=y",
        "/oversight/audit.csv"]


@pytest.mark.backends
def test_pages_issue_a_bounded_number_of_statements(client, db, users, login_as, backend):
    """A small programme, then one three times the register's with its other projects: the same count."""
    login_as(users["officer"])
    small = seed_dashboard(SPECS[:1], OTHERS[:1])
    values = {"call": small["calls"]["A"].id, "project": small["grants"][0].project_id}
    few = {url: page_statements(db, client, url.format(**values)) for url in URLS}
    seed_dashboard(SPECS * 3, OTHERS * 3)
    many = {url: page_statements(db, client, url.format(**values)) for url in URLS}
    assert few == many
    assert max(many.values()) <= 12, many
