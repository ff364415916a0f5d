"""Grants and their money: the award, its letters, the counterpart ledger, disbursements, reports.

Money is whole XOF in integer columns. The ledger (``contribution_entries``) and the disbursements
are append-only: a correction is a new entry, never an edit (database triggers refuse UPDATE and
DELETE on SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from codev.accounts.models import User
from codev.calls.models import Call
from codev.core.appendonly import make_append_only
from codev.core.i18n import lazy_gettext as _l
from codev.core.models import Attachment
from codev.core.money import Ratio
from codev.core.timeutil import UTCDateTime, utcnow
from codev.extensions import db, sql_values
from codev.grants import totals
from codev.projects.models import Project


class GrantStatus(StrEnum):
    AWARDED = "awarded"
    ACTIVE = "active"
    COMPLETED = "completed"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(GRANT_STATUS_LABELS[self])


GRANT_STATUS_LABELS = {
    GrantStatus.AWARDED: _l("Awarded"),
    GrantStatus.ACTIVE: _l("Active"),
    GrantStatus.COMPLETED: _l("Completed"),
    GrantStatus.LAPSED: _l("Lapsed"),
    GrantStatus.CANCELLED: _l("Cancelled"),
}


class Grant(db.Model):
    """The state's grant to one project, with the call's rules as they stood at approval."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    amount_xof: Mapped[int] = mapped_column(BigInteger)  # G
    # Snapshot of the rules (never read from the call again for this grant).
    ratio_num: Mapped[int] = mapped_column()
    ratio_den: Mapped[int] = mapped_column()
    in_kind_counts_bps: Mapped[int] = mapped_column()
    rules_snapshot: Mapped[dict] = mapped_column(JSON)  # every funding rule + tranche plan, for the record
    required_association_xof: Mapped[int] = mapped_column(BigInteger)  # eligible A that unlocks all of G
    contribution_deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[GrantStatus] = mapped_column(String(20), default=GrantStatus.AWARDED, index=True)
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_xof: Mapped[int] = mapped_column(BigInteger, default=0)  # returned to the envelope
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    project: Mapped[Project] = relationship()
    call: Mapped[Call] = relationship()
    approved_by: Mapped[User] = relationship(foreign_keys=[approved_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
    amendments: Mapped[list[GrantAmendment]] = relationship(
        back_populates="grant", order_by="GrantAmendment.id", lazy="select"
    )
    tranches: Mapped[list[GrantTranche]] = relationship(
        cascade="all, delete-orphan", order_by="GrantTranche.number", lazy="selectin"
    )
    letters: Mapped[list[AwardLetter]] = relationship(
        back_populates="grant", order_by="AwardLetter.id", lazy="select"
    )

    __table_args__ = (
        CheckConstraint("amount_xof > 0", name="amount_positive"),
        CheckConstraint("ratio_num > 0 AND ratio_den > 0", name="ratio_positive"),
        CheckConstraint("released_xof >= 0 AND released_xof <= amount_xof", name="released_within"),
        CheckConstraint("required_association_xof >= 0", name="required_positive"),
        CheckConstraint(f"status IN ({sql_values(GrantStatus)})", name="status_valid"),
        CheckConstraint("status <> 'cancelled' OR cancel_reason IS NOT NULL", name="cancelled_has_reason"),
        Index("ix_grants_approved_at", "approved_at", "id"),  # the grants list, newest first (migration 0009)
    )

    @property
    def ratio(self) -> Ratio:
        return Ratio(self.ratio_num, self.ratio_den)

    @property
    def status_enum(self) -> GrantStatus:
        return GrantStatus(self.status)


class GrantTranche(db.Model):
    """One tranche of a grant: its share, amount and the condition that makes it due."""

    __tablename__ = "grant_tranches"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    share_bps: Mapped[int] = mapped_column()
    amount_xof: Mapped[int] = mapped_column(BigInteger)  # the last tranche takes the rounding rest
    condition: Mapped[str] = mapped_column(String(40))  # a codev.calls.models.TrancheCondition

    __table_args__ = (
        UniqueConstraint("grant_id", "number", name="uq_grant_tranches_grant_number"),
        CheckConstraint("amount_xof > 0", name="amount_positive"),
    )


class AmendmentKind(StrEnum):
    EXTEND_DEADLINE = "extend_deadline"
    REDUCE = "reduce"
    INCREASE = "increase"

    @property
    def label(self) -> str:
        return str(AMENDMENT_KIND_LABELS[self])


AMENDMENT_KIND_LABELS = {
    AmendmentKind.EXTEND_DEADLINE: _l("Contribution deadline extended"),
    AmendmentKind.REDUCE: _l("Grant reduced"),
    AmendmentKind.INCREASE: _l("Grant increased"),
}


class GrantAmendment(db.Model):
    """One amendment of a grant (append-only): what changed, from what to what, why, and who approved it."""

    __tablename__ = "grant_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"), index=True)
    kind: Mapped[AmendmentKind] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    amount_before_xof: Mapped[int] = mapped_column(BigInteger)
    amount_after_xof: Mapped[int] = mapped_column(BigInteger)
    deadline_before: Mapped[date] = mapped_column(Date)
    deadline_after: Mapped[date] = mapped_column(Date)
    letter_version: Mapped[int | None] = mapped_column()  # the letters that state it
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    grant: Mapped[Grant] = relationship(back_populates="amendments")
    approved_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_values(AmendmentKind)})", name="kind_valid"),
        CheckConstraint("amount_after_xof > 0 AND amount_before_xof > 0", name="amounts_positive"),
        CheckConstraint(
            "(kind = 'extend_deadline' AND deadline_after > deadline_before AND amount_after_xof = amount_before_xof)"
            " OR (kind = 'reduce' AND amount_after_xof < amount_before_xof)"
            " OR (kind = 'increase' AND amount_after_xof > amount_before_xof)",
            name="change_matches_kind",
        ),
    )


