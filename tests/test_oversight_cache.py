"""The figures kept between requests (codev/oversight/cache.py, on codev/core/versions.py) stay exact: every committed
write to a table they read — through the ORM, in raw SQL, from another process's connection — gives the data a new
version and the next page computes again; a page that only reads keeps the version; a transaction's own uncommitted
writes are never kept for others; every statement a kept figure runs reads only the watched tables."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import create_engine, text

from codev.oversight import cache, dashboard, queries
from codev.oversight.queries import Filters
from tests.factories_dashboard import seed_dashboard
from tests.factories_oversight import seed_programme
from tests.sql_count import statements_of


def token(db) -> str | None:
    return db.session.execute(text("SELECT token FROM data_versions WHERE id = 1")).scalar()


def register_figures(client) -> dict[str, str]:
    page = client.get("/register").get_data(as_text=True)
    block = page[page.index('<dl class="figures">'):page.index("</dl>", page.index('<dl class="figures">'))]
    return {html.unescape(k.strip()): html.unescape(v.strip())
            for k, v in re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", block, re.S)}


def other_process_engine(db):
    """A connection of its own to the same database, as another server process would hold."""
    url = db.engine.url.render_as_string(hide_password=False)
    return create_engine(url)


@pytest.mark.backends
def test_a_committed_write_gives_a_new_version_and_a_read_keeps_it(client, db, backend):
    seed_programme()
    db.session.commit()
    first = token(db)
    assert first and re.fullmatch(r"[0-9a-f]{32}", first)
    client.get("/register")
    client.get("/register?region=TG-P")
    assert token(db) == first  # reading pages writes nothing
    grant_id = db.session.execute(text("SELECT id FROM grants ORDER BY id LIMIT 1")).scalar()
    db.session.execute(text("UPDATE grants SET released_xof = released_xof WHERE id = :id"), {"id": grant_id})
    db.session.commit()
    assert token(db) not in (None, first)


@pytest.mark.backends
def test_the_register_shows_a_write_made_by_another_process_at_once(client, db, backend):
    seed_programme()
    db.session.commit()
    before = register_figures(client)
    assert register_figures(client) == before  # kept
    engine = other_process_engine(db)
    try:
        with engine.begin() as connection:  # raw SQL, another connection: no ORM, no app code in the way
            connection.execute(text("UPDATE grants SET released_xof = amount_xof"))
    finally:
        engine.dispose()
    db.session.rollback()  # this test's session starts a new transaction (as a new request would)
    after = register_figures(client)
    assert after != before
    committed = int(db.session.execute(text(
        "SELECT COALESCE(SUM(amount_xof - released_xof), 0) FROM grants")).scalar())
    assert committed == 0
    assert "0 F CFA" in html.unescape(" ".join(after.values())).replace("\u202f", " ").replace("\xa0", " ")


@pytest.mark.backends
def test_the_dashboard_shows_a_write_made_by_another_process_at_once(client, db, users, login_as, backend):
    login_as(users["officer"])
    seed_dashboard()
    db.session.commit()
    filters = Filters()
    # The CSRF token of the sign-out form carries the second it was made: set aside when comparing.
    token = re.compile(r'name="csrf_token" value="[^"]*"')
    page = token.sub("", client.get("/oversight/dashboard").get_data(as_text=True))
    assert token.sub("", client.get("/oversight/dashboard").get_data(as_text=True)) == page  # kept
    before = dashboard.overview(filters)
    engine = other_process_engine(db)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE grants SET released_xof = amount_xof"))
    finally:
        engine.dispose()
    db.session.rollback()  # a new transaction, as the next request's
    assert client.get("/oversight/dashboard").get_data(as_text=True) != page
    shown = cache.Version().get("overview", filters, lambda: pytest.fail("the page kept it already"))
    assert shown == dashboard.overview(filters) != before
    assert shown.money.figures.committed_xof == 0


@pytest.mark.backends
def test_a_transaction_that_wrote_keeps_nothing_for_the_others(app, db, backend):
    seed_programme()
    db.session.commit()
    filters = Filters()
    kept = cache.Version().get("programme_figures", filters, lambda: queries.programme_figures(filters))
    db.session.execute(text("UPDATE grants SET released_xof = amount_xof"))  # not committed
    assert cache.current_token() is None  # this transaction reads its own rows: nothing kept, nothing read
    mine = cache.Version().get("programme_figures", filters, lambda: queries.programme_figures(filters))
    assert mine.committed_xof == 0
    db.session.rollback()
    again = cache.Version().get("programme_figures", filters, lambda: queries.programme_figures(filters))
    assert again == kept and again.committed_xof > 0


def test_a_cache_of_zero_seconds_is_off(app, db):
    seed_programme()
    db.session.commit()
    app.config["OVERSIGHT_CACHE_SECONDS"] = 0
    assert cache.current_token() is None
    calls = []
    for _ in range(2):
        cache.Version().get("x", 1, lambda: calls.append(1))
    assert len(calls) == 2


def test_values_are_kept_per_version(app, db):
    seed_programme()
    db.session.commit()
    calls = []
    version = cache.Version()
    assert version.get("x", 1, lambda: calls.append(1) or "a") == "a"
    assert cache.Version().get("x", 1, lambda: calls.append(1) or "b") == "a"
    assert cache.Version().get("x", 2, lambda: calls.append(1) or "c") == "c"  # another key
    db.session.execute(text("UPDATE calls SET title = title"))
    db.session.commit()
    assert cache.Version().get("x", 1, lambda: calls.append(1) or "d") == "d"  # another version
    assert len(calls) == 3


def test_only_writes_to_watched_tables_make_a_new_version(app, db):
    seed_programme()
    db.session.commit()
    first = token(db)
    db.session.execute(text("UPDATE notifications SET read_at = read_at"))
    db.session.execute(text("DELETE FROM login_attempts"))
    db.session.commit()
    assert token(db) == first
    db.session.execute(text('UPDATE "projects" SET title = title WHERE id < 0'))  # quoted, touching no row
    db.session.commit()
    assert token(db) != first


TABLE_NAMES = re.compile(r'\b(?:FROM|JOIN)\s+"?([a-z_]+)"?', re.IGNORECASE)
CTE_NAMES = re.compile(r'(?:WITH|,)\s+"?([a-z_]+)"?\s+AS\s+\(', re.IGNORECASE)
SUBQUERY_NAMES = re.compile(r'\)\s+AS\s+"?([a-z_]+)"?', re.IGNORECASE)


def test_every_kept_figure_reads_only_the_watched_tables(app, db, client, users, login_as):
    """A figure that read a table no write watches would be kept stale: each statement the cached functions
    run names only watched tables (and its own common table expressions and subqueries)."""
    seed_dashboard()
    db.session.commit()
    with statements_of(db.engine) as statements:
        for filters in (Filters(), Filters(region="TG-P", sector="water", year=2026, call_id=1, country="FR",
                                           status="funded")):
            dashboard.overview(filters)
            dashboard.envelopes(filters)
            dashboard.by_month(filters)
            dashboard.countries(dashboard.overview(filters).groups["country"])
            queries.programme_figures(filters)
            queries.figures_by("region", filters)
            queries.register_count(filters)
            from codev.oversight.views import _export_counts

            _export_counts(filters)
    read = set()
    for statement in statements:
        ctes = {name.lower() for name in CTE_NAMES.findall(statement) + SUBQUERY_NAMES.findall(statement)}
        read |= {name.lower() for name in TABLE_NAMES.findall(statement)} - ctes
    assert {"projects", "grants", "contribution_entries", "disbursements", "calls", "associations"} <= read
    assert read <= cache.WATCHED, read - cache.WATCHED
