"""Migration 0007 (idempotency keys on declarations and reports): in place, both ways, rows and triggers kept.

On SQLite a batch rebuild would have dropped the ledger's append-only triggers, and dropping the old
``reports`` table would have cascaded to its attachments: the revision alters both tables in place.
"""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from codev.extensions import db
from tests.test_migrations import _insert_ledger_row, empty_app  # noqa: F401 (the fixture)

pytestmark = pytest.mark.backends


def _columns(table: str) -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns(table)}


def _add_rows(connection) -> None:
    """A declaration (with its grant) and a report with one attached file."""
    connection.execute(text("INSERT INTO users (email, name, role, locale, active, session_version, created_at) "
                            "VALUES ('m@x.tg', 'x', 'officer', 'fr', true, 1, CURRENT_TIMESTAMP)"))
    _insert_ledger_row(connection, "contribution_entries")
    grant, user = (connection.execute(text(f"SELECT max(id) FROM {t}")).scalar() for t in ("grants", "users"))
    connection.execute(text(
        "INSERT INTO reports (grant_id, kind, narrative, progress_pct, expenses, status, submitted_by_id, "
        f"submitted_at) VALUES ({grant}, 'progress', 'n', 10, '[]', 'submitted', {user}, CURRENT_TIMESTAMP)"))
    connection.execute(text(
        "INSERT INTO attachments (kind, original_name, stored_name, content_type, size, sha256, uploaded_at) "
        "VALUES ('report', 'a.pdf', 'a.pdf', 'application/pdf', 1, 'x', CURRENT_TIMESTAMP)"))
    report, attachment = (connection.execute(text(f"SELECT max(id) FROM {t}")).scalar()
                          for t in ("reports", "attachments"))
    connection.execute(text("INSERT INTO report_attachments (report_id, attachment_id, kind) "
                            f"VALUES ({report}, {attachment}, 'document')"))


def _counts() -> tuple[int, ...]:
    with db.engine.connect() as connection:
        return tuple(connection.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                     for t in ("contribution_entries", "reports", "report_attachments"))


def _still_append_only() -> None:
    for statement in ("UPDATE contribution_entries SET note = 'x'", "DELETE FROM contribution_entries"):
        with pytest.raises(Exception, match="append-only"):
            with db.engine.begin() as connection:
                connection.execute(text(statement))


def test_0007_adds_and_removes_the_keys_in_place(empty_app):  # noqa: F811
    upgrade(revision="0006")
    with db.engine.begin() as connection:
        _add_rows(connection)
    upgrade(revision="0007")
    assert {"idempotency_key"} <= _columns("contribution_entries") & _columns("reports")
    assert _counts() == (1, 1, 1)
    _still_append_only()
    downgrade(revision="0006")
    assert "idempotency_key" not in _columns("contribution_entries") | _columns("reports")
    assert _counts() == (1, 1, 1)  # the report's file was not cascaded away
    _still_append_only()
    upgrade()
    assert _counts() == (1, 1, 1)