class LetterStatus(StrEnum):
    VALID = "valid"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return str(LETTER_STATUS_LABELS[self])


LETTER_STATUS_LABELS = {
    LetterStatus.VALID: _l("Valid"),
    LetterStatus.SUPERSEDED: _l("Superseded"),
    LetterStatus.REVOKED: _l("Revoked"),
}


class AwardLetter(db.Model):
    """One rendered award letter (a version in one language); the PDF bytes are stored once."""

    __tablename__ = "award_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"), index=True)
    version: Mapped[int] = mapped_column()
    language: Mapped[str] = mapped_column(String(2))
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # what /verify/<reference> looks up
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signatory_name: Mapped[str] = mapped_column(String(120))
    signatory_title: Mapped[str] = mapped_column(String(200))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the stored PDF bytes
    # A PDF cannot print its own hash: the letter prints the SHA-256 of its canonical content (a JSON
    # of its key facts) instead, kept here so the verification page shows both.
    content_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[LetterStatus] = mapped_column(String(20), default=LetterStatus.VALID)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    grant: Mapped[Grant] = relationship(back_populates="letters")

    __table_args__ = (
        UniqueConstraint("grant_id", "version", "language", name="uq_award_letters_grant_version_language"),
        CheckConstraint("language IN ('fr', 'en')", name="language_valid"),
        CheckConstraint(f"status IN ({sql_values(LetterStatus)})", name="status_valid"),
        CheckConstraint("status <> 'revoked' OR status_reason IS NOT NULL", name="revoked_has_reason"),
    )


class EntryKind(StrEnum):
    """Entries of the counterpart ledger. A declaration's state follows from the entries after it."""

    DECLARED = "declared"  # the association declares money it brought (with proof)
    VERIFIED = "verified"  # an officer confirms a declaration (refers to it)
    REJECTED = "rejected"  # an officer refuses a declaration, with a reason (refers to it)
    REVERSAL = "reversal"  # cancels a verified declaration, with a reason (refers to it)


class ContributionEntry(db.Model):
    """One line of the append-only counterpart ledger."""

    __tablename__ = "contribution_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"), index=True)
    kind: Mapped[EntryKind] = mapped_column(String(20))
    refers_to_id: Mapped[int | None] = mapped_column(ForeignKey("contribution_entries.id"), index=True)
    source: Mapped[str] = mapped_column(String(30))  # a codev.projects.models.FundingSource
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # in the currency's cents (XOF: francs)
    rate_millionths: Mapped[int] = mapped_column(BigInteger)
    amount_xof: Mapped[int] = mapped_column(BigInteger)
    value_date: Mapped[date] = mapped_column(Date)
    proof_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    note: Mapped[str | None] = mapped_column(Text)  # reason of a rejection or reversal
    # The declaration form's key (a declaration is recorded once per key); None on decisions and reversals.
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    proof: Mapped[Attachment | None] = relationship()
    created_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_values(EntryKind)})", name="kind_valid"),
        CheckConstraint("amount_minor > 0 AND amount_xof > 0 AND rate_millionths > 0", name="amounts_positive"),
        CheckConstraint("(kind = 'declared') = (refers_to_id IS NULL)", name="refers_unless_declared"),
        CheckConstraint("kind IN ('declared', 'verified') OR note IS NOT NULL", name="reason_given"),
        CheckConstraint("currency IN ('XOF', 'EUR', 'USD', 'CAD', 'GBP', 'CHF')", name="currency_valid"),
        # One decision per declaration: at most one verified/rejected, at most one reversal.
        Index(
            "uq_contribution_entries_decision", "refers_to_id", unique=True,
            sqlite_where=db.text("kind IN ('verified', 'rejected')"),
            postgresql_where=db.text("kind IN ('verified', 'rejected')"),
        ),
        Index(
            "uq_contribution_entries_reversal", "refers_to_id", unique=True,
            sqlite_where=db.text("kind = 'reversal'"),
            postgresql_where=db.text("kind = 'reversal'"),
        ),
        # A unique index, not a constraint: SQLite adds it without rebuilding the table (and its triggers).
        Index("uq_contribution_entries_idempotency_key", "idempotency_key", unique=True),
    )


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return str(REQUEST_STATUS_LABELS[self])


