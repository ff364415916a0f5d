"""Checks of what must hold in the data whatever happened: run after a restore and by ``flask --app codev
check-data``.

Core checks its own (every attachment's bytes in the store with its recorded SHA-256, the audit trail
still append-only); a later step of the programme adds the checks of its own data with :func:`check_with`
(``codev.grants.invariants``: envelopes, rule 4, ledgers, letters), registered when the app is built.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import click
from sqlalchemy import select, text

from codev.core.appendonly import create_statements
from codev.core.models import Attachment
from codev.core.storage import storage
from codev.extensions import db

CHUNK = 1024 * 1024
PROBLEMS_SHOWN = 10  # per check; the rest are counted


@dataclass
class CheckResult:
    """One check of the data: what it read, and each problem it found, in words."""

    title: str
    checked: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        head = f"{'ok  ' if self.ok else 'FAIL'} {self.title} ({self.checked} checked"
        head += ")" if self.ok else f", {len(self.problems)} wrong)"
        shown = [f"       {problem}" for problem in self.problems[:PROBLEMS_SHOWN]]
        if len(self.problems) > PROBLEMS_SHOWN:
            shown.append(f"       … and {len(self.problems) - PROBLEMS_SHOWN} more")
        return [head, *shown]


Check = Callable[[], CheckResult]
_CHECKS: dict[str, Check] = {}


def check_with(*checks: Check) -> None:
    """A later step of the programme adds the checks of its own data (``codev.grants.invariants``)."""
    for check in checks:
        _CHECKS[f"{check.__module__}.{check.__qualname__}"] = check


def triggers_present() -> set[str]:
    """The names of the triggers the database holds (a later step checks its own are there)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        return set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    return set(connection.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))


def append_only_problems(tables: Iterable[str]) -> list[str]:
    """The tables among ``tables`` whose append-only triggers are missing (UPDATE and DELETE must fail)."""
    dialect = db.session.connection().dialect.name
    present = triggers_present()
    problems = []
    for table in tables:
        wanted = {m.group(1) for s in create_statements(table, dialect) if (m := re.search(r"TRIGGER (\w+)", s))}
        if not wanted <= present:
            problems.append(f"{table}: the append-only trigger is missing ({', '.join(sorted(wanted - present))})")
    return problems


def check_attachments() -> CheckResult:
    """Every attachment's bytes are in the store, with the size and SHA-256 the database recorded."""
    store = storage()
    problems, checked = [], 0
    rows = db.session.execute(
        select(Attachment.id, Attachment.stored_name, Attachment.size, Attachment.sha256).order_by(Attachment.id))
    for attachment_id, key, size, sha256 in rows:
        checked += 1
        digest, length = hashlib.sha256(), 0
        try:
            with store.open(key) as stream:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    length += len(chunk)
        except FileNotFoundError:
            problems.append(f"attachment {attachment_id} ({key}): no such file in the store")
            continue
        if (length, digest.hexdigest()) != (size, sha256):
            problems.append(f"attachment {attachment_id} ({key}): {length} bytes with SHA-256 "
                            f"{digest.hexdigest()[:12]}…, recorded {size} bytes with {sha256[:12]}…")
    return CheckResult("every attachment's bytes in the file store, size and SHA-256 as recorded", checked, problems)


def check_audit_trail() -> CheckResult:
    """The audit trail is still append-only."""
    return CheckResult("the audit trail is append-only (its triggers are in place)", 1,
                       append_only_problems(["audit_events"]))


def verify_invariants() -> list[CheckResult]:
    """Run core's checks and every registered one; a check that breaks counts as a failure, with its error."""
    results = []
    for check in (check_attachments, check_audit_trail, *_CHECKS.values()):
        try:
            results.append(check())
        except Exception as exc:  # a broken database must be reported, not crash the report
            db.session.rollback()
            title = (check.__doc__ or check.__name__).strip().splitlines()[0]
            results.append(CheckResult(title, 0, [f"the check could not run: {exc.__class__.__name__}: {exc}"]))
    db.session.rollback()  # read only; leave no transaction open
    return results


def report(results: list[CheckResult]) -> bool:
    """Print each check and its problems; whether all passed."""
    for result in results:
        for line in result.lines():
            click.echo(line)
    failed = [r for r in results if not r.ok]
    click.echo(f"{len(results) - len(failed)} of {len(results)} checks passed")
    return not failed
