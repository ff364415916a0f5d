"""``flask --app codev …`` commands: users, demo and synthetic data, instance setup, the mail worker,
and the scheduled jobs (throttle pruning, lapse, reminders), each under its job lock (``codev.core.jobs``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from codev.accounts.models import Role, User
from codev.extensions import db


def counted(n: int, noun: str) -> str:
    """"1 grant", "2 grants": the operators' command output is English."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--locale", type=click.Choice(["fr", "en"]), default="fr")
@click.option("--association-id", type=int)
@click.option("--structure-id", type=int)
def create_user_command(email, name, role, password, locale, association_id, structure_id) -> None:
    """Create a user account (ministry staff, admins, evaluators)."""
    from codev.accounts.passwords import password_problem
    from codev.accounts.services import AccountError, create_user

    problem = password_problem(password, email)
    if problem:
        raise click.ClickException(problem)
    try:
        user = create_user(
            email=email, name=name, role=role, password=password, locale=locale,
            association_id=association_id, partner_structure_id=structure_id,
        )
        db.session.commit()
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(f"cannot create the user: {exc}") from exc
    except Exception as exc:  # integrity errors: association role without association, …
        db.session.rollback()
        raise click.ClickException(f"cannot create the user: {exc.__class__.__name__}") from exc
    click.echo(f"created user {user.id} <{user.email}> ({user.role})")


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Add demo data even if the database holds other data.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when users already exist.")
def seed_demo_command(force: bool, if_empty: bool) -> None:
    """Fill the database with a realistic demo programme and one account per role."""
    from codev.demo import DEMO_PASSWORD, seed_demo

    if current_app.config["ENV_NAME"] == "production" and not force:
        raise click.ClickException("refusing to add demo data in production (use --force)")
    users = db.session.scalar(select(func.count(User.id)))
    if users:
        if if_empty:
            click.echo("the database already has users; demo data not added")
            return
        if not force:
            raise click.ClickException(
                "the database already holds data; refusing to mix demo data into it (use --force)"
            )
    summary = seed_demo()
    db.session.commit()
    click.echo(summary)
    click.echo(f"demo password for every account: {DEMO_PASSWORD}")


@click.command("seed-synthetic")
@click.option("--projects", type=click.IntRange(min=1, max=1_000_000), required=True, help="How many projects.")
@click.option("--associations", type=click.IntRange(min=1), default=None,
              help="How many associations (default: one per ten projects).")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the random choices.")
def seed_synthetic_command(projects: int, associations: int | None, seed: int) -> None:
    """Add a synthetic programme of N projects in realistic proportions, in bulk (for benchmarks)."""
    import time

    from codev.core.schema import refresh_statistics
    from codev.demo.synthetic import SYNTHETIC_PASSWORD, seed_synthetic

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("refusing to add synthetic data in production")
    started = time.perf_counter_ns()
    with click.progressbar(length=projects, label="synthetic projects") as bar:
        summary = seed_synthetic(projects, associations, seed, progress=bar.update)
    db.session.commit()
    refresh_statistics()  # the planner's picture of tables just filled in bulk (see codev.core.schema)
    click.echo(f"{summary.text()} in {(time.perf_counter_ns() - started) // 10**9} s")
    click.echo(f"password of every synthetic account: {SYNTHETIC_PASSWORD}")


@click.command("rerender-letters")
@click.option("--processes", type=click.IntRange(min=1, max=64), default=None,
              help="Processes that render (default: one per CPU).")
@click.option("--all", "all_letters", is_flag=True, help="Superseded and revoked letters too, not only valid ones.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N letters.")
@click.option("--dry-run", is_flag=True, help="Render without storing anything (to measure).")
def rerender_letters_command(processes: int | None, all_letters: bool, limit: int | None, dry_run: bool) -> None:
    """Render the stored award letters again (after a template change), in several processes."""
    import os

    from codev.grants.award.rerender import letter_ids

    ids = letter_ids(all_letters=all_letters, limit=limit)
    processes = processes or os.cpu_count() or 1
    with click.progressbar(length=len(ids), label="letters") as bar:
        outcome = rerender(ids, processes=processes, dry_run=dry_run, progress=bar.update)
    verb = "rendered (dry run, nothing stored)" if dry_run else "rendered and stored"
    workers = "1 process" if processes == 1 else f"{processes} processes"
    click.echo(f"{counted(outcome.rendered, 'letter')} {verb} in {outcome.nanoseconds // 10**6} ms with {workers} "
               f"({outcome.rendering_nanoseconds // 10**6} ms once they were ready): "
               f"{outcome.per_minute} letters per minute")
    if outcome.mismatched:
        raise click.ClickException(
            f"{counted(len(outcome.mismatched), 'letter')} left as they were: their facts no longer give their "
            f"printed fingerprint ({', '.join(outcome.mismatched[:10])})")


