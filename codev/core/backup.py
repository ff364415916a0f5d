"""``flask --app codev backup DEST`` and ``restore ARCHIVE``: the database and every stored file, one archive.

An archive is a tar file (gzip-compressed when its name ends ``.tar.gz``) holding:

- ``database.sqlite3`` (SQLite's online backup API: a consistent copy while the app writes) or
  ``database.pgdump`` (``pg_dump --format=custom``, run in a snapshot exported from a transaction that
  also counts the rows, so the counts describe exactly what was dumped);
- ``files/<key>``: every object of the file store, read through :func:`codev.core.storage.storage`
  (so a bucket is backed up like a folder);
- ``manifest.json``, last: the format, when, codev's version, the Alembic revision, the database kind,
  the rows of every table, and the size and SHA-256 of every other member.

A backup is written under a hidden temporary name and renamed once complete: a file named like a backup
is a whole one. A restore reads the whole archive and compares every member with the manifest before
it changes anything, goes only into an empty database and an empty store, and then runs
:func:`verify_invariants`: the checks of core (attachments' bytes, the audit trail's guard, the rows of
every table) and those the later steps of the programme registered with :func:`check_with` (envelopes,
rule 4, ledgers, letters — ``codev.grants.invariants``); see :mod:`codev.core.invariants`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess  # noqa: S404 (pg_dump / pg_restore, with argument lists, never a shell)
import tarfile
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, make_url

from codev.core.invariants import report, verify_invariants
from codev.core.storage import StorageError, storage
from codev.extensions import db

FORMAT = 1
MANIFEST = "manifest.json"
FILES = "files/"
DATABASE_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1024 * 1024
PG_LIB = Path("/usr/lib/postgresql")  # Debian's versioned client tools: <major>/bin/pg_dump
PROBLEMS_SHOWN = 10  # damaged members named in the refusal; the rest are counted


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message tells the operator why and what to do."""


Say = Callable[[str], None]


def quiet(_line: str) -> None:
    pass


# --- sizes, progress -------------------------------------------------------------------------


def seconds(value: float) -> str:
    """0.0421 → "42 ms", 3.21 → "3.2 s"."""
    return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"


def human_size(size: int) -> str:
    """1 536 000 → "1.5 MB" (operators' output, English)."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


class Progress:
    """"files 120/3400 (12.1 MB)" lines: at most one every two seconds, and the last; readable in a cron log."""

    def __init__(self, say: Say, label: str, total: int) -> None:
        self.say, self.label, self.total = say, label, total
        self.done = self.size = 0
        self._shown = time.monotonic()

    def step(self, size: int) -> None:
        self.done += 1
        self.size += size
        now = time.monotonic()
        if self.done == self.total or now - self._shown >= 2:
            self._shown = now
            self.say(f"{self.label} {self.done}/{self.total} ({human_size(self.size)})")


# --- what the database holds ----------------------------------------------------------------


def database_kind() -> str:
    """"sqlite" or "postgresql": the two engines codev runs on."""
    kind = db.engine.dialect.name
    if kind not in DATABASE_MEMBER:
        raise BackupError(f"cannot back up a {kind} database (SQLite and PostgreSQL only)")
    return kind


def table_counts(connection: Connection) -> dict[str, int]:
    """Rows of every table the database holds (codev's and Alembic's), by name."""
    quote = connection.dialect.identifier_preparer.quote
    names = sorted(inspect(connection).get_table_names())
    return {name: int(connection.scalar(text(f"SELECT count(*) FROM {quote(name)}"))) for name in names}  # noqa: S608


def alembic_revision(connection: Connection) -> str | None:
    """The migration the database stands at (None when it was made by ``create_all``, as in the tests)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.scalar(text("SELECT version_num FROM alembic_version"))


def migrations_head() -> str | None:
    """The latest migration of this code (None when the app has no migrations folder)."""
    from alembic.script import ScriptDirectory

    migrate = current_app.extensions.get("migrate")
    if migrate is None:
        return None
    return ScriptDirectory(migrate.directory).get_current_head()


def codev_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("codev")
    except PackageNotFoundError:
        return "unknown"


def sqlite_path() -> Path:
    path = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError("the SQLite database is not a file (SQLALCHEMY_DATABASE_URI); nothing to back up")
    return Path(path)


# --- PostgreSQL tools --------------------------------------------------------------------------


