"""The officer's project list kept rendered between requests (codev/core/kept_pages.py) stays exact: served
again from memory only while nothing is written, to the same reader, at the same address, in the same
language; any committed write (through the app, in raw SQL, from another process) renders it again; each
request gets its own form token; a waiting message, an uncommitted write or keeping turned off renders the
page for that request."""

from __future__ import annotations

import re
import time

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from codev.core import versions
from codev.core.permissions import access_rule
from codev.extensions import db as _db
from tests import factories
from tests.factories_projects import submitted_project
from tests.sql_count import statements_of
from tests.test_migrations import empty_app  # noqa: F401 (the fixture)

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def pages_token(db) -> str | None:
    return db.session.execute(text("SELECT token FROM data_versions WHERE id = :id"), {"id": versions.PAGES}).scalar()


def read(client, url="/projects/") -> tuple[str, int]:
    """The page as the person sees it, and the statements it cost."""
    with statements_of(_db.engine) as found:
        response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True), len(found)


def without_tokens(page: str) -> str:
    return CSRF.sub('name="csrf_token" value=""', page)


@pytest.fixture
def listed(db, users):
    project = submitted_project(factories.UserFactory(member=True), title="Forage de Kpimé")
    db.session.commit()
    return project


@pytest.mark.backends
def test_the_second_request_is_served_from_the_kept_rendering(client, db, users, login_as, listed, backend):
    login_as(users["officer"])
    first, rendered = read(client)
    second, kept = read(client)
    assert "Forage de Kpimé" in second
    assert without_tokens(second) == without_tokens(first)
    assert kept <= 2 < rendered  # at most the reader (the sign-in check) and the data's version


@pytest.mark.backends
def test_a_committed_write_is_shown_at_once(client, db, users, login_as, listed, backend):
    login_as(users["officer"])
    read(client)
    listed.title = "Forage de Kpimé, second puits"
    db.session.commit()
    assert "Forage de Kpimé, second puits" in read(client)[0]


@pytest.mark.backends
def test_a_write_made_by_another_process_is_shown_at_once(client, db, users, login_as, listed, backend):
    login_as(users["officer"])
    read(client)
    engine = create_engine(db.engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE projects SET title = 'Latrines de Sokodé' WHERE id = :id"),
                               {"id": listed.id})
    finally:
        engine.dispose()
    db.session.expire_all()
    page = read(client)[0]
    assert "Latrines de Sokodé" in page and "Forage de Kpimé" not in page


def test_each_reader_and_each_address_has_its_own_rendering(client, db, users, login_as, listed):
    other = factories.UserFactory(officer=True, name="Afi Mensah")
    users["officer"].name = "Kossi Agbeko"
    db.session.commit()
    login_as(users["officer"])
    mine = read(client)[0]
    login_as(other)
    theirs, statements = read(client)
    assert "Afi Mensah" in theirs and "Kossi Agbeko" not in theirs and statements > 2
    assert "Kossi Agbeko" in mine
    filtered = read(client, "/projects/?status=approved")[0]
    assert "Forage de Kpimé" not in filtered and "Forage de Kpimé" in read(client)[0]


def test_each_language_has_its_own_rendering(client, db, users, login_as, listed):
    login_as(users["officer"])
    assert "<h1>Projets</h1>" in read(client)[0]
    users["officer"].locale = "en"  # a write: the version changes too, but the key differs anyway
    db.session.commit()
    assert "<h1>Projects</h1>" in read(client)[0]
    with client.session_transaction() as session:
        assert session.get("_flashes") is None


