"""Alembic: upgrading an empty database gives exactly the models' schema; downgrade undoes it."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from codev import create_app
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
        context = MigrationContext.configure(connection, opts={"compare_type": True})
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
