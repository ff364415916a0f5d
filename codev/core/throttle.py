"""Throttling that holds under bursts: a counter per (scope, key), claimed in one guarded UPDATE.

A request about to do something limited (check a password, send a reset link, register, hash an
upload) first claims a slot for each of its keys (an email, an address):

1. ``INSERT … ON CONFLICT DO NOTHING`` makes sure the key's counter row exists;
2. ``UPDATE … SET hits = hits + 1 WHERE scope = … AND key = … AND (hits < :limit OR window over)``
   takes the slot or not, and its row count is the answer.

There is no read-then-write gap: on PostgreSQL the UPDATE locks the row and, under READ COMMITTED,
re-checks its WHERE on the newest version when another transaction held the row, so N parallel
requests get exactly the slots that are left; SQLite serialises writers. A window opens at a key's
first claim and lasts the rule's time; the first claim after it ends opens the next (in the same
UPDATE). A refused claim takes nothing; ``Claim.release()`` gives the slots back (a sign-in that
succeeds, so that the limit counts failures).

Counters are written in their own short transaction, committed at once: an attempt stays counted
whatever the request does next, and no row lock is held while a password is hashed. Only when the
caller's session already holds SQLite's write lock (it wrote before claiming) does the claim join the
caller's transaction, since a second connection would wait for that lock forever.
Old rows are removed by :func:`prune` (``flask --app codev prune-throttle``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from flask import current_app
from sqlalchemy import Connection, and_, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from codev.core.i18n import ngettext
from codev.core.models import ThrottleCounter
from codev.core.timeutil import UTCDateTime, utcnow
from codev.extensions import db

T = TypeVar("T")
KEY_MAX = 200  # longer keys are stored as their SHA-256 (the column holds 255)


@dataclass(frozen=True)
class Rule:
    """A limit on one action per one kind of key, read from two settings (count, window)."""

    scope: str  # e.g. "login.email"; one counter per (scope, key)
    limit_setting: str  # name of the setting: most claims per window
    window_setting: str  # name of the setting: the window, a timedelta or seconds

    def limit(self) -> int:
        return int(current_app.config[self.limit_setting])

    def window(self) -> timedelta:
        value = current_app.config[self.window_setting]
        return value if isinstance(value, timedelta) else timedelta(seconds=int(value))


@dataclass(frozen=True)
class Slot:
    scope: str
    key: str
    expires_at: datetime  # the end of the window the slot was taken in


@dataclass
class Claim:
    """The outcome of :func:`claim`: true when every limit had room (and a slot of each is taken)."""

    granted: bool
    slots: tuple[Slot, ...] = ()
    retry_after: timedelta | None = None  # when refused: until the full window's end
    released: bool = field(default=False, repr=False)

    def __bool__(self) -> bool:
        return self.granted

    def release(self) -> None:
        """Give the slots back (once), so this attempt does not count against the limits."""
        if self.released or not self.slots:
            return
        self.released = True
        _in_own_transaction(lambda connection: _give_back(connection, self.slots))

    @property
    def minutes(self) -> int:
        """Whole minutes to wait before trying again (at least 1)."""
        seconds = self.retry_after.total_seconds() if self.retry_after else 60
        return max(1, math.ceil(seconds / 60))


def stored_key(value: str) -> str:
    """The key as stored: as given when short, else its SHA-256 (never truncated into another's)."""
    if len(value) <= KEY_MAX:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def address(ip: str | None) -> str | None:
    """The key of a remote address: IPv4 as it is, IPv6 by its /64 (what one subscriber usually gets)."""
    if not ip:
        return None
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def claim(*limits: tuple[Rule, str | None]) -> Claim:
    """Take one slot of each ``(rule, key)`` in one transaction, or none if any rule is full.

    A key that is None or empty is skipped (e.g. no remote address). Claims of one action must list
    their rules in the same order, so that PostgreSQL locks rows in one order and never deadlocks.
    """
    wanted = [(rule, stored_key(key)) for rule, key in limits if key]
    if not wanted:
        return Claim(True)
    return _in_own_transaction(lambda connection: _take(connection, wanted))


def _take(connection: Connection, wanted: list[tuple[Rule, str]]) -> Claim:
    now = utcnow()
    taken: list[Slot] = []
    for rule, key in wanted:
        slot, retry_after = _take_one(connection, rule, key, now)
        if slot is None:
            _give_back(connection, taken)
            return Claim(False, retry_after=retry_after)
        taken.append(slot)
    return Claim(True, tuple(taken))


def _take_one(connection: Connection, rule: Rule, key: str, now: datetime) -> tuple[Slot | None, timedelta]:
    """One slot of ``rule`` for ``key``, or None and how long until the window ends."""
    table = ThrottleCounter.__table__
    limit, window = rule.limit(), rule.window()
    here = and_(table.c.scope == rule.scope, table.c.key == key)
    over = table.c.expires_at <= literal(now, UTCDateTime())
    for _attempt in range(2):  # twice: a prune may delete an expired row between the INSERT and the UPDATE
        connection.execute(_insert_missing(connection).values(
            scope=rule.scope, key=key, hits=0, started_at=now, expires_at=now + window,
        ).on_conflict_do_nothing(index_elements=["scope", "key"]))
        row = connection.execute(
            update(table)
            .where(here, or_(table.c.hits < limit, over))
            .values(
                hits=case((over, 1), else_=table.c.hits + 1),
                started_at=case((over, literal(now, UTCDateTime())), else_=table.c.started_at),
                expires_at=case((over, literal(now + window, UTCDateTime())), else_=table.c.expires_at),
            )
            .returning(table.c.expires_at)
        ).first()
        if row is not None:
            return Slot(rule.scope, key, row.expires_at), timedelta(0)
        ends = connection.execute(select(table.c.expires_at).where(here)).scalar()
        if ends is not None:
            return None, max(ends - now, timedelta(0))
    return None, window


def _insert_missing(connection: Connection):
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(ThrottleCounter.__table__)


def _give_back(connection: Connection, slots: list[Slot] | tuple[Slot, ...]) -> None:
    table = ThrottleCounter.__table__
    for slot in slots:
        connection.execute(
            update(table)
            .where(table.c.scope == slot.scope, table.c.key == slot.key, table.c.hits > 0,
                   table.c.expires_at == literal(slot.expires_at, UTCDateTime()))
            .values(hits=table.c.hits - 1)
        )


def in_own_transaction(work: Callable[[Connection], T]) -> T:
    """Run ``work(connection)`` in a short transaction committed at once (or in the caller's SQLite write
    transaction, see the module's note): for writes that must stay whatever the request does next."""
    return _in_own_transaction(work)


def _in_own_transaction(work: Callable[[Connection], T]) -> T:
    """Run ``work`` in a short transaction of its own, committed at once (see the module's note)."""
    session = db.session()  # the scoped session's current Session
    if session.in_transaction():
        connection = session.connection()
        if connection.dialect.name == "sqlite" and connection.connection.dbapi_connection.in_transaction:
            return work(connection)  # the caller holds SQLite's write lock: join its transaction
    with db.engine.begin() as connection:
        return work(connection)


def prune(now: datetime | None = None) -> int:
    """Delete the counters whose window is over (they would start again from zero); how many.

    Runs in the caller's transaction (the CLI command commits).
    """
    table = ThrottleCounter.__table__
    result = db.session.execute(delete(table).where(table.c.expires_at <= literal(now or utcnow(), UTCDateTime())))
    return result.rowcount


def wait_message(claim: Claim) -> str:
    """What a refused person reads, in their language."""
    return ngettext(
        "Too many attempts. Wait %(num)d minute before trying again.",
        "Too many attempts. Wait %(num)d minutes before trying again.",
        claim.minutes,
    )


def retry_after_header(claim: Claim) -> dict[str, str]:
    """The ``Retry-After`` header of a 429 answer."""
    return {"Retry-After": str(claim.minutes * 60)}
