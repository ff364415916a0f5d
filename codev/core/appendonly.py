"""Database triggers that make a table append-only (UPDATE and DELETE fail), on SQLite and PostgreSQL.

The same statements serve ``db.create_all()`` (through an ``after_create`` listener) and the Alembic
revisions (through :func:`create_statements` / :func:`drop_statements`).
"""

from __future__ import annotations

from sqlalchemy import DDL, Table, event


def create_statements(table: str, dialect: str) -> list[str]:
    """SQL that installs the append-only guard on ``table`` for ``dialect``."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        ]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION codev_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION codev_append_only()",
        ]
    return []


def drop_statements(table: str, dialect: str) -> list[str]:
    """SQL that removes the guard (used by migration downgrades)."""
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_update", f"DROP TRIGGER IF EXISTS {table}_no_delete"]
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"]
    return []


def make_append_only(table: Table) -> None:
    """Attach the guard to ``table`` so that ``create_all`` installs it too."""
    for dialect in ("sqlite", "postgresql"):
        for statement in create_statements(table.name, dialect):
            # DDL() formats its text with %; escape the trigger body's own % signs.
            ddl = DDL(statement.replace("%", "%%")).execute_if(dialect=dialect)
            event.listen(table, "after_create", ddl)
