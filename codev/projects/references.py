"""Project references CODEV-YYYY-NNNN: one per project, given at its first submission, never reused.

The number comes from ``reference_counters`` (one row per year). The row is created if missing
(``INSERT … ON CONFLICT DO NOTHING``), then bumped by one guarded ``UPDATE … RETURNING``: the database
serialises concurrent bumps on the row (a row lock on PostgreSQL, the single writer on SQLite), so two
submissions never read the same number, and a rolled-back submission gives its number back with it.
Both SQLite (≥ 3.35) and PostgreSQL support ``RETURNING``.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from codev.extensions import db
from codev.projects.models import ReferenceCounter

PREFIX = "CODEV"


def format_reference(year: int, number: int) -> str:
    """``CODEV-2026-0042`` (four digits at least; the 10 000th project of a year gets five)."""
    return f"{PREFIX}-{year}-{number:04d}"


def next_reference(year: int) -> str:
    """Take the next number of ``year`` in the caller's transaction and return its reference."""
    session = db.session
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(ReferenceCounter)
        .values(year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=[ReferenceCounter.year])
    )
    number = session.execute(
        update(ReferenceCounter)
        .where(ReferenceCounter.year == year)
        .values(last_number=ReferenceCounter.last_number + 1)
        .returning(ReferenceCounter.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return format_reference(year, number)
