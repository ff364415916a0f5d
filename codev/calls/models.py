"""Calls for projects: dates, envelope, funding rules, evaluation grid, tranche plan, exchange rates."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from codev.core.i18n import lazy_gettext as _l
from codev.core.money import Ratio
from codev.core.templating import localized
from codev.core.timeutil import UTCDateTime, utcnow
from codev.extensions import db, sql_values


class CallStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    EVALUATING = "evaluating"
    DECIDED = "decided"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return str(CALL_STATUS_LABELS[self])


CALL_STATUS_LABELS = {
    CallStatus.DRAFT: _l("Draft"),
    CallStatus.OPEN: _l("Open"),
    CallStatus.CLOSED: _l("Closed"),
    CallStatus.EVALUATING: _l("Under evaluation"),
    CallStatus.DECIDED: _l("Decided"),
    CallStatus.ARCHIVED: _l("Archived"),
}


class TrancheCondition(StrEnum):
    """What must have happened before a tranche can be paid."""

    AWARD = "award"
    CONTRIBUTION_VERIFIED = "contribution_verified"
    PROGRESS_REPORT = "progress_report_accepted"
    FINAL_REPORT = "final_report_accepted"

    @property
    def label(self) -> str:
        return str(TRANCHE_CONDITION_LABELS[self])


TRANCHE_CONDITION_LABELS = {
    TrancheCondition.AWARD: _l("At the award"),
    TrancheCondition.CONTRIBUTION_VERIFIED: _l("When the association's contribution is verified"),
    TrancheCondition.PROGRESS_REPORT: _l("When the progress report is accepted"),
    TrancheCondition.FINAL_REPORT: _l("When the final report is accepted"),
}


class AttachmentKind(StrEnum):
    """Kinds of documents a project carries (a call lists the ones it requires)."""

    PARTNERSHIP = "partnership_agreement"
    QUOTE = "quote"
    TECHNICAL = "technical_file"
    COMMUNE_LETTER = "commune_letter"
    PROOF_OF_FUNDS = "proof_of_funds"
    PHOTO = "photo"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(ATTACHMENT_KIND_LABELS[self])


ATTACHMENT_KIND_LABELS = {
    AttachmentKind.PARTNERSHIP: _l("Partnership agreement with the local partner"),
    AttachmentKind.QUOTE: _l("Quote"),
    AttachmentKind.TECHNICAL: _l("Technical file"),
    AttachmentKind.COMMUNE_LETTER: _l("Letter of support from the commune"),
    AttachmentKind.PROOF_OF_FUNDS: _l("Proof of the association's funds"),
    AttachmentKind.PHOTO: _l("Photo of the site"),
    AttachmentKind.OTHER: _l("Other document"),
}


class Call(db.Model):
    """A call for projects with its money rules. Amounts in whole XOF; shares in basis points."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str | None] = mapped_column(Text)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Opened by the scheduled job (``flask open-close-calls``) at ``opens_at`` if complete by then; every
    # open call is closed by the same job at ``closes_at``.
    opens_automatically: Mapped[bool] = mapped_column(default=False, server_default=false())
    status: Mapped[CallStatus] = mapped_column(String(20), default=CallStatus.DRAFT, index=True)

    envelope_xof: Mapped[int] = mapped_column(BigInteger, default=0)
    committed_xof: Mapped[int] = mapped_column(BigInteger, default=0)  # grants approved (issue 5)

    # Funding rules (DESIGN.md rule 2). A ratio of 2:1 is ratio_num=2, ratio_den=1.
    ratio_num: Mapped[int] = mapped_column(default=1)
    ratio_den: Mapped[int] = mapped_column(default=1)
    max_grant_xof: Mapped[int | None] = mapped_column(BigInteger)
    max_grant_share_bps: Mapped[int | None] = mapped_column()  # 7000 = at most 70 % of the budget
    min_association_share_bps: Mapped[int | None] = mapped_column()
    max_total_budget_xof: Mapped[int | None] = mapped_column(BigInteger)
    in_kind_counts_bps: Mapped[int] = mapped_column(default=0)  # share of in-kind that counts as A
    contribution_deadline_days: Mapped[int | None] = mapped_column()

    qualification_threshold: Mapped[int] = mapped_column(default=60)  # out of 100
    min_evaluators: Mapped[int] = mapped_column(default=2)
    score_gap_flag: Mapped[int] = mapped_column(default=20)  # points between evaluators
    max_project_files_bytes: Mapped[int] = mapped_column(BigInteger, default=50 * 1024 * 1024)

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # Loaded when read (lazy): lists of calls never pay for them; a page that reads them for many calls
    # asks for them (``selectinload``).
    sectors: Mapped[list[CallSector]] = relationship(
        cascade="all, delete-orphan", order_by="CallSector.sector"
    )
    regions: Mapped[list[CallRegion]] = relationship(
        cascade="all, delete-orphan", order_by="CallRegion.region"
    )
    criteria: Mapped[list[Criterion]] = relationship(
        cascade="all, delete-orphan", order_by="Criterion.position"
    )
    tranches: Mapped[list[CallTranche]] = relationship(
        cascade="all, delete-orphan", order_by="CallTranche.number"
    )
    required_attachments: Mapped[list[CallRequiredAttachment]] = relationship(
        cascade="all, delete-orphan", order_by="CallRequiredAttachment.kind"
    )

    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(CallStatus)})", name="status_valid"),
        CheckConstraint("envelope_xof >= 0", name="envelope_positive"),
        CheckConstraint("committed_xof >= 0 AND committed_xof <= envelope_xof", name="committed_within"),
        CheckConstraint("ratio_num > 0 AND ratio_den > 0", name="ratio_positive"),
        CheckConstraint("max_grant_xof IS NULL OR max_grant_xof > 0", name="max_grant_positive"),
        CheckConstraint(
            "max_grant_share_bps IS NULL OR max_grant_share_bps BETWEEN 1 AND 10000", name="grant_share_range"
        ),
        CheckConstraint(
            "min_association_share_bps IS NULL OR min_association_share_bps BETWEEN 0 AND 10000",
            name="association_share_range",
        ),
        CheckConstraint("in_kind_counts_bps BETWEEN 0 AND 10000", name="in_kind_range"),
        CheckConstraint("qualification_threshold BETWEEN 0 AND 100", name="threshold_range"),
        CheckConstraint("closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at", name="dates_order"),
    )

    @property
    def status_enum(self) -> CallStatus:
        return CallStatus(self.status)

    @property
    def ratio(self) -> Ratio:
        return Ratio(self.ratio_num, self.ratio_den)

    @property
    def sector_codes(self) -> list[str]:
        return [s.sector for s in self.sectors]

    @property
    def region_codes(self) -> list[str]:
        return [r.region for r in self.regions]

    @property
    def required_kinds(self) -> list[str]:
        return [r.kind for r in self.required_attachments]

    def title_for(self, locale: str | None = None) -> str:
        """The title in ``locale`` (by default the language being rendered), French when no English is given."""
        return localized(self, "title", locale)

    def is_accepting(self, now: datetime | None = None) -> bool:
        """Open for submissions right now."""
        now = now or utcnow()
        return (
            self.status == CallStatus.OPEN
            and self.opens_at is not None
            and self.closes_at is not None
            and self.opens_at <= now < self.closes_at
        )