REQUEST_STATUS_LABELS = {
    RequestStatus.PENDING: _l("Awaiting a second signature"),
    RequestStatus.APPROVED: _l("Signed and paid"),
    RequestStatus.REFUSED: _l("Refused"),
}


class DisbursementRequest(db.Model):
    """A disbursement waiting for an approver's second signature (above the four-eyes threshold)."""

    __tablename__ = "disbursement_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"), index=True)
    tranche_number: Mapped[int] = mapped_column()
    amount_xof: Mapped[int] = mapped_column(BigInteger)
    value_date: Mapped[date] = mapped_column(Date)
    bank_reference: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[RequestStatus] = mapped_column(String(20), default=RequestStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("amount_xof > 0", name="amount_positive"),
        CheckConstraint(f"status IN ({sql_values(RequestStatus)})", name="status_valid"),
        CheckConstraint("decided_by_id IS NULL OR decided_by_id <> requested_by_id", name="four_eyes"),
    )


class Disbursement(db.Model):
    """Money paid out of a grant; append-only, recorded once per idempotency key."""

    __tablename__ = "disbursements"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"), index=True)
    tranche_number: Mapped[int] = mapped_column()
    amount_xof: Mapped[int] = mapped_column(BigInteger)
    value_date: Mapped[date] = mapped_column(Date)
    bank_reference: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the second signature
    request_id: Mapped[int | None] = mapped_column(ForeignKey("disbursement_requests.id"), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("amount_xof > 0", name="amount_positive"),
        CheckConstraint("approved_by_id IS NULL OR approved_by_id <> recorded_by_id", name="four_eyes"),
    )


class ReportKind(StrEnum):
    PROGRESS = "progress"
    FINAL = "final"


class ReportStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return str(REPORT_STATUS_LABELS[self])


REPORT_STATUS_LABELS = {
    ReportStatus.SUBMITTED: _l("Waiting to be read"),
    ReportStatus.ACCEPTED: _l("Accepted by the ministry"),
    ReportStatus.RETURNED: _l("Returned for changes"),
}


class Report(db.Model):
    """A progress or final report of a funded project."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"), index=True)
    kind: Mapped[ReportKind] = mapped_column(String(20))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    narrative: Mapped[str] = mapped_column(Text)
    progress_pct: Mapped[int] = mapped_column()
    expenses: Mapped[list] = mapped_column(JSON, default=list)  # [{"budget_line_id", "amount_xof"}]
    status: Mapped[ReportStatus] = mapped_column(String(20), default=ReportStatus.SUBMITTED, index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_comment: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))  # the form's: a report is filed once per key

    # Loaded where shown (selectinload): a page that lists reports without their files reads none of them.
    attachments: Mapped[list[ReportAttachment]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_values(ReportKind)})", name="kind_valid"),
        CheckConstraint(f"status IN ({sql_values(ReportStatus)})", name="status_valid"),
        CheckConstraint("progress_pct BETWEEN 0 AND 100", name="progress_range"),
        CheckConstraint("status <> 'returned' OR review_comment IS NOT NULL", name="returned_has_comment"),
        Index("uq_reports_idempotency_key", "idempotency_key", unique=True),
    )


class ReportAttachment(db.Model):
    __tablename__ = "report_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # photo / document

    file: Mapped[Attachment] = relationship(lazy="joined")



class ReminderSent(db.Model):
    """A reminder an association was sent (``codev.grants.life.reminders``): written in the transaction of
    its emails, and unique per grant and key, so two overlapping runs cannot both send it."""

    __tablename__ = "reminders_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"))
    key: Mapped[str] = mapped_column(String(64))  # e.g. "contribution-30", "report-progress-2"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("grant_id", "key", name="uq_reminders_sent_grant_id_key"),)

make_append_only(ContributionEntry.__table__)
make_append_only(Disbursement.__table__)
make_append_only(GrantAmendment.__table__)
totals.attach(ContributionEntry.__table__)
totals.attach(Disbursement.__table__)
