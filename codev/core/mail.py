"""Email: a request only writes the outbox; the mail worker sends it, each message claimed, once.

:func:`queue_mail` renders a message in the recipient's language and adds it to ``outbox_messages`` in
the caller's transaction: it is committed with the change it tells about, or rolled back with it, and
nothing is sent while a request runs.

The worker (``flask --app codev send-mail``, ``--loop`` as a service; :func:`deliver_due`) takes one due
message at a time:

1. **claim** — one ``UPDATE … SET claimed_by, claimed_until WHERE id = (SELECT … LIMIT 1 FOR UPDATE SKIP
   LOCKED) AND <still due> RETURNING …``, committed at once. On PostgreSQL ``SKIP LOCKED`` lets workers
   pass each other's rows; on SQLite the statement reads and writes under the one write lock. A claim
   whose time is over (its worker was killed) is taken over by the next worker;
2. **send** through SMTP, with no transaction open (a slow server holds no row, no connection's lock);
3. **mark** — sent; or the attempt counted, its error kept and the next one scheduled with exponential
   backoff; or, after ``MAIL_MAX_ATTEMPTS``, failed (shown to admins at ``/admin/mail``, who may retry it).
   Committed at once, and only by the claim's holder.

A worker that dies between 2 and 3 leaves one message claimed and not marked: after ``MAIL_CLAIM_TIMEOUT``
it is sent again. That one message in flight is all a crash can send twice.

Without ``MAIL_SERVER`` (a laptop, ``make run``) messages stay pending in the outbox, where a developer
reads them (``flask --app codev outbox``); ``send-mail`` says so and sends nothing. Logs name a message
by its id and subject, never its body (it holds password links).
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import Flask, current_app, has_request_context, render_template
from flask_babel import force_locale
from sqlalchemy import and_, func, literal, or_, select, update

from codev.core import audit, notifications
from codev.core.i18n import gettext as _
from codev.core.models import MailStatus, OutboxMessage
from codev.core.timeutil import UTCDateTime, utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db

log = logging.getLogger("codev.mail")


def queue_mail(recipient: str, locale: str, template: str, **context) -> OutboxMessage | None:
    """Render ``email/<template>.txt`` in ``locale`` and add it to the outbox (flushed, not sent).

    The template's first line is the subject; the rest is the body. When the recipient is an active user,
    the message is also a notification in their list (``codev.core.notifications``), and the email is
    left out (None returned) if they turned its kind off; security emails always go.
    """
    person = notifications.recipient(recipient, template)
    if has_request_context():
        with force_locale(locale):
            text = render_template(f"email/{template}.txt", **context)
    else:  # CLI and background work: links are built from the public base URL
        with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
            with force_locale(locale):
                text = render_template(f"email/{template}.txt", **context)
    subject, _sep, body = text.strip().partition("\n")
    if person is not None:
        notifications.notify(person[0], template, subject.strip(), context.get("url"))
        if not person[1]:
            db.session.flush()
            log.debug("notification %s to user %s, email turned off", template, person[0])
            return None
    message = OutboxMessage(
        recipient=recipient, locale=locale, subject=subject.strip()[:300], body=body.strip() + "\n",
        delivery=MailStatus.PENDING, attempts=0, next_attempt_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    log.debug("mail %s queued (%s): %s", message.id, template, message.subject)
    return message


# --- the worker ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A claimed message, read once: what the SMTP step needs, and the attempts before this one."""

    id: int
    recipient: str
    locale: str
    subject: str
    body: str
    attempts: int


@dataclass
class Delivery:
    """What one run of the worker did."""

    sent: int = 0
    retrying: int = 0  # failed this time, tried again later
    failed: int = 0  # given up

    def __iadd__(self, other: Delivery) -> Delivery:
        self.sent, self.retrying, self.failed = (self.sent + other.sent, self.retrying + other.retrying,
                                                 self.failed + other.failed)
        return self

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed


