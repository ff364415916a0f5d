"""An association's application: the project, its budget lines, financing plan, files and history."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from codev.accounts.models import Association, User
from codev.calls.models import Call
from codev.core.i18n import lazy_gettext as _l
from codev.core.models import Attachment
from codev.core.timeutil import UTCDateTime, utcnow
from codev.extensions import db, sql_values


class ProjectStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    INELIGIBLE = "ineligible"
    IN_REVIEW = "in_review"
    QUALIFIED = "qualified"
    NOT_QUALIFIED = "not_qualified"
    APPROVED = "approved"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    FUNDED = "funded"
    COMPLETED = "completed"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"  # its grant lapsed or was cancelled

    @property
    def label(self) -> str:
        return str(PROJECT_STATUS_LABELS[self])


PROJECT_STATUS_LABELS = {
    ProjectStatus.DRAFT: _l("Draft"),
    ProjectStatus.SUBMITTED: _l("Submitted"),
    ProjectStatus.RETURNED: _l("Returned for changes"),
    ProjectStatus.INELIGIBLE: _l("Ineligible"),
    ProjectStatus.IN_REVIEW: _l("Under review"),
    ProjectStatus.QUALIFIED: _l("Qualified"),
    ProjectStatus.NOT_QUALIFIED: _l("Not qualified"),
    ProjectStatus.APPROVED: _l("Approved"),
    ProjectStatus.REJECTED: _l("Rejected"),
    ProjectStatus.DEFERRED: _l("Deferred"),
    ProjectStatus.FUNDED: _l("Funded"),
    ProjectStatus.COMPLETED: _l("Completed"),
    ProjectStatus.CLOSED: _l("Closed"),
    ProjectStatus.WITHDRAWN: _l("Withdrawn"),
    ProjectStatus.LAPSED: _l("Lapsed"),
}

# Statuses in which the association may still edit its application.
EDITABLE = frozenset({ProjectStatus.DRAFT, ProjectStatus.RETURNED})


class BudgetCategory(StrEnum):
    WORKS = "works"
    EQUIPMENT = "equipment"
    SUPPLIES = "supplies"
    SERVICES = "services"
    TRAINING = "training"
    STAFF = "staff"
    TRANSPORT = "transport"
    MONITORING = "monitoring"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(BUDGET_CATEGORY_LABELS[self])


BUDGET_CATEGORY_LABELS = {
    BudgetCategory.WORKS: _l("Works and construction"),
    BudgetCategory.EQUIPMENT: _l("Equipment"),
    BudgetCategory.SUPPLIES: _l("Supplies and materials"),
    BudgetCategory.SERVICES: _l("Services and studies"),
    BudgetCategory.TRAINING: _l("Training and awareness"),
    BudgetCategory.STAFF: _l("Staff"),
    BudgetCategory.TRANSPORT: _l("Transport and logistics"),
    BudgetCategory.MONITORING: _l("Monitoring and evaluation"),
    BudgetCategory.OTHER: _l("Other"),
}


class FundingSource(StrEnum):
    """Who brings the money of a financing-plan line (the requested grant is on the project)."""

    ASSOCIATION_CASH = "association_cash"
    ASSOCIATION_IN_KIND = "association_in_kind"
    COMMUNITY = "community"
    COMMUNE = "commune"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(FUNDING_SOURCE_LABELS[self])


FUNDING_SOURCE_LABELS = {
    FundingSource.ASSOCIATION_CASH: _l("Association, in cash"),
    FundingSource.ASSOCIATION_IN_KIND: _l("Association, in kind"),
    FundingSource.COMMUNITY: _l("Beneficiary community"),
    FundingSource.COMMUNE: _l("Commune"),
    FundingSource.OTHER: _l("Other partners"),
}


class Project(db.Model):
    """A local development project of an association, answering a call."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)  # CODEV-2026-0042
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"))  # indexed with the status, below
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    status: Mapped[ProjectStatus] = mapped_column(String(20), default=ProjectStatus.DRAFT, index=True)

    # General
    title: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str | None] = mapped_column(String(30))
    summary: Mapped[str | None] = mapped_column(Text)
    led_by_women: Mapped[bool] = mapped_column(default=False)
    # Location and local partner
    region: Mapped[str | None] = mapped_column(String(10))
    prefecture: Mapped[str | None] = mapped_column(String(60))
    commune: Mapped[str | None] = mapped_column(String(60))
    village: Mapped[str | None] = mapped_column(String(120))
    local_partner_name: Mapped[str | None] = mapped_column(String(200))
    local_partner_kind: Mapped[str | None] = mapped_column(String(30))  # commune / committee / other
    local_partner_commitment: Mapped[str | None] = mapped_column(Text)
    # Description and beneficiaries
    problem: Mapped[str | None] = mapped_column(Text)
    objectives: Mapped[str | None] = mapped_column(Text)
    activities: Mapped[str | None] = mapped_column(Text)
    beneficiaries_total: Mapped[int | None] = mapped_column()
    beneficiaries_women: Mapped[int | None] = mapped_column()
    beneficiaries_youth: Mapped[int | None] = mapped_column()
    start_date: Mapped[date | None] = mapped_column(Date)
    duration_months: Mapped[int | None] = mapped_column()
    # Financing: the requested grant; the other sources are FinancingLine rows.
    requested_grant_xof: Mapped[int] = mapped_column(BigInteger, default=0)

    steps_done: Mapped[str] = mapped_column(String(200), default="")  # comma-separated step names
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # latest submission
    version: Mapped[int] = mapped_column(default=1)  # optimistic lock between co-editing members

    association: Mapped[Association] = relationship()
    call: Mapped[Call] = relationship()
    budget_lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="BudgetLine.position"
    )
    financing_lines: Mapped[list[FinancingLine]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="FinancingLine.position"
    )
    attachments: Mapped[list[ProjectAttachment]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectAttachment.id"
    )
    events: Mapped[list[ProjectEvent]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(ProjectStatus)})", name="status_valid"),
        CheckConstraint("requested_grant_xof >= 0", name="grant_positive"),
        # A draft gets its reference at the first submission; a draft may be withdrawn before it has one.
        CheckConstraint(
            "status IN ('draft', 'withdrawn') OR reference IS NOT NULL", name="submitted_has_reference"
        ),
        CheckConstraint(
            "beneficiaries_women IS NULL OR beneficiaries_total IS NULL OR beneficiaries_women <= beneficiaries_total",
            name="women_within_total",
        ),
        CheckConstraint("duration_months IS NULL OR duration_months BETWEEN 1 AND 120", name="duration_range"),
        # The association's projects, and the projects by place and sector, each with the status: the lists find
        # them by the first column, and the dashboard counts the submitted projects of each value from the
        # index alone, in its order (no sort: migration 0020).
        Index("ix_projects_association_status", "association_id", "status"),
        Index("ix_projects_region_status", "region", "status"),
        Index("ix_projects_prefecture_status", "prefecture", "status"),
        Index("ix_projects_sector_status", "sector", "status"),
        # The ministry's list: newest submission first, drafts last, with or without a status (migration 0009).
        # PostgreSQL keeps the index in the sort's own order; SQLite reads a plain one backwards (the same order:
        # it sorts NULLs first when ascending) and has no NULLS LAST in an index.
        Index("ix_projects_submitted_at", "submitted_at", "id").ddl_if(dialect="sqlite"),
        Index("ix_projects_status_submitted_at", "status", "submitted_at", "id").ddl_if(dialect="sqlite"),
        Index("ix_projects_submitted_at_desc", text("submitted_at DESC NULLS LAST"), text("id DESC"))
        .ddl_if(dialect="postgresql"),
        Index("ix_projects_status_submitted_at_desc", "status", text("submitted_at DESC NULLS LAST"),
              text("id DESC")).ddl_if(dialect="postgresql"),
    )

    @property
    def status_enum(self) -> ProjectStatus:
        return ProjectStatus(self.status)

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE


class BudgetLine(db.Model):
    """quantity × unit cost = amount, in whole XOF (amount stored for sums in SQL)."""

    __tablename__ = "budget_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    category: Mapped[BudgetCategory] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_cost_xof: Mapped[int] = mapped_column(BigInteger)
    amount_xof: Mapped[int] = mapped_column(BigInteger)

    project: Mapped[Project] = relationship(back_populates="budget_lines")

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_cost_xof > 0", name="unit_cost_positive"),
        CheckConstraint("amount_xof = quantity * unit_cost_xof", name="amount_is_product"),
        CheckConstraint(f"category IN ({sql_values(BudgetCategory)})", name="category_valid"),
    )


class FinancingLine(db.Model):
    """One source of the financing plan; foreign amounts keep both figures and the rate used."""

    __tablename__ = "financing_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    source: Mapped[FundingSource] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(String(300))
    currency: Mapped[str] = mapped_column(String(3), default="XOF")
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # in the currency's cents (XOF: francs)
    rate_millionths: Mapped[int] = mapped_column(BigInteger, default=1_000_000)
    amount_xof: Mapped[int] = mapped_column(BigInteger)

    project: Mapped[Project] = relationship(back_populates="financing_lines")

    __table_args__ = (
        CheckConstraint("amount_minor > 0 AND amount_xof > 0", name="amount_positive"),
        CheckConstraint(f"source IN ({sql_values(FundingSource)})", name="source_valid"),
        CheckConstraint("currency IN ('XOF', 'EUR', 'USD', 'CAD', 'GBP', 'CHF')", name="currency_valid"),
    )


class ProjectAttachment(db.Model):
    """A document of a project (quote, agreement, photo…)."""

    __tablename__ = "project_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(30))

    project: Mapped[Project] = relationship(back_populates="attachments")
    file: Mapped[Attachment] = relationship(lazy="joined")


class ProjectEvent(db.Model):
    """One entry of a project's history: who did what, when, with which message."""

    __tablename__ = "project_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    message: Mapped[str | None] = mapped_column(Text)

    project: Mapped[Project] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (Index("ix_project_events_project_at", "project_id", "at"),)


class ReferenceCounter(db.Model):
    """The last project number given in a year; bumped by one guarded UPDATE per submission."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)

    __table_args__ = (CheckConstraint("last_number >= 0", name="last_positive"),)