def test_each_request_served_from_a_rendering_gets_its_own_form_token(app, db, users, listed):
    """Two browsers of one officer: the second is served the first's rendering, with a token of its own
    session that the sign-out form accepts."""
    app.config["WTF_CSRF_ENABLED"] = True
    officer = users["officer"]
    browsers = [app.test_client(), app.test_client()]
    for browser in browsers:
        with browser.session_transaction() as session:
            session["_user_id"] = officer.get_id()
            session["_fresh"] = True
    first = read(browsers[0])[0]
    second, statements = read(browsers[1])
    assert statements <= 2
    token_one, token_two = CSRF.search(first).group(1), CSRF.search(second).group(1)
    assert token_one != token_two
    assert browsers[1].post("/account/logout", data={"csrf_token": token_one}).status_code == 400  # not its own
    response = browsers[1].post("/account/logout", data={"csrf_token": token_two})
    assert response.status_code == 302
    assert browsers[1].get("/projects/").status_code == 302  # signed out: the sign-in page, not the list


def test_a_waiting_message_is_shown_and_nothing_kept_with_it(client, db, users, login_as, listed):
    login_as(users["officer"])
    read(client)
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Le projet est retiré.")]
    page, statements = read(client)
    assert "Le projet est retiré." in page and statements > 2
    again, statements = read(client)
    assert "Le projet est retiré." not in again and statements <= 2


def test_an_uncommitted_write_is_neither_served_nor_kept(client, db, users, login_as, listed):
    login_as(users["officer"])
    read(client)
    db.session.execute(text("UPDATE projects SET title = 'Pas encore' WHERE id = :id"), {"id": listed.id})
    db.session.expire_all()
    page, statements = read(client)  # this transaction reads its own rows
    assert "Pas encore" in page and statements > 2
    db.session.rollback()
    page, statements = read(client)
    assert statements <= 2 and "Pas encore" not in page and "Forage de Kpimé" in page


def test_keeping_off_or_expired_renders_every_time(app, client, db, users, login_as, listed):
    login_as(users["officer"])
    app.config["PAGE_CACHE_SECONDS"] = 0
    assert read(client)[1] > 2 and read(client)[1] > 2
    app.config["PAGE_CACHE_SECONDS"] = 0.05
    read(client)
    assert read(client)[1] <= 2
    time.sleep(0.1)
    assert read(client)[1] > 2


def test_only_the_throttles_and_the_jobs_locks_leave_the_version(db, users):
    first = pages_token(db)
    db.session.execute(text("DELETE FROM login_attempts"))
    db.session.execute(text("DELETE FROM job_locks"))
    db.session.commit()
    assert pages_token(db) == first
    for statement in ("UPDATE notifications SET read_at = read_at", "DELETE FROM outbox_messages WHERE id < 0",
                      'UPDATE "users" SET name = name'):
        db.session.execute(text(statement))
        db.session.commit()
        assert pages_token(db) != first
        first = pages_token(db)


def test_every_kept_view_is_for_signed_in_roles_only(app):
    """A kept page is checked like any other (the access rule runs before the view) and is never public: it
    is kept per reader."""
    kept = [name for name, view in app.view_functions.items() if getattr(view, "kept_page", False)]
    assert kept == ["projects.index"]
    for endpoint in kept:
        rule = access_rule(app, endpoint)
        assert isinstance(rule, frozenset) and rule and "association" not in rule, (endpoint, rule)


def test_migration_0022_keeps_the_figures_token_adds_the_pages_one_and_goes_back(empty_app):  # noqa: F811
    upgrade(revision="0021")
    old = _db.session.execute(text("SELECT token FROM oversight_data_version WHERE id = 1")).scalar()
    _db.session.rollback()
    upgrade(revision="0022")
    rows = dict(_db.session.execute(text("SELECT id, token FROM data_versions ORDER BY id")).all())
    _db.session.rollback()
    assert set(rows) == {versions.FIGURES, versions.PAGES} and rows[versions.FIGURES] == old
    assert re.fullmatch(r"[0-9a-f]{32}", rows[versions.PAGES])
    downgrade(revision="0021")
    tables = set(inspect(_db.engine).get_table_names())
    assert "data_versions" not in tables and "oversight_data_version" in tables
    assert _db.session.execute(text("SELECT id, token FROM oversight_data_version")).all() == [(1, old)]
    _db.session.rollback()
