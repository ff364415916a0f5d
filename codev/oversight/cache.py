"""The programme's figures kept between requests, exact across processes: a cache checked against the data's
version, a token the database holds and every write to the tables the figures read replaces.

- **The version.** ``oversight_data_version`` holds one row, a random token. Every transaction that
  inserts, updates or deletes a row of a table in :data:`WATCHED` writes a new random token just before
  it commits, in the same transaction (a listener on every engine: ORM flushes, bulk inserts and raw SQL
  alike, whichever blueprint wrote). A token therefore names one committed state of those tables.
- **The cache.** Each process (each app) keeps what a figure function returned under (function, its
  arguments, the token). A page reads the token in one cheap statement (a primary-key lookup) and takes a
  kept value only under the same token: stateless servers on PostgreSQL agree without talking to each
  other, since they all read the one row. A transaction that wrote to a watched table and has not
  committed yet reads its own uncommitted rows: it neither reads nor fills the cache.
- **Safety nets.** Values also expire after ``OVERSIGHT_CACHE_SECONDS`` (a write made outside the app —
  a human with ``sqlite3`` — is seen after that delay at most); ``OVERSIGHT_CACHE_SECONDS = 0`` turns the
  cache off. When the row is missing (a table emptied by ``TRUNCATE``), nothing is cached until the next
  write puts a token back.

Only what does not depend on the clock is kept (the overdue counts, measured against "now", are always
computed). Concurrent writers are not serialised by the token: each writes it as its last statement before
committing, so the row lock is held for the commit only and is taken after every other lock (no deadlock).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import Index, Integer, String, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import Pool

from codev.extensions import db
from codev.grants.models import Grant
from codev.projects.models import Project

T = TypeVar("T")

TABLE = "oversight_data_version"

# The tables the cached figures read (tests/test_oversight_cache.py checks every cached statement reads
# only these): a write to any of them makes a new token.
WATCHED = frozenset({
    "projects", "grants", "grant_tranches", "contribution_entries", "disbursements", "calls", "associations",
    "reports", "assignments", "evaluations", "users", "partner_structures", "budget_lines", "exchange_rates",
    "grant_totals",  # written by the triggers of two watched tables only (codev.grants.totals)
})

_WRITE = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)"?',
                    re.IGNORECASE)
_PENDING = "codev_oversight_write_pending"  # in the DBAPI connection's info: a watched write not yet committed


# The dashboard's projects read from an index alone (migration 0012): the funnel and the breakdowns group
# every project in view by status, region, prefecture, sector and the association's country, narrowed by
# call and year. Read from the table, each of these wide rows (long texts) is fetched; this index holds the
# columns they need, call first (the call filter is a range of it). Declared here, beside its one reader's
# package, on the projects table (codev/projects/models.py does not know of it).
DASHBOARD_INDEX = Index("ix_projects_dashboard", Project.call_id, Project.status, Project.region, Project.sector,
                        Project.prefecture, Project.association_id, Project.submitted_at, Project.created_at)


# The register's and the dashboard's money reads every grant in view with its project's place and sector
# (migration 0020): from these two indexes alone, not from the wide rows (the grant's rules, the project's
# texts), which a lookup per grant would otherwise fetch whole.
GRANTS_INDEX = Index("ix_grants_oversight", Grant.project_id, Grant.call_id, Grant.status, Grant.approved_at,
                     Grant.amount_xof, Grant.released_xof, Grant.id)
PROJECTS_INDEX = Index("ix_projects_oversight", Project.id, Project.region, Project.prefecture, Project.sector,
                       Project.commune, Project.association_id)


class DataVersion(db.Model):
    """The one row whose token changes with every committed write to a watched table."""

    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(32))


def _is_watched_write(statement: str) -> bool:
    head = statement.lstrip()[:6].upper()
    if head not in ("INSERT", "UPDATE", "DELETE"):
        return False
    found = _WRITE.match(statement)
    return bool(found) and found.group(1).lower() in WATCHED


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn, cursor, statement, parameters, context, executemany) -> None:
    if _is_watched_write(statement):
        conn.info[_PENDING] = True


@event.listens_for(Engine, "commit")
def _new_token(conn) -> None:
    """Just before the commit, in the same transaction: a new token when a watched table was written."""
    if not conn.info.pop(_PENDING, False):
        return
    token = secrets.token_hex(16)  # hexadecimal: safe to write into the statement itself
    upsert = (f"INSERT INTO {TABLE} (id, token) VALUES (1, '{token}') "  # noqa: S608 (no input in it)
              "ON CONFLICT (id) DO UPDATE SET token = excluded.token")
    # The table is missing while migrations older than 0012 run (upgrading, downgrading): the write commits
    # without a token. A failed statement aborts a PostgreSQL transaction, hence the savepoint there; SQLite
    # carries on after one.
    postgres = conn.dialect.name == "postgresql"
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if postgres:
            cursor.execute("SAVEPOINT oversight_version")
        cursor.execute(upsert)
        if postgres:
            cursor.execute("RELEASE SAVEPOINT oversight_version")
    except conn.dialect.loaded_dbapi.Error:
        if postgres:
            cursor.execute("ROLLBACK TO SAVEPOINT oversight_version")
    finally:
        cursor.close()


@event.listens_for(Engine, "rollback")
def _forget_write(conn) -> None:
    if conn.invalidated:  # its DBAPI connection is gone (a killed run): nothing kept to forget, and no info
        return
    conn.info.pop(_PENDING, None)


@event.listens_for(Pool, "checkin")
def _forget_on_checkin(dbapi_connection, connection_record) -> None:
    if connection_record is not None:
        connection_record.info.pop(_PENDING, None)


class _Store:
    """(key → (token, expiry, value)), the oldest dropped past ``size`` entries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: OrderedDict[Hashable, tuple[str, float, Any]] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, token: str) -> tuple[bool, Any]:
        with self.lock:
            found = self.values.get(key)
            if found and found[0] == token and found[1] > time.monotonic():
                self.values.move_to_end(key)
                self.hits += 1
                return True, found[2]
            self.misses += 1
            return False, None

    def put(self, key: Hashable, token: str, value: Any, seconds: float) -> None:
        with self.lock:
            self.values[key] = (token, time.monotonic() + seconds, value)
            self.values.move_to_end(key)
            while len(self.values) > self.size:
                self.values.popitem(last=False)


def store() -> _Store:
    app = current_app._get_current_object()
    found = app.extensions.get("oversight_cache")
    if found is None:
        found = app.extensions.setdefault("oversight_cache", _Store(int(app.config.get("OVERSIGHT_CACHE_SIZE", 512))))
    return found


def current_token() -> str | None:
    """The data's version as this transaction sees it (one statement), or None when nothing may be kept:
    the cache is off, the row is missing, or this transaction wrote to a watched table."""
    if not float(current_app.config.get("OVERSIGHT_CACHE_SECONDS", 300)):
        return None
    if db.session.connection().info.get(_PENDING):
        return None
    return db.session.scalar(select(DataVersion.token).where(DataVersion.id == 1))


class Version:
    """The token read once for a page, then used for each figure it shows."""

    def __init__(self) -> None:
        self.token = current_token()

    def get(self, name: str, key: Hashable, compute: Callable[[], T]) -> T:
        if self.token is None:
            return compute()
        kept = store()
        full_key = (name, key)
        hit, value = kept.get(full_key, self.token)
        if hit:
            return value
        value = compute()
        kept.put(full_key, self.token, value, float(current_app.config.get("OVERSIGHT_CACHE_SECONDS", 300)))
        return value
