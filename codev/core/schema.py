"""What Alembic's comparison of the models with a database must know that it does not read by itself.

An index may exist on one database only (``Index(...).ddl_if(dialect="postgresql")``: PostgreSQL's list
indexes in ``DESC NULLS LAST`` order, which SQLite cannot write in an index); ``create_all`` honours that,
autogenerate does not, so :func:`include_for` leaves such an index out of the comparison on the other
database (``migrations/env.py`` and ``tests/test_migrations.py`` pass it as ``include_object``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def include_for(dialect: str) -> Callable[..., bool]:
    """An Alembic ``include_object`` that skips the indexes whose ``ddl_if`` names another dialect."""

    def include(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
        if kind != "index" or reflected:
            return True
        condition = getattr(obj, "_ddl_if", None)
        wanted = getattr(condition, "dialect", None)
        if wanted is None:
            return True
        return dialect in ((wanted,) if isinstance(wanted, str) else tuple(wanted))

    return include


def refresh_statistics() -> int:
    """ANALYZE every table of the app, so that the query planner knows their sizes (after loading rows in bulk:
    a synthetic programme, a restore — ``pg_restore`` brings no statistics). Returns the tables analysed.

    On PostgreSQL, autovacuum gets there by itself some minutes later; until then the planner guesses, and a
    guess made on an empty table can be a hundred times slower (the officer's home: 212 ms → 94 ms at
    10 000 projects). On SQLite, ``ANALYZE`` fills ``sqlite_stat1``."""
    from sqlalchemy import text

    from codev.extensions import db

    names = [table.name for table in db.metadata.sorted_tables]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            for name in names:
                connection.execute(text(f'ANALYZE "{name}"'))  # our own table names, not input
        else:
            connection.execute(text("ANALYZE"))
    return len(names)