def _pg_env() -> dict[str, str]:
    """The connection settings of the configured database as libpq variables: no password on a command line."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = dict(os.environ)
    for variable, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                            ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value:
            env[variable] = str(value)
    for option, variable in (("host", "PGHOST"), ("port", "PGPORT"), ("sslmode", "PGSSLMODE"),
                             ("sslrootcert", "PGSSLROOTCERT"), ("sslcert", "PGSSLCERT"), ("sslkey", "PGSSLKEY")):
        value = url.query.get(option)
        if value:
            env[variable] = value if isinstance(value, str) else value[0]
    return env


def server_major(connection: Connection) -> int:
    return int(connection.scalar(text("SHOW server_version_num"))) // 10000


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True, timeout=30).stdout  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\)\s*(\d+)", out)  # "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    return int(found.group(1)) if found else None


def pg_tool(name: str, server_major: int) -> str:
    """``pg_dump`` or ``pg_restore`` for a server of ``server_major``: the same major version when installed.

    Looks in ``PG_BIN_DIR`` (a setting, ``CODEV_PG_BIN_DIR``), then Debian's ``/usr/lib/postgresql/<v>/bin``
    (the server's version, else the nearest newer one: pg_dump refuses a server newer than itself), then
    the ``PATH``.
    """
    configured = current_app.config.get("PG_BIN_DIR")
    if configured:
        path = Path(configured) / name
        if not os.access(path, os.X_OK):
            raise BackupError(f"{name} not found in PG_BIN_DIR ({configured})")
        return str(path)
    installed = {}
    for path in PG_LIB.glob(f"*/bin/{name}"):
        if path.parent.parent.name.isdigit() and os.access(path, os.X_OK):
            installed[int(path.parent.parent.name)] = str(path)
    newer = sorted(v for v in installed if v >= server_major)
    if newer:
        return installed[newer[0]]
    on_path = shutil.which(name)
    if on_path:
        major = _tool_major(on_path)
        if major is not None and major >= server_major:
            return on_path
        raise BackupError(f"{on_path} is version {major}, older than the PostgreSQL {server_major} server: install "
                          f"postgresql-client-{server_major} (Debian/Ubuntu) or set CODEV_PG_BIN_DIR")
    raise BackupError(f"{name} not found: install the PostgreSQL {server_major} client tools "
                      f"(Debian/Ubuntu: apt install postgresql-client-{server_major}; elsewhere the package "
                      "postgresql-client) or set CODEV_PG_BIN_DIR to the folder that holds them")


def run_pg_tool(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line][-8:]
        raise BackupError(f"{what} failed (exit {done.returncode}): " + " / ".join(lines))


# --- backup ---------------------------------------------------------------------------------------


@dataclass
class DatabaseCopy:
    path: Path
    counts: dict[str, int]
    revision: str | None
    server: str | None = None


def _copy_sqlite(target: Path) -> DatabaseCopy:
    """SQLite's online backup API, in one step: a consistent snapshot, however much the app writes meanwhile."""
    source_path = sqlite_path()
    if not source_path.is_file():
        raise BackupError(f"the SQLite database {source_path} does not exist")
    with closing(sqlite3.connect(source_path, timeout=60)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)  # pages=-1: every page under one read lock (WAL: the writers go on)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return DatabaseCopy(target, table_counts(connection), alembic_revision(connection),
                                sqlite3.sqlite_version)
    finally:
        engine.dispose()


def _dump_postgres(target: Path) -> DatabaseCopy:
    """pg_dump in a snapshot exported by a transaction that counts the same rows (the manifest is exact)."""
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            major = server_major(connection)
            tool = pg_tool("pg_dump", major)
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            run_pg_tool([tool, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                  f"--file={target}"], "pg_dump")
            counts, revision = table_counts(connection), alembic_revision(connection)
            server = connection.scalar(text("SHOW server_version"))
    return DatabaseCopy(target, counts, revision, server)


def archive_path(dest: str | Path, now: datetime) -> Path:
    """DEST itself when it names a .tar or .tar.gz file, else codev-backup-<UTC time>.tar inside folder DEST."""
    dest = Path(dest)
    if dest.name.endswith((".tar", ".tar.gz")):
        return dest
    return dest / f"codev-backup-{now:%Y%m%dT%H%M%SZ}.tar"