class CallSector(db.Model):
    __tablename__ = "call_sectors"

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    sector: Mapped[str] = mapped_column(String(30), primary_key=True)


class CallRegion(db.Model):
    __tablename__ = "call_regions"

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    region: Mapped[str] = mapped_column(String(10), primary_key=True)


class CallRequiredAttachment(db.Model):
    __tablename__ = "call_required_attachments"

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)


class Criterion(db.Model):
    """One line of a call's evaluation grid; weights of a call add up to 100."""

    __tablename__ = "criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(String(20))
    label_fr: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    guidance_fr: Mapped[str | None] = mapped_column(Text)
    guidance_en: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[int] = mapped_column()
    max_score: Mapped[int] = mapped_column(default=10)
    eliminatory_min: Mapped[int | None] = mapped_column()

    __table_args__ = (
        UniqueConstraint("call_id", "code", name="uq_criteria_call_code"),
        CheckConstraint("weight BETWEEN 1 AND 100", name="weight_range"),
        CheckConstraint("max_score BETWEEN 1 AND 100", name="max_score_range"),
        CheckConstraint(
            "eliminatory_min IS NULL OR (eliminatory_min >= 0 AND eliminatory_min <= max_score)",
            name="eliminatory_range",
        ),
    )

    def label(self, locale: str | None = None) -> str:
        return localized(self, "label", locale)

    def guidance(self, locale: str | None = None) -> str | None:
        return localized(self, "guidance", locale) or None


class CallTranche(db.Model):
    """One tranche of a call's plan: a share of the grant and the condition that releases it."""

    __tablename__ = "call_tranches"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    share_bps: Mapped[int] = mapped_column()  # of the grant; a call's tranches add up to 10000
    condition: Mapped[TrancheCondition] = mapped_column(String(40))

    __table_args__ = (
        UniqueConstraint("call_id", "number", name="uq_call_tranches_call_number"),
        CheckConstraint("share_bps BETWEEN 1 AND 10000", name="share_range"),
        CheckConstraint(f"condition IN ({sql_values(TrancheCondition)})", name="condition_valid"),
    )


class ExchangeRate(db.Model):
    """Officer-maintained rate of a currency to XOF from a date on (EUR is fixed in code)."""

    __tablename__ = "exchange_rates"

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    rate_millionths: Mapped[int] = mapped_column(BigInteger)  # XOF per unit × 10^6
    valid_from: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("currency", "valid_from", name="uq_exchange_rates_currency_valid_from"),
        CheckConstraint("rate_millionths > 0", name="rate_positive"),
        CheckConstraint("currency IN ('USD', 'CAD', 'GBP', 'CHF')", name="currency_valid"),
    )