def worker_name() -> str:
    """Who holds a claim: this host and process, and a random part (two workers of one process differ)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def smtp_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def _now() -> Any:
    return literal(utcnow(), UTCDateTime())


def _due(table, due_by: datetime, now: datetime):
    unclaimed = or_(table.c.claimed_until.is_(None), table.c.claimed_until < literal(now, UTCDateTime()))
    return and_(table.c.delivery == MailStatus.PENDING.value,
                table.c.next_attempt_at <= literal(due_by, UTCDateTime()), unclaimed)


def claim_next(worker: str, due_by: datetime | None = None) -> Outgoing | None:
    """Claim the next message due by ``due_by`` (default now) for ``worker``, committed; None if none is."""
    table = OutboxMessage.__table__
    now = utcnow()
    due = _due(table, due_by or now, now)
    pick = (select(table.c.id).where(due).order_by(table.c.next_attempt_at, table.c.id).limit(1)
            .with_for_update(skip_locked=True).scalar_subquery())
    until = now + timedelta(seconds=int(current_app.config["MAIL_CLAIM_TIMEOUT"]))
    row = db.session.execute(
        update(table).where(table.c.id == pick, due)
        .values(claimed_by=worker, claimed_until=literal(until, UTCDateTime()))
        .returning(table.c.id, table.c.recipient, table.c.locale, table.c.subject, table.c.body,
                   table.c.attempts)
    ).first()
    db.session.commit()
    return None if row is None else Outgoing(*row)


def deliver_one(worker: str, due_by: datetime | None = None) -> str | None:
    """Claim, send and mark one message; its new status ("sent", "pending" for a retry, "failed"), or None
    when nothing is due."""
    message = claim_next(worker, due_by)
    if message is None:
        return None
    try:
        _smtp_send(message)
    except Exception as exc:  # any failure of one message is that message's, never the worker's end
        return _mark_failed(worker, message, describe(exc))
    _mark_sent(worker, message)
    return MailStatus.SENT


def describe(exc: Exception) -> str:
    """An SMTP failure as an admin reads it: the server's code and words, or the error's kind and text."""
    if isinstance(exc, smtplib.SMTPResponseException):
        words = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.__class__.__name__}: {exc.smtp_code} {words}"
    return f"{exc.__class__.__name__}: {exc}"


def _mark_sent(worker: str, message: Outgoing) -> None:
    table = OutboxMessage.__table__
    result = db.session.execute(
        update(table).where(table.c.id == message.id, table.c.claimed_by == worker)
        .values(delivery=MailStatus.SENT.value, sent_at=_now(), attempts=table.c.attempts + 1, last_error=None,
                claimed_by=None, claimed_until=None)
    )
    db.session.commit()
    if result.rowcount:
        log.info("mail %s sent (attempt %d): %s", message.id, message.attempts + 1, message.subject)
    else:  # the claim ran out while SMTP answered, and another worker took the message over
        log.warning("mail %s sent, but its claim had been taken over; raise MAIL_CLAIM_TIMEOUT", message.id)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: the base, doubled each time, capped."""
    config = current_app.config
    seconds = float(config["MAIL_RETRY_BASE_SECONDS"]) * 2 ** min(max(attempts - 1, 0), 32)
    return timedelta(seconds=min(seconds, float(config["MAIL_RETRY_MAX_SECONDS"])))


def _mark_failed(worker: str, message: Outgoing, error: str) -> str:
    table = OutboxMessage.__table__
    attempts = message.attempts + 1
    give_up = attempts >= int(current_app.config["MAIL_MAX_ATTEMPTS"])
    values: dict[str, Any] = {"attempts": attempts, "last_error": error[:500], "claimed_by": None,
                              "claimed_until": None}
    if give_up:
        values["delivery"] = MailStatus.FAILED.value
    else:
        values["next_attempt_at"] = literal(utcnow() + retry_delay(attempts), UTCDateTime())
    db.session.execute(update(table).where(table.c.id == message.id, table.c.claimed_by == worker).values(**values))
    db.session.commit()
    if give_up:
        log.error("mail %s given up after %d attempts: %s", message.id, attempts, error[:200])
        return MailStatus.FAILED
    log.warning("mail %s not sent (attempt %d, retried in %s): %s", message.id, attempts,
                retry_delay(attempts), error[:200])
    return MailStatus.PENDING