# --- re-rendering letters in several processes (each its own app and database connection) -----------------

_worker_app = None


def _letters_worker_start(config: dict) -> None:
    """A process of the pool: its own app, database connection and app context, for its whole life."""
    global _worker_app
    from codev import create_app

    _worker_app = create_app(config)
    _worker_app.app_context().push()


def _letters_batch(task: tuple[list[int], bool]) -> tuple[int, list[str]]:
    """One batch rendered again in this process, committed (rolled back in a dry run)."""
    from codev.grants.award.rerender import rerender_batch

    ids, dry_run = task
    try:
        done = rerender_batch(ids, dry_run=dry_run)
    except Exception:
        db.session.rollback()
        raise
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return done


def _letters_warm(letter_id: int) -> None:
    """One letter rendered and dropped: the process's one-off font setup is not what a batch runs at."""
    import time

    _letters_batch(([letter_id], True))
    time.sleep(0.3)  # so that each process of the pool takes one warm-up


def rerender(ids: list[int], *, processes: int = 2, dry_run: bool = False, progress=None):
    """Re-render ``ids`` in ``processes`` processes (1: in this one); an Outcome with both timings."""
    import multiprocessing
    import time

    from codev.grants.award.rerender import BATCH, Outcome

    progress = progress or (lambda _n: None)
    outcome = Outcome(mismatched=[])
    started = time.perf_counter_ns()
    tasks = [(ids[start:start + BATCH], dry_run) for start in range(0, len(ids), BATCH)]

    def count(done: tuple[int, list[str]], size: int) -> None:
        outcome.rendered += done[0]
        outcome.mismatched += done[1]
        progress(size)

    if processes <= 1:
        if ids:
            _letters_warm(ids[0])
        ready = time.perf_counter_ns()
        for task in tasks:
            count(_letters_batch(task), len(task[0]))
    else:
        config = {key: current_app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "ENV_NAME")}
        if current_app.config.get("SERVER_NAME"):
            config["SERVER_NAME"] = current_app.config["SERVER_NAME"]
        db.session.remove()  # nothing of this process's transaction is held while the others write
        with multiprocessing.get_context("spawn").Pool(processes, initializer=_letters_worker_start,
                                                       initargs=(config,)) as pool:
            if ids:
                pool.map(_letters_warm, [ids[0]] * processes, chunksize=1)
            ready = time.perf_counter_ns()
            for done, task in zip(pool.imap(_letters_batch, tasks), tasks, strict=True):
                count(done, len(task[0]))
    finished = time.perf_counter_ns()
    outcome.nanoseconds, outcome.rendering_nanoseconds = finished - started, finished - ready
    return outcome


@click.command("init-instance")
def init_instance_command() -> None:
    """Write instance/config.py with a random SECRET_KEY if it does not exist yet."""
    path = Path(current_app.instance_path) / "config.py"
    if path.exists():
        click.echo(f"{path} exists; left as it is")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Local settings of this codev installation (not tracked by git).\n"
        f"SECRET_KEY = {secrets.token_hex(32)!r}\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    click.echo(f"wrote {path}")


@click.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep running: send what is due, wait MAIL_POLL_SECONDS, again "
              "(stops cleanly on SIGTERM or Ctrl-C, between two messages).")
@click.option("--once", is_flag=True, help="Send what is due now, then end (the default).")
def send_mail_command(loop: bool, once: bool) -> None:
    """Send the outbox's due messages through SMTP, each claimed, sent and marked one by one.

    Several workers may run at once (each message is claimed by one). Without MAIL_SERVER nothing is sent:
    the messages stay in the local outbox (`flask --app codev outbox`), and the command says so.
    """
    from codev.core import mail

    if loop and once:
        raise click.UsageError("--loop and --once exclude each other")
    if not mail.smtp_configured():
        click.echo(f"MAIL_SERVER is not set: no SMTP server, nothing sent; "
                   f"{counted(mail.pending_count(), 'message')} stay in the local outbox "
                   "(read them with `flask --app codev outbox`)")
        return
    if not loop:
        done = mail.deliver_due()
        click.echo(_delivery_text(done))
        return
    _serve_mail(mail)


