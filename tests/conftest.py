"""Fixtures: app, db, client, runner, login_as, users of each role; SQLite by default, PostgreSQL too.

Every test that uses the database runs on SQLite and, when ``CODEV_TEST_POSTGRES_URL`` is set, on
PostgreSQL as well — except the browser tests (one live server, SQLite) and tests marked ``sqlite_only``
(they test SQLite itself). ``backends`` marks the tests whose point is the two engines (concurrency,
locks, SQL sums); they are the ones to run when only those matter (``pytest -m backends``).
"""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import create_engine, make_url, text

from codev import create_app
from codev.extensions import db as _db
from tests import factories
from tests.s3_support import moto_endpoint, s3_bucket, s3_settings  # noqa: F401 (fixtures for every test)


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker has its own PostgreSQL database, ``<name>_gw0``, ``<name>_gw1``…,
    created (by the test role, which may create databases) the first time; one process alone uses ``url``."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(_psycopg(url))
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)

# CODEV_TEST_STORAGE=s3: every app fixture keeps its files in a bucket of moto's S3 server (tests/s3_support.py).
TEST_STORAGE = os.environ.get("CODEV_TEST_STORAGE", "local")
assert TEST_STORAGE in ("local", "s3"), f"CODEV_TEST_STORAGE is 'local' or 's3', not {TEST_STORAGE!r}"


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        one_engine = any(metafunc.definition.get_closest_marker(m) is not None for m in ("browser", "sqlite_only"))
        params = ["sqlite", "postgres"] if POSTGRES_URL and not one_engine else ["sqlite"]
        metafunc.parametrize("backend", params, scope="function")


def pytest_configure(config):
    config.addinivalue_line("markers", "backends: the point of the test is the two engines (concurrency, SQL)")
    config.addinivalue_line("markers", "sqlite_only: tests SQLite itself; not run on PostgreSQL")


@pytest.fixture
def backend():  # replaced by the parametrization above
    return "sqlite"


@pytest.fixture
def database_url(backend, tmp_path, worker_schema):
    if backend == "postgres":
        return POSTGRES_URL
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def worker_schema():
    """Start each PostgreSQL-backed test from an empty public schema."""
    return None


def reset_postgres(url: str) -> None:
    """An empty public schema (the next ``prepare_postgres`` builds the tables again)."""
    engine = create_engine(_psycopg(url))
    with engine.begin() as conn:
        _end_other_clients(conn)
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


_schema_built: set[str] = set()  # PostgreSQL URLs whose tables this test session built


def prepare_postgres(url: str) -> bool:
    """Empty tables for the next test; True when they exist already (only emptied), False when the schema
    was dropped and the caller must create the tables.

    Emptying (TRUNCATE … RESTART IDENTITY) is ten times faster than building the schema again; it is done
    only when the public schema holds exactly the tables this session built (a migration test leaves
    others, and a previous session may have left other columns).
    """
    engine = create_engine(_psycopg(url))
    try:
        with engine.begin() as conn:
            _end_other_clients(conn)
            tables = set(conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))
            if url in _schema_built and tables == set(_db.metadata.tables):
                names = ", ".join(f'"{name}"' for name in sorted(tables))
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                return True
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
            _schema_built.add(url)
            return False
    finally:
        engine.dispose()


def _end_other_clients(conn) -> None:
    # A connection a previous test's thread left open would hold locks the DROP waits on. Only our own
    # clients: the server's workers (autovacuum) run as the superuser and may not be ended by us.
    conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                      "AND usename = current_user AND backend_type = 'client backend'"))


def _psycopg(url: str) -> str:
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


POSTGRES_URL = _worker_database(os.environ.get("CODEV_TEST_POSTGRES_URL"))


@pytest.fixture
def app_config(database_url, tmp_path, request):
    config = {
        "ENV_NAME": "test",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; production cost tested apart
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "localhost",
        "MAIL_SERVER": None,
    }
    if TEST_STORAGE == "s3":
        config.update(s3_settings(request.getfixturevalue("moto_endpoint"), request.getfixturevalue("s3_bucket")))
    return config


@pytest.fixture
def app(app_config, backend):
    ready = backend == "postgres" and prepare_postgres(POSTGRES_URL)
    app = create_app(app_config)
    # The fixture keeps an app context open so factories can use db.session; Flask then reuses it
    # for every test request, and with it ``g`` (signed-in user, locale). Start each request afresh
    # as a real server would.
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_globals)
    with app.app_context():
        if not ready:
            _db.create_all()
        yield app
        _db.session.remove()
        _db.engine.dispose()


def _fresh_request_globals() -> None:
    from flask import g

    for name in list(vars(g)):
        delattr(g, name)


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login_as(client):
    """Put ``user`` in the test client's session, as a real sign-in would."""

    def login(user):
        _db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return user

    return login


@pytest.fixture
def users(db):
    """One user of each role (committed)."""
    result = {
        "association": factories.UserFactory(member=True, email="member@asso.example.org"),
        "evaluator": factories.UserFactory(evaluator=True, email="evaluator@structure.example.org"),
        "officer": factories.UserFactory(officer=True, email="officer@ministry.example.tg"),
        "approver": factories.UserFactory(approver=True, email="approver@ministry.example.tg"),
        "admin": factories.UserFactory(admin=True, email="admin@ministry.example.tg"),
    }
    db.session.commit()
    return result


@pytest.fixture
def outbox(db):
    """The messages written to the outbox so far."""
    from codev.core.models import OutboxMessage

    def messages(recipient: str | None = None):
        query = db.select(OutboxMessage).order_by(OutboxMessage.id)
        if recipient:
            query = query.where(OutboxMessage.recipient == recipient)
        return db.session.scalars(query).all()

    return messages
