"""Scheduled jobs never overlap: one lock per job, whichever server or cron entry starts it.

``with job_lock("send-reminders") as held:`` — ``held`` is false when another run holds the lock (the
command then says "already running" and ends, successfully: the other run does the work).

- **PostgreSQL**: ``pg_try_advisory_lock`` on a connection of its own, kept for the whole job and
  unlocked at the end. A killed run's connection closes, and the server releases its lock at once.
- **SQLite**: a row of ``job_locks`` (name, holder, expires_at), taken by one atomic
  ``INSERT … ON CONFLICT (name) DO UPDATE … WHERE expires_at < now RETURNING`` and deleted at the end.
  A row older than ``JOB_LOCK_SECONDS`` is a killed run's and is taken over. A job that fails must roll
  its session back before the block ends (``codev.cli.scheduled`` does): the release waits for SQLite's
  write lock.

The lock is a courtesy that saves work; what may never happen twice is also guarded by the database
(reminders by the unique ``reminders_sent (grant_id, key)``, lapse by the grant's row lock, mail by each
message's claim). Several mail workers run at once on purpose, so ``send-mail`` takes no job lock.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, literal, text
from sqlalchemy.dialects import sqlite

from codev.core.models import JobLock
from codev.core.timeutil import UTCDateTime, utcnow
from codev.extensions import db


def lock_key(name: str) -> int:
    """The 64-bit advisory lock number of a job: the first 8 bytes of its name's SHA-256, signed."""
    return int.from_bytes(hashlib.sha256(f"codev-job:{name}".encode()).digest()[:8], "big", signed=True)


def holder_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


@contextmanager
def job_lock(name: str) -> Iterator[bool]:
    """Hold the lock of job ``name`` for the block; yields whether it was taken (False: another run has it)."""
    if db.engine.dialect.name == "postgresql":
        with _advisory_lock(name) as held:
            yield held
    else:
        with _row_lock(name) as held:
            yield held


@contextmanager
def _advisory_lock(name: str) -> Iterator[bool]:
    key = lock_key(name)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


@contextmanager
def _row_lock(name: str) -> Iterator[bool]:
    table = JobLock.__table__
    holder = holder_name()
    now = utcnow()
    expires = now + timedelta(seconds=int(current_app.config["JOB_LOCK_SECONDS"]))
    insert = sqlite.insert(table).values(name=name, holder=holder, expires_at=expires)
    statement = insert.on_conflict_do_update(
        index_elements=["name"], set_={"holder": holder, "expires_at": literal(expires, UTCDateTime())},
        where=table.c.expires_at < literal(now, UTCDateTime()),
    ).returning(table.c.holder)
    with db.engine.begin() as connection:
        held = connection.execute(statement).first() is not None
    try:
        yield held
    finally:
        if held:
            with db.engine.begin() as connection:
                connection.execute(delete(table).where(table.c.name == name, table.c.holder == holder))
