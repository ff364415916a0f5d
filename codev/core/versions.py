"""Versions of the data, exact across processes: tokens the database holds, each replaced by every committed
write to the tables it watches, and values kept per process under the token they were computed for.

- **Scopes.** ``data_versions`` holds one row per scope, a random token. A scope watches a set of tables
  (the oversight figures watch the fifteen tables they read, :mod:`codev.oversight.cache`) or every table
  but :data:`UNWATCHED` (:data:`PAGES`, the kept pages of :mod:`codev.core.kept_pages`). A package
  registers its scope with :func:`watch`, never the other way round.
- **Writes.** Every transaction that inserts, updates or deletes a row of a watched table writes a new
  token for each scope it touched just before it commits, in the same transaction and in one statement (a
  listener on every engine: ORM flushes, bulk inserts and raw SQL alike, whichever blueprint wrote). A token
  therefore names one committed state of its scope's tables. Concurrent writers are not serialised by it:
  the rows are written last, in the order of their ids, so their locks are held for the commit only and
  taken after every other lock (no deadlock).
- **Reads.** A page reads its scope's token in one cheap statement (a primary-key lookup) and takes a kept
  value only under the same token: stateless servers on PostgreSQL agree without talking to each other,
  since they all read the one row. A transaction that wrote to a scope's tables and has not committed yet
  reads its own uncommitted rows: it neither reads nor fills what that scope keeps.
- **Safety nets.** Kept values also expire after a number of seconds (a write made outside the app — a
  human with ``sqlite3`` — is seen after that delay at most; 0 turns keeping off). When a row is missing (a
  table emptied by ``TRUNCATE``), nothing is kept until the next write puts a token back.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from flask import current_app
from sqlalchemy import Integer, String, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import Pool

from codev.extensions import db

TABLE = "data_versions"

FIGURES = 1  # the oversight figures (codev.oversight.cache registers their tables)
PAGES = 2  # every table but UNWATCHED: the kept pages (codev.core.kept_pages)

# Tables whose rows no page shows: the sign-in and request throttles, the scheduled jobs' locks (written by
# every run of a job), Alembic's own row, and this table.
UNWATCHED = frozenset({"login_attempts", "throttle_counters", "job_locks", "alembic_version", TABLE})

_SCOPES: dict[int, frozenset[str] | None] = {PAGES: None}

_WRITE = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)"?',
                    re.IGNORECASE)
_PENDING = "codev_data_version_pending"  # in the DBAPI connection's info: the scopes written, not yet committed


class DataVersion(db.Model):
    """One row per scope, whose token changes with every committed write to a table the scope watches."""

    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(32))


def watch(scope: int, tables: frozenset[str] | None) -> None:
    """Scope ``scope`` watches ``tables`` (``None``: every table but :data:`UNWATCHED`)."""
    _SCOPES[scope] = tables


def watched(scope: int) -> frozenset[str] | None:
    return _SCOPES[scope]


def scopes_written(statement: str) -> list[int]:
    """The scopes a statement's write touches (none for a read)."""
    head = statement.lstrip()[:6].upper()
    if head not in ("INSERT", "UPDATE", "DELETE"):
        return []
    found = _WRITE.match(statement)
    if not found:
        return []
    table = found.group(1).lower()
    if table in UNWATCHED:
        return []
    return [scope for scope, tables in _SCOPES.items() if tables is None or table in tables]


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn, cursor, statement, parameters, context, executemany) -> None:
    scopes = scopes_written(statement)
    if scopes:
        conn.info.setdefault(_PENDING, set()).update(scopes)


@event.listens_for(Engine, "commit")
def _new_tokens(conn) -> None:
    """Just before the commit, in the same transaction: a new token for each scope a write touched."""
    scopes = conn.info.pop(_PENDING, None)
    if not scopes:
        return
    # Hexadecimal tokens and integer ids: safe to write into the statement itself. One statement, its rows
    # in the order of their ids (the order every writer takes their locks in).
    rows = ", ".join(f"({scope}, '{secrets.token_hex(16)}')" for scope in sorted(scopes))
    upsert = (f"INSERT INTO {TABLE} (id, token) VALUES {rows} "  # noqa: S608 (no input in it)
              "ON CONFLICT (id) DO UPDATE SET token = excluded.token")
    # The table is missing while older migrations run (upgrading, downgrading): the write commits without a
    # token. A failed statement aborts a PostgreSQL transaction, hence the savepoint there; SQLite carries on
    # after one.
    postgres = conn.dialect.name == "postgresql"
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if postgres:
            cursor.execute("SAVEPOINT data_version")
        cursor.execute(upsert)
        if postgres:
            cursor.execute("RELEASE SAVEPOINT data_version")
    except conn.dialect.loaded_dbapi.Error:
        if postgres:
            cursor.execute("ROLLBACK TO SAVEPOINT data_version")
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


def written_here(scope: int) -> bool:
    """Whether this transaction wrote to a table of ``scope`` and has not committed yet."""
    return scope in db.session.connection().info.get(_PENDING, ())


def current_token(scope: int) -> str | None:
    """The scope's version as this transaction sees it (one statement), or None when nothing may be kept:
    the row is missing, or this transaction wrote to a table the scope watches."""
    if written_here(scope):
        return None
    return db.session.scalar(select(DataVersion.token).where(DataVersion.id == scope))


class Store:
    """(key → (token, expiry, value)), the oldest dropped past ``size`` entries; safe across threads."""

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


def store(name: str, size_setting: str, default_size: int) -> Store:
    """The app's store ``name`` (one per process), of ``size_setting`` entries."""
    app = current_app._get_current_object()
    found = app.extensions.get(name)
    if found is None:
        found = app.extensions.setdefault(name, Store(int(app.config.get(size_setting, default_size))))
    return found
