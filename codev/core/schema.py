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
