"""Tables of the shared mechanisms: audit events, the mail outbox, job locks, stored files, login attempts,
throttling."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from codev.core.filenames import name_for
from codev.core.timeutil import UTCDateTime, utcnow
from codev.extensions import db, sql_values


class AuditEvent(db.Model):
    """One security-relevant action; append-only (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column()
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))

    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)


class MailStatus(StrEnum):
    """Where an email stands: waiting for the worker (or a retry), handed to SMTP, or given up."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    """An email: always written here (in the transaction of the change it tells about); the mail worker
    (``flask --app codev send-mail``) claims it, sends it through SMTP and marks it, retrying with backoff."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    locale: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # The queue's bookkeeping, written by the mail worker's atomic claims (core/mail.py), not a state of the
    # programme: no workflow of the engine, no history (tests/test_workflow_engine.py scans ``status``).
    delivery: Mapped[str] = mapped_column(String(10), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)  # SMTP tries so far
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # due from then
    claimed_by: Mapped[str | None] = mapped_column(String(100))  # the worker sending it now
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # after that, another may take it
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        CheckConstraint(f"delivery IN ({sql_values(MailStatus)})", name="delivery_valid"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("(delivery = 'sent') = (sent_at IS NOT NULL)", name="sent_has_date"),
        Index("ix_outbox_messages_due", "delivery", "next_attempt_at"),
    )


class JobLock(db.Model):
    """A scheduled job running now, on SQLite (PostgreSQL uses an advisory lock): see ``codev.core.jobs``."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. "send-reminders"
    holder: Mapped[str] = mapped_column(String(100))  # host, process and a random part
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # an older lock is taken over


class Attachment(db.Model):
    """A stored upload: random name on disk, type checked by content signature, SHA-256 kept."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_attachments_uploaded_by_id_users")
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    @property
    def display_name(self) -> str:
        """The name pages show and downloads carry: cleaned, with the detected format's extension."""
        return name_for(self.original_name, self.content_type)


class LoginAttempt(db.Model):
    """A sign-in attempt, kept in the database so throttling holds across worker processes."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45))
    success: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )


class ThrottleCounter(db.Model):
    """Claims of one limited action by one key in its current window (see ``codev.core.throttle``)."""

    __tablename__ = "throttle_counters"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)  # e.g. "login.email"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)  # an email, an address, …
    hits: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (CheckConstraint("hits >= 0", name="hits_not_negative"),)
