"""Scheduled jobs that overlap (two servers, a slow run and the next one): the job lock lets one run at a
time, the others say "already running"; reminders are sent once even with the lock bypassed, thanks to
``reminders_sent``'s unique (grant, key); migration 0011 carries the audit log's reminders over."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import click
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from codev import create_app
from codev.cli import close_lapsed_command, send_reminders_command
from codev.core import jobs
from codev.core.models import JobLock, OutboxMessage
from codev.core.timeutil import utcnow
from codev.extensions import db as _db
from codev.grants.life import reminders
from codev.grants.models import ReminderSent
from tests.conftest import POSTGRES_URL, reset_postgres
from tests.factories_ledger import make_grant
from tests.test_migrations import _insert_ledger_row

TODAY = utcnow().date()
JOBS = ("send-reminders", "close-lapsed", "prune-throttle")


@pytest.fixture
def three_due(db, users):
    """Three grants whose 30-day contribution reminder is due, for one member."""
    member = users["association"]
    grants = [make_grant(member, amount=1_000_000 * (n + 1), deadline=TODAY + timedelta(days=20)) for n in range(3)]
    db.session.commit()
    return member, [g.id for g in grants]


def mails_to(db, email: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.recipient == email))


@pytest.fixture
def said(monkeypatch):
    """What each thread's command printed (click.echo), by thread name."""
    lines: dict[str, list[str]] = {}
    lock = threading.Lock()

    def echo(message=None, *args, **kwargs):
        with lock:
            lines.setdefault(threading.current_thread().name, []).append(str(message))

    monkeypatch.setattr(click, "echo", echo)
    return lines


def in_threads(app, *targets):
    """Run each target in its own thread with its own app context (its own session and connection)."""
    errors: list[BaseException] = []

    def run(target):
        try:
            with app.app_context():
                target()
                _db.session.remove()
        except BaseException as exc:  # shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,), name=f"run-{n}") for n, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and not any(t.is_alive() for t in threads)


@pytest.mark.backends
def test_a_held_lock_is_refused_to_a_second_run_and_free_after(app, db, backend):
    with jobs.job_lock("send-reminders") as first:
        with jobs.job_lock("send-reminders") as second:
            assert first is True and second is False
        with jobs.job_lock("close-lapsed") as other:
            assert other is True  # one lock per job
    with jobs.job_lock("send-reminders") as again:
        assert again is True
    assert db.session.scalar(select(func.count()).select_from(JobLock)) == 0  # rows released (SQLite)


@pytest.mark.backends
@pytest.mark.parametrize("job", JOBS)
def test_a_command_whose_lock_another_run_holds_says_so_and_does_nothing(app, db, runner, three_due, backend, job):
    member, _grants = three_due
    with jobs.job_lock(job):
        result = runner.invoke(args=[job])
    assert result.exit_code == 0
    assert result.output == (f"{job} is already running (another server or an earlier run holds its lock); "
                             "nothing done\n")
    assert mails_to(db, member.email) == 0
    assert "3 reminders queued" in runner.invoke(args=["send-reminders"]).output  # free once the other ended


