"""Alembic: upgrading an empty database gives exactly the models' schema; downgrade undoes it."""

from __future__ import annotations

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from codev import create_app
from codev.core.schema import include_for
from codev.extensions import db
from tests.conftest import POSTGRES_URL, reset_postgres

pytestmark = pytest.mark.backends


@pytest.fixture
def empty_app(backend, tmp_path):
    if backend == "postgres":
        reset_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
    app = create_app({"ENV_NAME": "test", "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_upgrade_gives_the_models_schema(empty_app):
    upgrade()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_for(connection.dialect.name)})
        with warnings.catch_warnings():  # PostgreSQL's DESC NULLS LAST indexes, left out on SQLite (include_for)
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index",
                                    UserWarning)
            diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_downgrade_removes_everything(empty_app):
    upgrade()
    downgrade(revision="base")
    tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()


def test_migrated_audit_log_is_append_only(empty_app):
    upgrade()
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO audit_events (at, action) VALUES (CURRENT_TIMESTAMP, 'x')"))
    for statement in ("UPDATE audit_events SET action = 'y'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"):
            with db.engine.begin() as connection:
                connection.execute(text(statement))


def test_migrated_ledgers_are_append_only(empty_app):
    upgrade()
    for table in ("contribution_entries", "disbursements"):
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(Exception, match="append-only"):
                with db.engine.begin() as connection:
                    connection.execute(text(f"INSERT INTO users (email, name, role, locale, active, session_version, "
                                            f"created_at) VALUES ('{table}@x.tg', 'x', 'officer', 'fr', true, 1, "
                                            "CURRENT_TIMESTAMP)"))
                    _insert_ledger_row(connection, table)
                    connection.execute(text(statement))


def _insert_ledger_row(connection, table):
    """The smallest grant and one row of ``table``, enough for the triggers to fire."""
    ids = {}
    for name, sql in [
        ("user", "SELECT max(id) FROM users"),
    ]:
        ids[name] = connection.execute(text(sql)).scalar()
    connection.execute(text(
        "INSERT INTO associations (name, country, city, contact_name, contact_email, locale, status, created_at) "
        "VALUES ('A', 'FR', 'Paris', 'c', 'c@x.tg', 'fr', 'pending', CURRENT_TIMESTAMP)"))
    association = connection.execute(text("SELECT max(id) FROM associations")).scalar()
    connection.execute(text(
        "INSERT INTO calls (title, description, status, envelope_xof, committed_xof, ratio_num, ratio_den, "
        "in_kind_counts_bps, qualification_threshold, min_evaluators, score_gap_flag, max_project_files_bytes, "
        "created_at, updated_at) VALUES ('C', '', 'draft', 10, 0, 1, 1, 0, 60, 2, 20, 1, CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP)"))
    call = connection.execute(text("SELECT max(id) FROM calls")).scalar()
    connection.execute(text(
        "INSERT INTO projects (reference, association_id, call_id, status, title, led_by_women, requested_grant_xof, "
        f"steps_done, created_at, updated_at, version) VALUES ('CODEV-2026-{call:04d}', {association}, {call}, "
        "'approved', 'P', false, 1, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"))
    project = connection.execute(text("SELECT max(id) FROM projects")).scalar()
    connection.execute(text(
        "INSERT INTO grants (project_id, call_id, amount_xof, ratio_num, ratio_den, in_kind_counts_bps, "
        "rules_snapshot, "
        f"required_association_xof, contribution_deadline, status, approved_by_id, approved_at, released_xof) VALUES "
        f"({project}, {call}, 5, 1, 1, 0, '{{}}', 5, '2027-01-01', 'awarded', {ids['user']}, CURRENT_TIMESTAMP, 0)"))
    grant = connection.execute(text("SELECT max(id) FROM grants")).scalar()
    if table == "contribution_entries":
        connection.execute(text(
            "INSERT INTO contribution_entries (grant_id, kind, source, currency, amount_minor, rate_millionths, "
            f"amount_xof, value_date, created_by_id, created_at) VALUES ({grant}, 'declared', 'association_cash', "
            f"'XOF', 5, 1000000, 5, '2026-01-01', {ids['user']}, CURRENT_TIMESTAMP)"))
    else:
        connection.execute(text(
            "INSERT INTO disbursements (grant_id, tranche_number, amount_xof, value_date, bank_reference, "
            f"idempotency_key, recorded_by_id, recorded_at) VALUES ({grant}, 1, 5, '2026-01-01', 'B', "
            f"'k-{grant}', {ids['user']}, CURRENT_TIMESTAMP)"))
