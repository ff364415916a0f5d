"""Email: every message is written to the outbox in the recipient's language; SMTP sends it when set.

Without ``MAIL_SERVER`` (the default on a laptop) messages stay in the outbox and the log, where a
developer reads them (``flask --app codev outbox``).
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import Flask, current_app, g, has_request_context, render_template
from flask_babel import force_locale

from codev.core import notifications
from codev.core.models import OutboxMessage
from codev.core.timeutil import utcnow
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
    subject, _, body = text.strip().partition("\n")
    if person is not None:
        notifications.notify(person[0], template, subject.strip(), context.get("url"))
        if not person[1]:
            db.session.flush()
            log.info("notification to %s (email turned off): %s", recipient, subject.strip())
            return None
    message = OutboxMessage(
        recipient=recipient, locale=locale, subject=subject.strip()[:300], body=body.strip() + "\n"
    )
    db.session.add(message)
    db.session.flush()
    log.info("mail to %s: %s\n%s", recipient, message.subject, message.body)
    if has_request_context():
        g.mail_queued = True
    return message


def deliver_pending(limit: int = 100) -> int:
    """Send unsent outbox messages through SMTP when configured; returns how many were sent."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return 0
    pending = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id).limit(limit)
    ).all()
    sent = 0
    for message in pending:
        try:
            _smtp_send(message)
        except (OSError, smtplib.SMTPException) as exc:
            message.error = str(exc)[:500]
            log.warning("mail %s to %s failed: %s", message.id, message.recipient, exc)
        else:
            message.sent_at = utcnow()
            message.error = None
            sent += 1
    return sent


def _smtp_send(message: OutboxMessage) -> None:
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


def _deliver_after_request(response):
    """Send what the request queued, once its transaction is committed."""
    if g.get("mail_queued") and current_app.config.get("MAIL_SERVER") and response.status_code < 400:
        if deliver_pending():
            db.session.commit()
    return response


def init_app(app: Flask) -> None:
    app.after_request(_deliver_after_request)
