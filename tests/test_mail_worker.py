"""The mail worker against a real SMTP server (aiosmtpd on 127.0.0.1:8025-8029): a request only writes the
outbox; send-mail delivers each message once, even with two workers at once; a failing server gets retries
with backoff, then the message is given up and shown to admins, who may send it again; a crash re-sends
only the message in flight; no body in any log line; --loop stops cleanly on SIGTERM."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update

from codev.core import mail
from codev.core.models import OutboxMessage
from codev.core.timeutil import utcnow
from tests.factories_admin import english

GOOD_PORT, FAILING_PORT, LOOP_PORT = 8025, 8026, 8027


class Inbox:
    """An aiosmtpd handler that keeps what it receives, or refuses every message (451)."""

    def __init__(self, refuse: bool = False, delay: float = 0.0) -> None:
        self.refuse, self.delay = refuse, delay
        self.messages: list = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 mailbox busy, try again later"
        if self.delay:
            time.sleep(self.delay)  # a slow server: both workers are busy at once
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def recipients(self) -> list[str]:
        return [str(m["To"]) for m in self.messages]


def smtp_server(handler: Inbox, port: int):
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


@pytest.fixture
def inbox(app):
    handler = Inbox()
    controller = smtp_server(handler, GOOD_PORT)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=GOOD_PORT, MAIL_USE_TLS=False, MAIL_TIMEOUT=5)
    yield handler
    controller.stop()


@pytest.fixture
def refusing(app):
    handler = Inbox(refuse=True)
    controller = smtp_server(handler, FAILING_PORT)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=FAILING_PORT, MAIL_USE_TLS=False, MAIL_TIMEOUT=5,
                      MAIL_MAX_ATTEMPTS=3, MAIL_RETRY_BASE_SECONDS=60)
    yield handler
    controller.stop()


def queue(db, count: int, prefix: str = "m") -> list[str]:
    """``count`` reset emails queued and committed; their recipients."""
    person = type("Person", (), {"name": "Ama"})
    recipients = [f"{prefix}{n}@example.org" for n in range(count)]
    for recipient in recipients:
        mail.queue_mail(recipient, "en", "password_reset", user=person, url="http://localhost/account/reset/SECRET",
                        hours=1)
    db.session.commit()
    return recipients


def messages(db) -> list[OutboxMessage]:
    db.session.expire_all()
    return db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def make_due(db) -> None:
    """As if the retry delays were over."""
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_a_request_only_queues_and_the_worker_delivers(client, db, users, inbox, runner):
    member = users["association"]
    assert client.post("/account/reset", data={"email": member.email}).status_code == 302
    [message] = messages(db)
    # nothing sent in the request:
    assert inbox.messages == [] and message.delivery == "pending" and message.attempts == 0
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0 and "sent 1 message, 0 to retry later, 0 given up" in result.output
    [received] = inbox.messages
    assert received["To"] == member.email and received["Subject"] == message.subject
    assert "/account/reset/" in received.get_content()
    [message] = messages(db)
    assert (message.delivery, message.attempts, message.claimed_by) == ("sent", 1, None) and message.sent_at
    assert runner.invoke(args=["send-mail"]).output.startswith("sent 0 messages")  # nothing twice


def test_without_smtp_the_messages_stay_in_the_local_outbox(db, runner):
    queue(db, 2)
    for args in (["send-mail"], ["send-mail", "--loop"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0
        assert "MAIL_SERVER is not set" in result.output and "2 messages stay in the local outbox" in result.output
    assert [m.delivery for m in messages(db)] == ["pending", "pending"]
    shown = runner.invoke(args=["outbox"]).output
    assert "m0@example.org" in shown and "pending, 0 attempts" in shown and "/account/reset/SECRET" in shown


def test_a_failing_server_gets_retries_with_backoff_then_the_message_is_given_up(db, refusing, runner):
    queue(db, 1)
    before = utcnow()
    assert "0 messages, 1 to retry later" in runner.invoke(args=["send-mail"]).output
    [message] = messages(db)
    assert (message.delivery, message.attempts) == ("pending", 1) and "451" in message.last_error
    assert timedelta(seconds=59) < message.next_attempt_at - before < timedelta(seconds=70)
    assert "sent 0 messages, 0 to retry later" in runner.invoke(args=["send-mail"]).output  # not due yet
    make_due(db)
    runner.invoke(args=["send-mail"])
    [message] = messages(db)
    assert message.attempts == 2
    assert timedelta(seconds=119) < message.next_attempt_at - utcnow() < timedelta(seconds=125)  # doubled
    make_due(db)
    assert "1 given up" in runner.invoke(args=["send-mail"]).output
    [message] = messages(db)
    assert (message.delivery, message.attempts, message.sent_at) == ("failed", 3, None)
    make_due(db)
    assert "sent 0 messages, 0 to retry later, 0 given up" in runner.invoke(args=["send-mail"]).output
    assert len(refusing.messages) == 0 and messages(db)[0].attempts == 3


def test_admins_see_failed_mail_without_its_body_and_send_it_again(app, client, db, users, login_as, refusing,
                                                                  runner):
    queue(db, 1, prefix="lost")
    app.config["MAIL_MAX_ATTEMPTS"] = 1
    runner.invoke(args=["send-mail"])
    admin = english(users["admin"])
    login_as(admin)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "Emails not sent" in page and "lost0@example.org" in page and "codev: reset your password" in page
    assert "Given up" in page and "SMTPDataError: 451 4.3.0 mailbox busy, try again later" in page
    assert "SECRET" not in page and "/account/reset/" not in page  # no body, no link
    home = client.get("/").get_data(as_text=True)  # the home card links to the page
    assert '<span class="stat">1</span> email given up after its attempts' in home and "/admin/mail" in home
    [message] = messages(db)
    response = client.post(f"/admin/mail/{message.id}/retry", follow_redirects=True)
    assert "will be sent again" in response.get_data(as_text=True)
    [message] = messages(db)
    assert (message.delivery, message.attempts, message.last_error) == ("pending", 0, None)
    assert "Every email was sent or is on its way." in client.get("/admin/mail").get_data(as_text=True)
    app.config["MAIL_PORT"] = GOOD_PORT
    handler = Inbox()
    controller = smtp_server(handler, GOOD_PORT)
    try:
        assert "sent 1 message" in runner.invoke(args=["send-mail"]).output
    finally:
        controller.stop()
    assert handler.recipients() == ["lost0@example.org"]
    assert client.post(f"/admin/mail/{message.id}/retry", follow_redirects=True).status_code == 200
    assert messages(db)[0].delivery == "sent"  # a sent message is not sent again


def test_the_mail_page_is_french_and_for_admins_only(client, db, users, login_as):
    login_as(users["admin"])
    assert "Courriels non envoyés" in client.get("/admin/mail", headers={"Accept-Language": "fr"}).get_data(
        as_text=True)
    for role in ("association", "evaluator", "officer", "approver"):
        login_as(users[role])
        assert client.get("/admin/mail").status_code == 403
        assert client.post("/admin/mail/1/retry").status_code == 403


@pytest.mark.backends
def test_two_workers_at_once_deliver_each_email_exactly_once(app, db, backend):
    handler = Inbox(delay=0.01)
    controller = smtp_server(handler, GOOD_PORT)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=GOOD_PORT, MAIL_USE_TLS=False, MAIL_TIMEOUT=5)
    recipients = queue(db, 40)
    db.session.remove()
    start, results, errors = threading.Barrier(2), [], []

    def work():
        try:
            with app.app_context():
                start.wait()
                results.append(mail.deliver_due())
                mail.db.session.remove()
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        controller.stop()
    assert errors == []
    assert sorted(handler.recipients()) == sorted(recipients)  # each once, none lost
    assert sum(r.sent for r in results) == 40 and all(r.sent for r in results)  # both took part
    assert {m.delivery for m in messages(db)} == {"sent"}


class Crash(BaseException):
    """The worker's process ending abruptly (not an SMTP failure the worker would record)."""


