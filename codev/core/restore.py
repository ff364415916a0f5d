"""``flask --app codev restore ARCHIVE``: an archive of ``backup`` checked member by member, then put back into an
empty database and an empty file store, and the programme's checks run on what came back."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tarfile
import tempfile
import time
import zlib
from contextlib import closing
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import inspect, text

from codev.core.backup import (
    CHUNK,
    DATABASE_MEMBER,
    FILES,
    FORMAT,
    MANIFEST,
    PROBLEMS_SHOWN,
    BackupError,
    Progress,
    Say,
    database_kind,
    human_size,
    migrations_head,
    pg_tool,
    quiet,
    run_pg_tool,
    seconds,
    server_major,
    sqlite_path,
    table_counts,
)
from codev.core.invariants import CheckResult, report, verify_invariants
from codev.core.schema import refresh_statistics
from codev.core.storage import StorageError, storage
from codev.extensions import db


def _open_archive(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:*")
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise BackupError(f"{path} is not a readable codev archive: {exc}") from exc


def verify_archive(path: str | Path, say: Say = quiet) -> dict:
    """Read every member of the archive and compare it with the manifest; the manifest, or BackupError.

    Nothing is written anywhere: a corrupted or incomplete archive is refused before a restore begins.
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    found: dict[str, dict] = {}
    manifest_bytes = None
    try:
        with _open_archive(path) as tar:
            for member in tar:
                if not member.isfile():
                    raise BackupError(f"{path}: unexpected member {member.name!r} (not a file)")
                if member.name in found or (member.name == MANIFEST and manifest_bytes is not None):
                    raise BackupError(f"{path}: member {member.name!r} appears twice")
                with tar.extractfile(member) as stream:
                    if member.name == MANIFEST:
                        manifest_bytes = stream.read()
                        continue
                    digest = hashlib.sha256()
                    while chunk := stream.read(CHUNK):
                        digest.update(chunk)
                found[member.name] = {"size": member.size, "sha256": digest.hexdigest()}
    except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path} is damaged (reading it failed: {exc}); nothing was restored") from exc
    if manifest_bytes is None:
        raise BackupError(f"{path} has no {MANIFEST}: not a codev backup, or an incomplete one")
    try:
        manifest = json.loads(manifest_bytes)
        expected = manifest["members"]
        kind = manifest["database"]["kind"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{path}: the manifest is damaged ({exc.__class__.__name__})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: archive format {manifest.get('format')!r}; this codev reads format {FORMAT}")
    if kind not in DATABASE_MEMBER or manifest["database"].get("member") not in expected:
        raise BackupError(f"{path}: the manifest names no database of a known kind")
    damaged = sorted(name for name in expected.keys() & found.keys() if expected[name] != found[name])
    missing = sorted(expected.keys() - found.keys())
    extra = sorted(found.keys() - expected.keys())
    problems = ([f"{name}: SHA-256 or size differs from the manifest" for name in damaged]
                + [f"{name}: listed in the manifest, absent from the archive" for name in missing]
                + [f"{name}: in the archive, not in the manifest" for name in extra])
    if problems:
        shown = "; ".join(problems[:PROBLEMS_SHOWN]) + ("; …" if len(problems) > PROBLEMS_SHOWN else "")
        raise BackupError(f"{path} is damaged ({len(problems)} members): {shown}. Nothing was restored.")
    say(f"archive verified: {len(found)} members match the manifest of {manifest['created_at']}")
    return manifest


def _database_is_empty() -> list[str]:
    """The tables already in the configured database (empty when a restore may go there)."""
    db.engine.dispose()
    if db.engine.dialect.name == "sqlite" and not sqlite_path().exists():
        return []
    with db.engine.connect() as connection:
        return sorted(inspect(connection).get_table_names())


def check_target() -> None:
    """Refuse, before anything is read or written, a restore into a database or a store that holds anything."""
    database_kind()
    tables = _database_is_empty()
    if tables:
        raise BackupError(
            f"the database is not empty ({len(tables)} tables, e.g. {', '.join(tables[:3])}): a restore goes only into "
            "an empty database. Create a new one (PostgreSQL: createdb; SQLite: a new file in DATABASE_URL) and run "
            "the restore again; nothing was changed")
    first = next(iter(storage().keys()), None)
    if first is not None:
        raise BackupError(f"the file store ({storage().name}) is not empty (e.g. {first}): a restore goes only into an "
                          "empty store (UPLOAD_FOLDER or the bucket); nothing was changed")


def _extract_checked(tar: tarfile.TarFile, name: str, expected: dict, target: Path) -> None:
    """Copy member ``name`` to ``target``, checking its SHA-256 again on the way (the file is read twice)."""
    digest = hashlib.sha256()
    with tar.extractfile(name) as stream, open(target, "xb") as out:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != expected["sha256"]:
        raise BackupError(f"{name} changed while it was being restored")


def _restore_sqlite(source: Path) -> None:
    target = sqlite_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    db.engine.dispose()
    with closing(sqlite3.connect(source)) as copy, closing(sqlite3.connect(target, timeout=60)) as live:
        copy.backup(live)
    db.engine.dispose()


def _restore_postgres(source: Path) -> None:
    with db.engine.connect() as connection:
        major = server_major(connection)
        database = connection.scalar(text("SELECT current_database()"))
    db.engine.dispose()
    tool = pg_tool("pg_restore", major)
    run_pg_tool([tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={database}", str(source)], "pg_restore")
    db.engine.dispose()
    refresh_statistics()  # pg_restore brings the rows, not the planner's statistics


def restore_archive(path: str | Path, say: Say = quiet) -> dict:
    """Verify the archive, then restore its database and files into this (empty) app; the manifest."""
    path = Path(path)
    check_target()
    manifest = verify_archive(path, say)
    kind, target = manifest["database"]["kind"], database_kind()
    if kind != target:
        raise BackupError(f"the archive holds a {kind} database and this app is configured for {target}: restore "
                          "into the same kind of database (DATABASE_URL); nothing was changed")
    members = manifest["members"]
    member = manifest["database"]["member"]
    store = storage()
    keys = sorted(name for name in members if name.startswith(FILES))
    with _open_archive(path) as tar, tempfile.TemporaryDirectory(prefix="codev-restore-") as work:
        source = Path(work) / member
        _extract_checked(tar, member, members[member], source)
        say(f"database: restoring {kind} ({human_size(members[member]['size'])}) …")
        try:
            (_restore_sqlite if kind == "sqlite" else _restore_postgres)(source)
        except sqlite3.Error as exc:
            raise BackupError(f"restoring the SQLite database failed: {exc}") from exc
        say("database: restored")
        progress = Progress(say, "files", len(keys))
        restored = 0
        try:
            for name in keys:
                with tar.extractfile(name) as stream:
                    data = stream.read()
                if hashlib.sha256(data).hexdigest() != members[name]["sha256"]:
                    raise BackupError(f"{name} changed while it was being restored")
                store.put(name[len(FILES):], data)
                restored += 1
                progress.step(len(data))
        except (OSError, StorageError, tarfile.TarError) as exc:
            raise BackupError(f"the database is restored but {len(keys) - restored} of {len(keys)} files are not "
                              f"({exc}); empty the database and the store, then restore again") from exc
    return manifest


# --- after a restore ------------------------------------------------------------------------------


def check_counts(expected: dict[str, int]) -> CheckResult:
    """Every table holds as many rows as the manifest says the backup held."""
    with db.engine.connect() as connection:
        found = table_counts(connection)
    problems = [f"{table}: {found.get(table, 'no table')} rows, the backup held {rows}"
                for table, rows in sorted(expected.items()) if found.get(table) != rows]
    problems += [f"{table}: a table the backup did not have" for table in sorted(found.keys() - expected.keys())]
    return CheckResult("rows of every table as in the manifest", len(expected), problems)


# --- commands --------------------------------------------------------------------------------------


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(archive: Path) -> None:
    """Restore an archive into an empty database and an empty file store, then check the data."""
    started = time.monotonic()
    try:
        manifest = restore_archive(archive, say=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored {archive} ({manifest['created_at']}, codev {manifest['codev_version']}) "
               f"in {seconds(time.monotonic() - started)}; checking the data …")
    ok = report([check_counts(manifest["counts"]["tables"]), *verify_invariants()])
    revision, head = manifest.get("alembic_revision"), migrations_head()
    if revision and head and revision != head:
        click.echo(f"the database stands at migration {revision}, this code's latest is {head}: "
                   "run `flask --app codev db upgrade`")
    if not ok:
        raise click.ClickException("the restored data fails the checks above")



COMMANDS: list = [restore_command]