@pytest.mark.sqlite_only
def test_a_killed_runs_lock_row_is_taken_over_once_expired(app, db, runner, three_due):
    db.session.add(JobLock(name="send-reminders", holder="dead:1:x", expires_at=utcnow() + timedelta(minutes=5)))
    db.session.commit()
    assert "already running" in runner.invoke(args=["send-reminders"]).output
    db.session.execute(text("UPDATE job_locks SET expires_at = :past"), {"past": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    assert "3 reminders queued" in runner.invoke(args=["send-reminders"]).output
    assert db.session.scalar(select(func.count()).select_from(JobLock)) == 0


def _wait_for_backend_to_end(db, pid, tries=200):
    """Poll pg_stat_activity (every 50 ms, ten seconds at most) until backend ``pid`` has gone."""
    for _ in range(tries):
        with db.engine.connect() as probe:
            alive = probe.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar()
        if not alive:
            return
        time.sleep(0.05)
    raise AssertionError(f"PostgreSQL backend {pid} still runs ten seconds after its connection closed")


def test_a_postgres_lock_ends_with_its_connection(app, db, backend):
    if backend != "postgres":  # SQLite's rows expire instead (the test above)
        assert db.engine.dialect.name == "sqlite"
        return
    connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    assert connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": jobs.lock_key("close-lapsed")}).scalar()
    backend_pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    with jobs.job_lock("close-lapsed") as held:
        assert held is False
    connection.invalidate()  # the process holding it is killed: its connection closes
    connection.close()
    _wait_for_backend_to_end(db, backend_pid)  # the server ends that backend after the socket closes, not at once
    with jobs.job_lock("close-lapsed") as held:
        assert held is True


@pytest.mark.backends
def test_two_overlapping_reminder_runs_send_each_reminder_once(app, db, three_due, said, monkeypatch, backend):
    member, grant_ids = three_due
    first_inside, second_done = threading.Event(), threading.Event()
    original = reminders.ReminderRun

    class SlowRun(original):
        """The first run, having taken the lock, waits until the second one has come and gone."""

        def __init__(self, *args, **kwargs):
            if threading.current_thread().name == "run-0":
                first_inside.set()
                assert second_done.wait(30)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(reminders, "ReminderRun", SlowRun)

    def second():
        assert first_inside.wait(30)
        try:
            send_reminders_command.callback()
        finally:
            second_done.set()

    in_threads(app, send_reminders_command.callback, second)
    assert said["run-0"] == ["3 reminders queued"]
    assert said["run-1"] == ["send-reminders is already running (another server or an earlier run holds its lock); "
                             "nothing done"]
    assert mails_to(db, member.email) == 3
    assert sorted(db.session.scalars(select(ReminderSent.grant_id)).all()) == grant_ids


@pytest.mark.backends
def test_without_the_lock_the_constraint_still_sends_each_reminder_once(app, db, three_due, said, monkeypatch,
                                                                        backend):
    member, grant_ids = three_due

    @contextmanager
    def no_lock(name):
        yield True

    monkeypatch.setattr(jobs, "job_lock", no_lock)
    both_read = threading.Barrier(2, timeout=30)
    original = reminders.ReminderRun

    class Together(original):
        """Both runs read what was sent (nothing) before either writes: the check alone cannot save us."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            both_read.wait()

    monkeypatch.setattr(reminders, "ReminderRun", Together)
    in_threads(app, send_reminders_command.callback, send_reminders_command.callback)
    assert mails_to(db, member.email) == 3  # one per grant, not two
    assert sorted(db.session.scalars(select(ReminderSent.grant_id)).all()) == grant_ids
    queued = [int(lines[0].split()[0]) for lines in said.values()]
    assert sorted(said) == ["run-0", "run-1"] and sum(queued) == 3
    raced = [line for lines in said.values() for line in lines if "reminded meanwhile by another run" in line]
    assert raced  # the run that lost a grant said so, and went on
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(_db.metadata.tables["notifications"])) == 3


def test_two_overlapping_lapse_runs_lapse_once(app, db, users, said, monkeypatch):
    """close-lapsed under its lock: the second run sees the first one's lock and leaves."""
    from codev.grants.life import lapse

    member = users["association"]
    make_grant(member, amount=2_000_000, deadline=TODAY - timedelta(days=1))
    db.session.commit()
    first_inside, second_done = threading.Event(), threading.Event()
    original = lapse.lapsable_ids

    def slow_ids(*args, **kwargs):
        if threading.current_thread().name == "run-0":
            first_inside.set()
            assert second_done.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(lapse, "lapsable_ids", slow_ids)

    def second():
        assert first_inside.wait(30)
        try:
            close_lapsed_command.callback()
        finally:
            second_done.set()

    in_threads(app, close_lapsed_command.callback, second)
    assert said["run-0"][-1] == "1 grant lapsed"
    assert "already running" in said["run-1"][0]


@pytest.fixture
def empty_app(backend, tmp_path):
    if backend == "postgres":
        reset_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
    app = create_app({"ENV_NAME": "test", "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.mark.backends
def test_migration_0011_carries_the_audit_logs_reminders_over(empty_app, backend):
    upgrade(revision="0010")
    with _db.engine.begin() as connection:
        connection.execute(text("INSERT INTO users (email, name, role, locale, active, session_version, created_at) "
                                "VALUES ('o@x.tg', 'o', 'officer', 'fr', true, 1, CURRENT_TIMESTAMP)"))
        _insert_ledger_row(connection, "disbursements")
        grant = connection.execute(text("SELECT max(id) FROM grants")).scalar()
        for key, at in (("contribution-30", "2026-11-01 08:00:00"), ("contribution-30", "2026-11-02 08:00:00"),
                        ("report-progress-2", "2026-11-03 08:00:00")):
            connection.execute(text(
                "INSERT INTO audit_events (at, action, object_type, object_id, after) "
                f"VALUES ('{at}', 'grant.reminder', 'grants', {grant}, '{{\"key\": \"{key}\"}}')"))
        connection.execute(text("INSERT INTO outbox_messages (created_at, recipient, locale, subject, body, sent_at) "
                                "VALUES (CURRENT_TIMESTAMP, 'a@x.tg', 'fr', 's', 'b', CURRENT_TIMESTAMP), "
                                "(CURRENT_TIMESTAMP, 'b@x.tg', 'fr', 's', 'b', NULL)"))
    upgrade()
    with _db.engine.connect() as connection:
        rows = connection.execute(text("SELECT grant_id, key FROM reminders_sent ORDER BY key")).all()
        statuses = connection.execute(text("SELECT recipient, delivery, attempts FROM outbox_messages "
                                           "ORDER BY recipient")).all()
    assert [tuple(r) for r in rows] == [(grant, "contribution-30"), (grant, "report-progress-2")]
    assert [tuple(s) for s in statuses] == [("a@x.tg", "sent", 0), ("b@x.tg", "pending", 0)]
    downgrade(revision="0010")
    tables = set(inspect(_db.engine).get_table_names())
    assert "reminders_sent" not in tables and "job_locks" not in tables
    columns = {c["name"] for c in inspect(_db.engine).get_columns("outbox_messages")}
    assert "error" in columns and "delivery" not in columns