@dataclass
class BackupResult:
    path: Path
    manifest: dict
    size: int
    seconds: float

    def summary(self) -> str:
        counts = self.manifest["counts"]
        tables = counts["tables"]
        database = self.manifest["members"][self.manifest["database"]["member"]]["size"]
        main = ", ".join(f"{tables.get(t, 0)} {t}" for t in
                         ("users", "projects", "grants", "award_letters", "attachments"))
        return (f"backup written: {self.path} ({human_size(self.size)}) in {seconds(self.seconds)}\n"
                f"  database: {self.manifest['database']['kind']}, {human_size(database)}, "
                f"{sum(tables.values())} rows in {len(tables)} tables ({main}); "
                f"revision {self.manifest['alembic_revision'] or 'none (made without migrations)'}\n"
                f"  files: {counts['files']}, {human_size(counts['file_bytes'])}")


def _add(tar: tarfile.TarFile, name: str, stream: Any, size: int, members: dict, mtime: float) -> None:
    """Add one member from ``stream`` (``size`` bytes), its SHA-256 computed on the way into the archive."""
    digest = hashlib.sha256()

    class Hashing:
        def read(self, n: int = -1) -> bytes:
            chunk = stream.read(n)
            digest.update(chunk)
            return chunk

    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(mtime)
    tar.addfile(info, Hashing())
    members[name] = {"size": size, "sha256": digest.hexdigest()}


def create_backup(dest: str | Path, say: Say = quiet) -> BackupResult:
    """Write an archive of the database and every stored file under ``dest``; BackupError when it cannot."""
    started = time.monotonic()
    now = datetime.now(UTC).replace(microsecond=0)
    path = archive_path(dest, now)
    if path.exists():
        raise BackupError(f"{path} already exists; a backup never overwrites one")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create {folder}: {exc.strerror or exc}") from exc
    kind = database_kind()
    store = storage()
    partial = folder / f".{path.name}.partial-{os.getpid()}"
    try:
        with tempfile.TemporaryDirectory(dir=folder, prefix=".codev-backup-") as work:
            say(f"database: {kind} …")
            member = DATABASE_MEMBER[kind]
            copied = (_copy_sqlite if kind == "sqlite" else _dump_postgres)(Path(work) / member)
            db_size = copied.path.stat().st_size
            say(f"database: {human_size(db_size)}, {sum(copied.counts.values())} rows in {len(copied.counts)} tables")
            keys = list(store.keys())  # after the database: every file the copy refers to was stored before it
            members: dict[str, dict] = {}
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # personal data: the owner only
            with os.fdopen(fd, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w:gz" if path.name.endswith(".gz") else "w") as tar:
                    with open(copied.path, "rb") as stream:
                        _add(tar, member, stream, db_size, members, now.timestamp())
                    progress = Progress(say, "files", len(keys))
                    file_bytes = 0
                    for key in keys:
                        with store.open(key) as stream:
                            data = stream.read()
                        _add(tar, FILES + key, io.BytesIO(data), len(data), members, now.timestamp())
                        file_bytes += len(data)
                        progress.step(len(data))
                    manifest = {
                        "format": FORMAT,
                        "created_at": now.isoformat().replace("+00:00", "Z"),
                        "codev_version": codev_version(),
                        "alembic_revision": copied.revision,
                        "database": {"kind": kind, "member": member, "server_version": copied.server},
                        "storage": store.name,
                        "counts": {"tables": copied.counts, "files": len(keys), "file_bytes": file_bytes},
                        "members": members,
                    }
                    body = json.dumps(manifest, indent=1, sort_keys=True).encode()
                    info = tarfile.TarInfo(MANIFEST)
                    info.size, info.mode, info.mtime = len(body), 0o600, int(now.timestamp())
                    tar.addfile(info, io.BytesIO(body))
                raw.flush()
                os.fsync(raw.fileno())
        os.replace(partial, path)  # only now does a file carry the backup's name
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    except (OSError, StorageError, tarfile.TarError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup failed, nothing written: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(path, manifest, path.stat().st_size, time.monotonic() - started)


# --- restore ---------------------------------------------------------------------------------------


@click.command("backup")
@click.argument("dest", type=click.Path(dir_okay=True, file_okay=True, path_type=Path))
@with_appcontext
def backup_command(dest: Path) -> None:
    """Write the database and every stored file to one archive in DEST (a folder, or a .tar/.tar.gz name)."""
    try:
        result = create_backup(dest, say=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(result.summary())


@click.command("check-data")
@with_appcontext
def check_data_command() -> None:
    """Check the data: envelopes, rule 4, ledgers, letters' and attachments' fingerprints (exit 1 if any fails)."""
    if not report(verify_invariants()):
        raise click.ClickException("the data fails the checks above")


COMMANDS: list = [backup_command, check_data_command]  # restore: codev/core/restore.py