def _delivery_text(done) -> str:
    return (f"sent {counted(done.sent, 'message')}, {done.retrying} to retry later, "
            f"{done.failed} given up")


def _serve_mail(mail) -> None:
    """``send-mail --loop``: SIGTERM and SIGINT set a flag read between messages and wake the wait."""
    import signal
    import threading

    stopping = threading.Event()

    def stop(signum, _frame):
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    click.echo(f"mail worker started (polling every {current_app.config['MAIL_POLL_SECONDS']} s)")
    try:
        total = mail.serve(stopping.is_set, stopping.wait, lambda done: click.echo(_delivery_text(done)))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"mail worker stopped; {_delivery_text(total)} in all")


@click.command("outbox")
@click.option("--limit", default=10)
def outbox_command(limit: int) -> None:
    """Print the latest outbox messages (the local stand-in for a mailbox), with where each stands."""
    from codev.core.models import OutboxMessage

    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    ).all()
    for message in messages:
        click.echo(f"--- #{message.id} to {message.recipient} [{message.locale}] {message.created_at:%Y-%m-%d %H:%M} "
                   f"{message.delivery}, {counted(message.attempts, 'attempt')}")
        if message.last_error:
            click.echo(f"Last error: {message.last_error}")
        click.echo(f"Subject: {message.subject}\n\n{message.body}")


@contextmanager
def scheduled(job: str) -> Iterator[bool]:
    """Run a scheduled job under its lock (``codev.core.jobs``); yields False, having said so, when another
    run holds it. A failure rolls back what the job left uncommitted before the lock is released."""
    from codev.core.jobs import job_lock

    with job_lock(job) as held:
        if not held:
            click.echo(f"{job} is already running (another server or an earlier run holds its lock); nothing done")
            yield False
            return
        try:
            yield True
        except BaseException:
            db.session.rollback()
            raise


@click.command("prune-throttle")
@click.option("--keep-days", type=click.IntRange(min=0), default=None,
              help="Days of the sign-in log to keep (default: LOGIN_ATTEMPTS_KEEP_DAYS).")
def prune_throttle_command(keep_days: int | None) -> None:
    """Delete throttle counters whose window is over and sign-in log rows older than the retention."""
    from codev.accounts.services import prune_login_attempts
    from codev.core.throttle import prune

    with scheduled("prune-throttle") as held:
        if not held:
            return
        counters = prune()
        attempts = prune_login_attempts(current_app.config["LOGIN_ATTEMPTS_KEEP_DAYS"] if keep_days is None
                                        else keep_days)
        db.session.commit()
    click.echo(f"deleted {counted(counters, 'throttle counter')} and {counted(attempts, 'sign-in attempt')}")


@click.command("close-lapsed")
def close_lapsed_command() -> None:
    """Lapse awarded grants whose contribution never arrived and return their money to the envelope."""
    from codev.core.unit_of_work import DomainError
    from codev.grants.life.lapse import lapsable_ids, lapse_grant_id

    lapsed, refused = 0, 0
    with scheduled("close-lapsed") as held:
        if not held:
            return
        for grant_id in lapsable_ids():  # one transaction per grant: a refusal leaves the others lapsed
            try:
                grant = lapse_grant_id(grant_id)
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                refused += 1
                click.echo(f"grant {grant_id} not lapsed: {exc}", err=True)
                continue
            if grant is not None:
                lapsed += 1
                click.echo(f"grant {grant.id} lapsed: {grant.released_xof} XOF back to call {grant.call_id}")
    click.echo(f"{counted(lapsed, 'grant')} lapsed")
    if refused:
        raise click.ClickException(f"{counted(refused, 'grant')} could not lapse; run the command again once corrected")


