"""``flask --app codev …`` commands: users, demo and synthetic data, instance setup, mail, throttle pruning,
lapse, reminders."""

from __future__ import annotations

import secrets
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

    from codev.demo.synthetic import SYNTHETIC_PASSWORD, seed_synthetic

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("refusing to add synthetic data in production")
    started = time.perf_counter()
    with click.progressbar(length=projects, label="synthetic projects") as bar:
        summary = seed_synthetic(projects, associations, seed, progress=bar.update)
    db.session.commit()
    click.echo(f"{summary.text()} in {time.perf_counter() - started:.1f} s")
    click.echo(f"password of every synthetic account: {SYNTHETIC_PASSWORD}")


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
def send_mail_command() -> None:
    """Send the outbox's unsent messages through SMTP (needs MAIL_SERVER)."""
    from codev.core.mail import deliver_pending

    if not current_app.config.get("MAIL_SERVER"):
        raise click.ClickException("MAIL_SERVER is not set; messages stay in the outbox")
    sent = deliver_pending(limit=10_000)
    db.session.commit()
    click.echo(f"sent {counted(sent, 'message')}")


@click.command("outbox")
@click.option("--limit", default=10)
def outbox_command(limit: int) -> None:
    """Print the latest outbox messages (the local stand-in for a mailbox)."""
    from codev.core.models import OutboxMessage

    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    ).all()
    for message in messages:
        click.echo(f"--- #{message.id} to {message.recipient} [{message.locale}] {message.created_at:%Y-%m-%d %H:%M}")
        click.echo(f"Subject: {message.subject}\n\n{message.body}")


@click.command("prune-throttle")
@click.option("--keep-days", type=click.IntRange(min=0), default=None,
              help="Days of the sign-in log to keep (default: LOGIN_ATTEMPTS_KEEP_DAYS).")
def prune_throttle_command(keep_days: int | None) -> None:
    """Delete throttle counters whose window is over and sign-in log rows older than the retention."""
    from codev.accounts.services import prune_login_attempts
    from codev.core.throttle import prune

    counters = prune()
    attempts = prune_login_attempts(current_app.config["LOGIN_ATTEMPTS_KEEP_DAYS"] if keep_days is None else keep_days)
    db.session.commit()
    click.echo(f"deleted {counted(counters, 'throttle counter')} and {counted(attempts, 'sign-in attempt')}")


@click.command("close-lapsed")
def close_lapsed_command() -> None:
    """Lapse awarded grants whose contribution never arrived and return their money to the envelope."""
    from codev.core.unit_of_work import DomainError
    from codev.grants.life.lapse import lapsable_ids, lapse_grant_id

    lapsed, refused = 0, 0
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
    from codev.grants.life.reminders import reminders_by_grant

    count = 0
    for _grant, queued in reminders_by_grant():  # committed grant by grant: a rerun sends only what is left
        db.session.commit()
        count += queued
    click.echo(f"{counted(count, 'reminder')} queued")


def init_app(app: Flask) -> None:
    for command in (
        create_user_command, seed_demo_command, seed_synthetic_command, init_instance_command, send_mail_command,
        outbox_command,
        close_lapsed_command, send_reminders_command, prune_throttle_command,
    ):
        app.cli.add_command(command)
