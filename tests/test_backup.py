"""Backups and restore (issue 12): the demo programme backed up and restored into an empty database and an
empty store holds the same people, projects, grants, letters and files, byte for byte, on SQLite and
PostgreSQL; a damaged archive, a database or a store that holds anything are refused before anything is
written; SQLite's copy is consistent while another connection writes; the checks find what was broken."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import tarfile
import threading
import time
from contextlib import closing, contextmanager
from datetime import date

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from codev import create_app
from codev.accounts.models import User
from codev.calls.models import Call
from codev.core import backup
from codev.core.invariants import verify_invariants
from codev.core.models import Attachment
from codev.core.storage import storage
from codev.demo import seed_demo
from codev.extensions import db as _db
from codev.grants.models import AwardLetter, ContributionEntry, Disbursement, Grant
from codev.projects.models import Project
from tests.conftest import POSTGRES_URL, reset_postgres

COUNTED = {"users": User, "projects": Project, "grants": Grant, "letters": AwardLetter, "attachments": Attachment,
           "ledger entries": ContributionEntry, "disbursements": Disbursement}


def facts() -> dict:
    """What a restore must give back: the counts, each letter's PDF, each attachment's bytes, the envelopes."""
    session = _db.session
    store = storage()
    files = {}
    for key, sha256 in session.execute(select(Attachment.stored_name, Attachment.sha256)):
        with store.open(key) as stream:
            files[key] = stream.read()
        assert hashlib.sha256(files[key]).hexdigest() == sha256
    return {
        "counts": {name: session.scalar(select(func.count()).select_from(model)) for name, model in COUNTED.items()},
        "letters": {ref: (sha, hashlib.sha256(pdf).hexdigest())
                    for ref, sha, pdf in session.execute(select(AwardLetter.reference, AwardLetter.sha256,
                                                                AwardLetter.pdf))},
        "files": files,
        "committed": dict(session.execute(select(Call.id, Call.committed_xof)).all()),
    }


@contextmanager
def other_app(config: dict):
    """Another installation of codev (its own database and store), its context pushed; nothing created."""
    app = create_app(config)
    with app.app_context():
        try:
            yield app
        finally:
            _db.session.remove()
            _db.engine.dispose()


def restore(app, archive) -> tuple[int, str]:
    """``flask --app codev restore ARCHIVE`` in ``app``: exit code and output."""
    result = app.test_cli_runner().invoke(args=["restore", str(archive)])
    return result.exit_code, result.output


def tables_in() -> list[str]:
    from sqlalchemy import inspect

    _db.engine.dispose()
    with _db.engine.connect() as connection:
        return inspect(connection).get_table_names()


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory):
    """The demo programme on SQLite and its backup (made once for the tests that only restore it)."""
    folder = tmp_path_factory.mktemp("demo")
    config = _config(folder, "demo")
    with other_app(config):
        _db.create_all()
        seed_demo()
        _db.session.commit()
        original = facts()
        result = backup.create_backup(folder / "backups")
    return result.path, original


def _config(folder, name: str, url: str | None = None) -> dict:
    return {"ENV_NAME": "test", "TESTING": True, "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{folder / (name + '.sqlite3')}",
            "UPLOAD_FOLDER": str(folder / f"{name}-uploads"), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SERVER_NAME": "localhost", "MAIL_SERVER": None}


@pytest.mark.backends
def test_the_demo_comes_back_byte_for_byte_in_an_empty_database_and_store(app, db, backend, tmp_path, monkeypatch):
    seed_demo()
    db.session.commit()
    original = facts()
    assert original["counts"]["letters"] and original["counts"]["attachments"] and original["counts"]["disbursements"]
    runs = []
    real_run = backup.subprocess.run
    monkeypatch.setattr(backup.subprocess, "run", lambda argv, **kw: runs.append((argv, kw.get("env"))) or
                        real_run(argv, **kw))

    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    archive, = (tmp_path / "backups").iterdir()  # no temporary name left beside it
    assert re.fullmatch(r"codev-backup-\d{8}T\d{6}Z\.tar", archive.name)
    assert archive.stat().st_mode & 0o777 == 0o600
    stored = len(list(storage().keys()))
    assert f"backup written: {archive}" in result.output and f"files {stored}/{stored}" in result.output
    counts = original["counts"]
    assert (f"({counts['users']} users, {counts['projects']} projects, {counts['grants']} grants, "
            f"{counts['letters']} award_letters, {counts['attachments']} attachments)") in result.output
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[-1] == "manifest.json" and len([n for n in names if n.startswith("files/")]) == len(original["files"])
    if backend == "postgres":  # pg_dump, its password in the environment, never on its command line
        (argv, env), = [(argv, env) for argv, env in runs if argv[0].endswith("/pg_dump")]
        assert env["PGPASSWORD"] == make_url(POSTGRES_URL).password
        assert not any("@" in arg or "://" in arg or "PGPASSWORD" in arg for arg in argv)

    db.session.remove()
    db.engine.dispose()
    if backend == "postgres":  # the same database, emptied: a new server's
        reset_postgres(POSTGRES_URL)
        target = _config(tmp_path, "restored", POSTGRES_URL)
    else:
        target = _config(tmp_path, "restored")
    with other_app(target) as restored:
        code, output = restore(restored, archive)
        assert code == 0, output
        assert "archive verified: " in output and "database: restored" in output
        assert f"files {len(original['files'])}/{len(original['files'])}" in output
        assert "FAIL" not in output and re.search(r"(\d+) of \1 checks passed", output)
        for title in ("rows of every table as in the manifest", "every call's committed envelope equals the sum",
                      "disbursed within rule 4", "ledgers intact", "every award letter's stored hash matches",
                      "every attachment's bytes in the file store"):
            assert f"ok   {title}" in output
        assert facts() == original
        assert all(result.ok for result in verify_invariants())


def test_a_damaged_archive_changes_nothing(demo_archive, tmp_path):
    archive, _original = demo_archive
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("files/"))
    data = bytearray(archive.read_bytes())
    data[member.offset_data + 3] ^= 0x01  # one bit of one stored file
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(bytes(data))
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[: len(data) // 2])

    with other_app(_config(tmp_path, "target")) as target:
        code, output = restore(target, damaged)
        assert code == 1
        assert f"is damaged (1 members): {member.name}: SHA-256 or size differs from the manifest" in output
        assert "Nothing was restored" in output and "database: restoring" not in output
        code, output = restore(target, truncated)
        assert code == 1 and ("is damaged" in output or "no manifest.json" in output)
        assert tables_in() == [] and list(storage().keys()) == []


def test_a_restore_goes_only_into_an_empty_database_and_an_empty_store(demo_archive, tmp_path):
    archive, _original = demo_archive
    with other_app(_config(tmp_path, "used")) as used:
        _db.create_all()  # e.g. `flask db upgrade` run on the new server first
        code, output = restore(used, archive)
        assert code == 1
        assert "the database is not empty" in output and "nothing was changed" in output
        assert _db.session.scalar(select(func.count(User.id))) == 0 and list(storage().keys()) == []

    with other_app(_config(tmp_path, "fresh")) as fresh:
        storage().put("left-over.pdf", b"%PDF-1.4 someone's file")
        code, output = restore(fresh, archive)
        assert code == 1 and "the file store (local) is not empty (e.g. left-over.pdf)" in output
        assert tables_in() == [] and list(storage().keys()) == ["left-over.pdf"]

    with other_app(_config(tmp_path, "twice")) as twice:
        assert restore(twice, archive)[0] == 0
        code, output = restore(twice, archive)  # a second restore over the first
        assert code == 1 and "the database is not empty" in output


@pytest.mark.sqlite_only
def test_a_sqlite_backup_is_one_consistent_moment_while_another_connection_writes(app, db, users, tmp_path):
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as setup:
        setup.execute("CREATE TABLE pairs (id INTEGER PRIMARY KEY, pair INTEGER NOT NULL, filler BLOB)")
        setup.executemany("INSERT INTO pairs (pair, filler) VALUES (0, ?)", [(bytes(4096),)] * 4000)  # ~16 MB
        setup.commit()
    commits: list[float] = []
    stop = threading.Event()

    def writer() -> None:  # two rows per transaction: a torn copy would hold an odd number
        with closing(sqlite3.connect(path, timeout=30)) as connection:
            n = 0
            while not stop.is_set():
                n += 1
                with connection:
                    connection.execute("INSERT INTO pairs (pair) VALUES (?)", (n,))
                    connection.execute("INSERT INTO pairs (pair) VALUES (?)", (n,))
                commits.append(time.monotonic())

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(commits) < 20:
            time.sleep(0.01)
        started = time.monotonic()
        result = backup.create_backup(tmp_path / "live.tar")
        finished = time.monotonic()
        while not commits or commits[-1] <= finished:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    in_backup = result.manifest["counts"]["tables"]["pairs"] - 4000
    assert in_backup > 0 and in_backup % 2 == 0
    assert any(started <= t <= finished for t in commits)  # the writer went on while the copy was made
    assert len(commits) * 2 > in_backup

    with other_app(_config(tmp_path, "copy")) as restored:
        code, output = restore(restored, result.path)
        assert code == 0, output
        assert _db.session.scalar(text("SELECT count(*) FROM pairs WHERE pair > 0")) == in_backup
        assert _db.session.scalar(text("PRAGMA integrity_check")) == "ok"


@pytest.mark.backends
def test_the_checks_name_what_was_broken(app, db, backend):
    seed_demo()
    db.session.commit()
    assert all(result.ok for result in verify_invariants())
    letter = db.session.scalar(select(AwardLetter).order_by(AwardLetter.id))
    grant = db.session.scalar(select(Grant).where(Grant.status == "active").order_by(Grant.id))
    call_id = db.session.scalar(select(Call.id).where(Call.committed_xof > 0).order_by(Call.id))
    attachment = db.session.scalar(select(Attachment).order_by(Attachment.id))
    reference, letter_id, grant_id, amount = letter.reference, letter.id, grant.id, grant.amount_xof
    recorder = grant.approved_by_id
    db.session.execute(text("UPDATE award_letters SET pdf = :pdf WHERE id = :id"),
                       {"pdf": b"%PDF-1.7 not the letter that was issued", "id": letter_id})
    db.session.execute(text("UPDATE calls SET committed_xof = committed_xof - 1 WHERE id = :id"), {"id": call_id})
    db.session.execute(insert(Disbursement).values(
        grant_id=grant_id, tranche_number=1, amount_xof=amount + 1, value_date=date(2026, 6, 1),
        bank_reference="RAW-SQL", idempotency_key="raw-sql-overpayment", recorded_by_id=recorder))
    db.session.commit()
    with storage().open(attachment.stored_name) as stream:  # the store's own bytes changed (folder or bucket)
        changed = stream.read() + b" "
    storage().delete(attachment.stored_name)
    storage().put(attachment.stored_name, changed)

    failed = {result.title: result.problems for result in verify_invariants() if not result.ok}
    assert set(failed) == {
        "every award letter's stored hash matches its PDF bytes",
        "every call's committed envelope equals the sum of its grants",
        "disbursed within rule 4 and within each tranche, for every grant",
        "every attachment's bytes in the file store, size and SHA-256 as recorded",
    }
    assert [p.split(":")[0] for p in failed["every award letter's stored hash matches its PDF bytes"]] == [
        f"letter {reference}"]
    assert failed["every call's committed envelope equals the sum of its grants"][0].startswith(f"call {call_id}: ")
    overpaid = failed["disbursed within rule 4 and within each tranche, for every grant"]
    assert overpaid[0].startswith(f"grant {grant_id}: ") and any(f"grant {grant_id}, tranche 1" in p for p in overpaid)
    assert failed["every attachment's bytes in the file store, size and SHA-256 as recorded"][0].startswith(
        f"attachment {attachment.id} ({attachment.stored_name}): {attachment.size + 1} bytes")

    letters = db.session.scalar(select(func.count(AwardLetter.id)))
    result = app.test_cli_runner().invoke(args=["check-data"])
    assert result.exit_code == 1
    assert f"FAIL every award letter's stored hash matches its PDF bytes ({letters} checked, 1 wrong)" in result.output
    assert "the data fails the checks above" in result.output


def test_the_ledger_check_sees_a_missing_append_only_guard(app, db, backend):
    statement = ("DROP TRIGGER disbursements_no_delete" if backend == "sqlite"
                 else "DROP TRIGGER disbursements_append_only ON disbursements")
    db.session.execute(text(statement))
    db.session.commit()
    trigger = statement.split()[2]
    try:
        ledgers, = [r for r in verify_invariants() if r.title.startswith("ledgers intact")]
        assert ledgers.problems == [f"disbursements: the append-only trigger is missing ({trigger})"]
    finally:
        if backend == "postgres":  # the next test builds the schema again instead of emptying this one
            db.session.remove()
            db.engine.dispose()
            reset_postgres(POSTGRES_URL)


def test_pg_dump_of_the_servers_version_or_a_clear_message(app, tmp_path, monkeypatch):
    for version in (13, 15, 16):
        tool = tmp_path / str(version) / "bin" / "pg_dump"
        tool.parent.mkdir(parents=True)
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
    monkeypatch.setattr(backup, "PG_LIB", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert backup.pg_tool("pg_dump", 15) == str(tmp_path / "15" / "bin" / "pg_dump")
    assert backup.pg_tool("pg_dump", 14) == str(tmp_path / "15" / "bin" / "pg_dump")  # never an older one
    with pytest.raises(backup.BackupError) as refused:
        backup.pg_tool("pg_dump", 17)
    assert str(refused.value).startswith("pg_dump not found: install the PostgreSQL 17 client tools "
                                         "(Debian/Ubuntu: apt install postgresql-client-17")
    app.config["PG_BIN_DIR"] = str(tmp_path / "13" / "bin")  # the operator's choice wins
    assert backup.pg_tool("pg_dump", 15) == str(tmp_path / "13" / "bin" / "pg_dump")
    with pytest.raises(backup.BackupError, match=r"pg_restore not found in PG_BIN_DIR \("):
        backup.pg_tool("pg_restore", 15)


def test_a_backup_never_overwrites_and_never_leaves_a_half_archive(app, db, backend, users, tmp_path, monkeypatch):
    target = tmp_path / "nightly.tar.gz"
    assert app.test_cli_runner().invoke(args=["backup", str(target)]).exit_code == 0
    with tarfile.open(target, "r:gz") as tar:
        assert "manifest.json" in tar.getnames()
    with other_app(_config(tmp_path, "from-gz")) as restored:  # a SQLite installation
        code, output = restore(restored, target)
        if backend == "sqlite":
            assert code == 0 and _db.session.scalar(select(func.count(User.id))) == len(users)
        else:
            assert code == 1 and ("the archive holds a postgresql database and this app is configured for sqlite"
                                  in output) and tables_in() == []
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 1 and "already exists; a backup never overwrites one" in result.output

    storage().put("broken.pdf", b"%PDF-1.4")
    real_open = type(storage()).open

    def failing_open(store, key):  # a disk error halfway through the files
        if key == "broken.pdf":
            raise OSError(5, "Input/output error")
        return real_open(store, key)

    monkeypatch.setattr(type(storage()), "open", failing_open)
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "failed")])
    assert result.exit_code == 1 and "backup failed, nothing written" in result.output
    assert list((tmp_path / "failed").iterdir()) == []


def test_an_s3_store_is_backed_up_and_restored_like_a_folder(demo_archive, tmp_path):
    from moto import mock_aws

    from codev.core.storage_s3 import close_clients

    archive, original = demo_archive
    s3 = {"STORAGE_BACKEND": "s3", "S3_BUCKET": "codev-restored", "S3_PREFIX": "uploads/", "S3_REGION": "us-east-1",
          "S3_ACCESS_KEY_ID": "codev-test", "S3_SECRET_ACCESS_KEY": "codev-test-secret"}  # noqa: S106
    with mock_aws():  # moto in this process: no server, no port
        try:
            with other_app({**_config(tmp_path, "bucket"), **s3}) as restored:
                storage().client.create_bucket(Bucket="codev-restored")
                code, output = restore(restored, archive)
                assert code == 0, output
                assert "ok   every attachment's bytes in the file store" in output
                assert facts() == original and sorted(storage().keys()) == sorted(original["files"])
                again = backup.create_backup(tmp_path / "from-s3")
                assert again.manifest["storage"] == "s3"
            with tarfile.open(archive) as first, tarfile.open(again.path) as second:
                assert ({m.name: first.extractfile(m).read() for m in first if m.name.startswith("files/")}
                        == {m.name: second.extractfile(m).read() for m in second if m.name.startswith("files/")})
        finally:
            close_clients()