def deliver_due(worker: str | None = None, stop: Callable[[], bool] = lambda: False) -> Delivery:
    """Send every message due when the run starts, one by one, until none is left or ``stop()`` is true.

    A message that fails now and is retried later is not tried again by this run (it is due after the
    run started), so a run always ends.
    """
    worker = worker or worker_name()
    started = utcnow()
    done = Delivery()
    while not stop():
        status = deliver_one(worker, started)
        if status is None:
            break
        if status == MailStatus.SENT:
            done.sent += 1
        elif status == MailStatus.FAILED:
            done.failed += 1
        else:
            done.retrying += 1
    return done


def serve(stop: Callable[[], bool], wait: Callable[[float], object], report: Callable[[Delivery], None]) -> Delivery:
    """Deliver what is due, then ``wait(MAIL_POLL_SECONDS)``, until ``stop()``; the messages of the whole run.

    ``stop`` is read between messages, so a message being sent is always marked before the worker ends.
    """
    worker = worker_name()
    total = Delivery()
    while not stop():
        done = deliver_due(worker, stop)
        total += done
        if done.attempted:
            report(done)
        db.session.remove()  # no connection kept idle between polls
        if not stop():
            wait(float(current_app.config["MAIL_POLL_SECONDS"]))
    return total


def pending_count() -> int:
    """Messages waiting to be sent (now or after a retry)."""
    return db.session.scalar(select(func.count(OutboxMessage.id))
                             .where(OutboxMessage.delivery == MailStatus.PENDING)) or 0


def _smtp_send(message: Outgoing) -> None:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Content-Language"] = message.locale
    email.set_content(message.body)
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]) as smtp:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(email)


# --- what admins see and do ----------------------------------------------------------------------------


class MailError(DomainError):
    """A refused change to a message (already sent)."""


def problem_messages_query():
    """Messages an admin should see: given up, or waiting for a retry after an error; newest first."""
    return (select(OutboxMessage)
            .where(or_(OutboxMessage.delivery == MailStatus.FAILED,
                       and_(OutboxMessage.delivery == MailStatus.PENDING, OutboxMessage.last_error.is_not(None))))
            .order_by(OutboxMessage.id.desc()))


def failed_count() -> int:
    return db.session.scalar(select(func.count(OutboxMessage.id))
                             .where(OutboxMessage.delivery == MailStatus.FAILED)) or 0


def retry_message(message: OutboxMessage, actor: Any) -> None:
    """Send ``message`` again from its first attempt, as soon as a worker passes (audited, flushed).

    A worker holding it keeps its claim and marks it as usual: nothing is sent twice.
    """
    if message.delivery == MailStatus.SENT:
        raise MailError(_("This email was already sent."))
    before = {"delivery": message.delivery, "attempts": message.attempts}
    message.delivery, message.attempts, message.last_error = MailStatus.PENDING, 0, None
    message.next_attempt_at = utcnow()
    audit.record("mail.retry", message, actor=actor, before=before, after={"delivery": MailStatus.PENDING.value})
    db.session.flush()


def init_app(app: Flask) -> None:
    """Check the worker's settings at start (nothing of mail runs in a request)."""
    config = app.config
    for name in ("MAIL_MAX_ATTEMPTS", "MAIL_CLAIM_TIMEOUT"):
        if int(config[name]) < 1:
            raise RuntimeError(f"{name} must be 1 or more")
    for name in ("MAIL_RETRY_BASE_SECONDS", "MAIL_RETRY_MAX_SECONDS", "MAIL_POLL_SECONDS"):
        if float(config[name]) < 0:
            raise RuntimeError(f"{name} may not be negative")