def test_a_crash_mid_batch_resends_only_the_message_in_flight(app, db, inbox, monkeypatch):
    recipients = queue(db, 6)
    real, sends = mail._smtp_send, []

    def crash_after_the_third(message):
        real(message)
        sends.append(message.recipient)
        if len(sends) == 3:
            raise Crash

    monkeypatch.setattr(mail, "_smtp_send", crash_after_the_third)
    with pytest.raises(Crash):
        mail.deliver_due()
    monkeypatch.setattr(mail, "_smtp_send", real)
    db.session.rollback()
    statuses = [(m.delivery, m.claimed_by is not None) for m in messages(db)]
    assert statuses[:3] == [("sent", False), ("sent", False), ("pending", True)]  # the third was in flight
    assert statuses[3:] == [("pending", False)] * 3
    assert mail.deliver_due().sent == 3  # the others; the third is still claimed by the dead worker
    db.session.execute(update(OutboxMessage).values(claimed_until=utcnow() - timedelta(seconds=1))
                       .where(OutboxMessage.claimed_by.is_not(None)))  # its MAIL_CLAIM_TIMEOUT is over
    db.session.commit()
    assert mail.deliver_due().sent == 1
    received = inbox.recipients()
    assert sorted(received) == sorted([*recipients, recipients[2]])  # only the one in flight twice
    assert {m.delivery for m in messages(db)} == {"sent"}


def test_no_email_body_in_any_log_line(app, db, refusing, caplog, runner, client, users):
    caplog.set_level(logging.DEBUG)
    client.post("/account/reset", data={"email": users["association"].email})
    queue(db, 1)
    runner.invoke(args=["send-mail"])
    make_due(db)
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    runner.invoke(args=["send-mail"])
    # Every logger but the test SMTP server's own (aiosmtpd logs what it receives).
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name != "mail.log")
    assert "mail 1 queued" in logged and "given up" in logged  # the worker did log
    for message in messages(db):
        token = re.search(r"/account/reset/(\S+)", message.body).group(1)
        assert token not in logged and message.body.strip() not in logged
    assert "SECRET" not in logged


def test_retry_delays_double_up_to_the_cap(app):
    app.config.update(MAIL_RETRY_BASE_SECONDS=60, MAIL_RETRY_MAX_SECONDS=600)
    assert [mail.retry_delay(n).total_seconds() for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]


def test_the_loop_sends_as_mail_arrives_and_stops_on_sigterm(app, db, tmp_path):
    handler = Inbox()
    controller = smtp_server(handler, LOOP_PORT)
    queue(db, 2)
    env = {**os.environ, "CODEV_ENV_NAME": "test", "CODEV_SECRET_KEY": "x" * 40,
           "CODEV_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "CODEV_MAIL_SERVER": "127.0.0.1",
           "CODEV_MAIL_PORT": str(LOOP_PORT), "CODEV_MAIL_USE_TLS": "false", "CODEV_MAIL_POLL_SECONDS": "0.2",
           "CODEV_SERVER_NAME": "localhost"}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "codev", "send-mail", "--loop"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: len(handler.messages) == 2)
        queue(db, 1, prefix="later")  # the loop keeps going
        wait_for(lambda: len(handler.messages) == 3)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
        controller.stop()
    assert worker.returncode == 0
    assert "mail worker started" in output and "mail worker stopped; sent 3 messages" in output
    assert sorted(handler.recipients()) == ["later0@example.org", "m0@example.org", "m1@example.org"]


def wait_for(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