@click.command("send-reminders")
def send_reminders_command() -> None:
    """Email the associations their contribution deadlines and the reports now due (each reminder once)."""
    from sqlalchemy.exc import IntegrityError

    from codev.grants.life.reminders import ReminderRun

    count, raced = 0, 0
    with scheduled("send-reminders") as held:
        if not held:
            return
        run = ReminderRun()
        for grant_id in run.grant_ids:  # committed grant by grant: a rerun sends only what is left
            try:
                queued = run.remind(grant_id)
                db.session.commit()
            except IntegrityError:  # another run sent this grant's reminders meanwhile: its emails go back
                db.session.rollback()
                raced += 1
                continue
            count += queued
    click.echo(f"{counted(count, 'reminder')} queued"
               + (f"; {counted(raced, 'grant')} reminded meanwhile by another run, left to it" if raced else ""))


@click.command("open-close-calls")
def open_close_calls_command() -> None:
    """Open the calls set to open by themselves whose date has come (if complete); close the calls past
    their closing date. Safe to run every few minutes from cron, on several servers at once."""
    from codev.projects.call_schedule import close_due, due_closings, due_openings, open_due

    done: dict[str, int] = {"opened": 0, "not_opened": 0, "closed": 0}
    with scheduled("open-close-calls") as held:
        if not held:
            return
        for judge, ids in ((open_due, due_openings()), (close_due, due_closings())):
            for call_id in ids:  # one transaction per call: what was done stays done if a later call fails
                outcome = judge(call_id)
                db.session.commit()
                if not outcome.action:
                    continue
                done[outcome.action] += 1
                if outcome.problems:
                    click.echo(f"call {call_id} not opened: " + "; ".join(outcome.problems), err=True)
                else:
                    click.echo(f"call {call_id} {outcome.action}")
    click.echo(f"{counted(done['opened'], 'call')} opened, {done['not_opened']} left in draft (incomplete), "
               f"{done['closed']} closed")


@click.command("apply-retention")
@click.option("--dry-run", is_flag=True, help="Print what would be noticed and anonymised; change nothing.")
def apply_retention_command(dry_run: bool) -> None:
    """Notice the associations of idle drafts and of old withdrawn or rejected applications; anonymise those
    whose notice period is over and which nobody changed meanwhile. Safe to run on several servers at once."""
    from sqlalchemy.exc import IntegrityError

    from codev.oversight import retention

    if dry_run:
        due = retention.plan()
        for project_id in due.notices:
            click.echo(f"project {project_id}: would be noticed")
        for project_id in due.anonymisations:
            click.echo(f"project {project_id}: would be anonymised (or its notice reset if it changed)")
        click.echo(f"dry run: {counted(len(due.notices), 'notice')} and "
                   f"{counted(len(due.anonymisations), 'anonymisation')} due; nothing changed")
        return
    done = {"noticed": 0, "anonymised": 0, "reset": 0, "raced": 0, "files": 0}
    with scheduled("apply-retention") as held:
        if not held:
            return
        for project_id in retention.due_notices():  # one transaction per project: its notice row and its email
            try:
                row = retention.notice(project_id)
                db.session.commit()
            except IntegrityError:  # another run noticed it meanwhile: this run's email goes back
                db.session.rollback()
                done["raced"] += 1
                continue
            done["noticed"] += row is not None
        for project_id in retention.due_anonymisations():
            outcome = retention.anonymise_due(project_id)
            db.session.commit()
            retention.discard_files(outcome.files)  # the rows are gone for good: now the bytes
            if outcome.action:
                done[outcome.action] += 1
                done["files"] += len(outcome.files)
                click.echo(f"project {project_id} {outcome.action}")
    click.echo(f"{counted(done['noticed'], 'application')} noticed, {done['anonymised']} anonymised "
               f"({counted(done['files'], 'file')} removed), {done['reset']} notices reset (changed since)"
               + (f"; {done['raced']} noticed meanwhile by another run" if done["raced"] else ""))


def init_app(app: Flask) -> None:
    from codev.core import backup, restore, storage_s3
    from codev.core.invariants import check_with
    from codev.grants import invariants

    check_with(*invariants.CHECKS)  # restore and check-data check the grants' money and letters too

    for command in (
        create_user_command, seed_demo_command, seed_synthetic_command, rerender_letters_command,
        init_instance_command, send_mail_command, outbox_command,
        close_lapsed_command, send_reminders_command, prune_throttle_command, open_close_calls_command,
        apply_retention_command,
        *storage_s3.COMMANDS, *backup.COMMANDS, *restore.COMMANDS,
    ):
        app.cli.add_command(command)
