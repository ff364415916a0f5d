"""The study of projects: admissibility screening, evaluator assignments, scored evaluations,
consolidated results, committee sessions and their decisions.

Scores are integers on each criterion's own scale; consolidated scores are kept in hundredths of a
point out of 100 (``score_centi`` 7350 = 73.50 / 100) so no float holds them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from codev.accounts.models import User
from codev.calls.models import Call, Criterion
from codev.core.i18n import lazy_gettext as _l
from codev.core.timeutil import UTCDateTime, utcnow
from codev.extensions import db, sql_values
from codev.projects.models import Project


class ScreeningOutcome(StrEnum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    RETURNED = "returned"


class Screening(db.Model):
    """One admissibility check of a submitted project by an officer (a returned project gets another)."""

    __tablename__ = "screenings"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # [{"code": "association_verified", "computed": true, "confirmed": true, "comment": "..."}]
    checklist: Mapped[list] = mapped_column(JSON, default=list)
    outcome: Mapped[ScreeningOutcome] = mapped_column(String(20))
    comments: Mapped[str | None] = mapped_column(Text)  # reasons of an ineligibility, message of a return

    project: Mapped[Project] = relationship()
    officer: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(f"outcome IN ({sql_values(ScreeningOutcome)})", name="outcome_valid"),
        CheckConstraint("outcome = 'eligible' OR comments IS NOT NULL", name="reasons_given"),
    )


class AssignmentStatus(StrEnum):
    ASSIGNED = "assigned"  # waiting for the conflict-of-interest declaration
    ACCEPTED = "accepted"  # no conflict declared: the evaluator may see the project and score it
    RECUSED = "recused"  # a conflict was declared: no access
    SUBMITTED = "submitted"  # the evaluation is locked
    WITHDRAWN = "withdrawn"  # the officer reassigned the project to someone else

    @property
    def label(self) -> str:
        return str(ASSIGNMENT_STATUS_LABELS[self])


ASSIGNMENT_STATUS_LABELS = {
    AssignmentStatus.ASSIGNED: _l("To accept"),
    AssignmentStatus.ACCEPTED: _l("In progress"),
    AssignmentStatus.RECUSED: _l("Recused (conflict of interest)"),
    AssignmentStatus.SUBMITTED: _l("Submitted"),
    AssignmentStatus.WITHDRAWN: _l("Withdrawn"),
}


class Recommendation(StrEnum):
    QUALIFY = "qualify"
    QUALIFY_WITH_RESERVATIONS = "qualify_with_reservations"
    NOT_QUALIFY = "not_qualify"

    @property
    def label(self) -> str:
        return str(RECOMMENDATION_LABELS[self])


RECOMMENDATION_LABELS = {
    Recommendation.QUALIFY: _l("Qualify"),
    Recommendation.QUALIFY_WITH_RESERVATIONS: _l("Qualify with reservations"),
    Recommendation.NOT_QUALIFY: _l("Do not qualify"),
}


class Assignment(db.Model):
    """An evaluator of a partner structure asked to study one project."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[AssignmentStatus] = mapped_column(String(20), default=AssignmentStatus.ASSIGNED)
    conflict_declared: Mapped[bool | None] = mapped_column()  # None until the evaluator answers
    conflict_note: Mapped[str | None] = mapped_column(Text)
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    project: Mapped[Project] = relationship()
    evaluator: Mapped[User] = relationship(foreign_keys=[evaluator_id])
    evaluation: Mapped[Evaluation | None] = relationship(back_populates="assignment", uselist=False)

    __table_args__ = (
        UniqueConstraint("project_id", "evaluator_id", name="uq_assignments_project_evaluator"),
        # A project's assignments counted by status (the bulk plan, the in-review list) and the open ones
        # counted per evaluator (their loads), each read from its index alone (migration 0021).
        Index("ix_assignments_project_status", "project_id", "status"),
        Index("ix_assignments_status_evaluator", "status", "evaluator_id"),
        CheckConstraint(f"status IN ({sql_values(AssignmentStatus)})", name="status_valid"),
        CheckConstraint("status <> 'recused' OR conflict_declared", name="recused_has_conflict"),
    )


class Evaluation(db.Model):
    """The scores of one assignment; locked once submitted."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), unique=True)
    overall_comment: Mapped[str | None] = mapped_column(Text)
    recommendation: Mapped[Recommendation | None] = mapped_column(String(30))
    score_centi: Mapped[int | None] = mapped_column()  # Σ weight × score / max, out of 100, in hundredths
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assignment: Mapped[Assignment] = relationship(back_populates="evaluation")
    scores: Mapped[list[CriterionScore]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CriterionScore.criterion_id"
    )

    __table_args__ = (
        CheckConstraint("score_centi IS NULL OR score_centi BETWEEN 0 AND 10000", name="score_range"),
        CheckConstraint(
            "submitted_at IS NULL OR (score_centi IS NOT NULL AND recommendation IS NOT NULL)",
            name="submitted_complete",
        ),
    )


class CriterionScore(db.Model):
    __tablename__ = "criterion_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    score: Mapped[int | None] = mapped_column()  # on the criterion's scale 0..max_score; None in a draft
    comment: Mapped[str | None] = mapped_column(Text)

    criterion: Mapped[Criterion] = relationship()

    __table_args__ = (
        UniqueConstraint("evaluation_id", "criterion_id", name="uq_criterion_scores_evaluation_criterion"),
        CheckConstraint("score IS NULL OR score >= 0", name="score_positive"),
    )


class ReviewResult(db.Model):
    """The consolidated result of a project's evaluations (recomputed when an evaluation is submitted)."""

    __tablename__ = "review_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    evaluations_count: Mapped[int] = mapped_column(default=0)
    score_centi: Mapped[int | None] = mapped_column()  # mean of submitted evaluations, hundredths of /100
    eliminated_by: Mapped[str | None] = mapped_column(String(20))  # code of a criterion under its minimum
    spread_centi: Mapped[int | None] = mapped_column()  # max - min of the evaluations' scores
    spread_flagged: Mapped[bool] = mapped_column(default=False)
    qualified: Mapped[bool | None] = mapped_column()  # None until enough evaluations are in
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship()


class SessionStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CommitteeSession(db.Model):
    """A sitting of the selection committee for one call."""

    __tablename__ = "committee_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(200))
    members: Mapped[str] = mapped_column(Text)  # one member per line: name, title
    chair: Mapped[str | None] = mapped_column(String(200))
    tie_breaks: Mapped[str] = mapped_column(String(200), default="led_by_women,least_funded_commune")
    minutes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SessionStatus] = mapped_column(String(20), default=SessionStatus.OPEN)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Frozen at closing: what was left of the call's envelope, and the ranking (``reserve_entries``).
    remaining_at_close_xof: Mapped[int | None] = mapped_column(BigInteger)

    call: Mapped[Call] = relationship()
    reserve: Mapped[list[ReserveEntry]] = relationship(
        back_populates="session", order_by="ReserveEntry.rank", lazy="select"
    )
    decisions: Mapped[list[CommitteeDecision]] = relationship(  # lazy: lists count them in SQL
        back_populates="session", order_by="CommitteeDecision.rank", lazy="select"
    )

    __table_args__ = (CheckConstraint(f"status IN ({sql_values(SessionStatus)})", name="status_valid"),)


class ReserveEntry(db.Model):
    """One line of a closed session's ranking, frozen at closing: the reserve list reads these."""

    __tablename__ = "reserve_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("committee_sessions.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    rank: Mapped[int] = mapped_column()
    score_centi: Mapped[int | None] = mapped_column()
    amount_xof: Mapped[int] = mapped_column(BigInteger)  # what it would take to fund it (proposed, else requested)
    outcome: Mapped[str | None] = mapped_column(String(30))  # the committee's decision at closing, if any

    session: Mapped[CommitteeSession] = relationship(back_populates="reserve")
    project: Mapped[Project] = relationship()

    __table_args__ = (
        UniqueConstraint("session_id", "project_id", name="uq_reserve_entries_session_project"),
        UniqueConstraint("session_id", "rank", name="uq_reserve_entries_session_rank"),
        CheckConstraint("amount_xof > 0", name="amount_positive"),
    )


class DecisionOutcome(StrEnum):
    APPROVED = "approved"
    CONDITIONALLY_APPROVED = "conditionally_approved"
    DEFERRED = "deferred"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return str(DECISION_OUTCOME_LABELS[self])


DECISION_OUTCOME_LABELS = {
    DecisionOutcome.APPROVED: _l("Approved"),
    DecisionOutcome.CONDITIONALLY_APPROVED: _l("Approved with conditions"),
    DecisionOutcome.DEFERRED: _l("Deferred"),
    DecisionOutcome.REJECTED: _l("Rejected"),
}


class CommitteeDecision(db.Model):
    """The committee's decision on one project in one session."""

    __tablename__ = "committee_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("committee_sessions.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    rank: Mapped[int | None] = mapped_column()
    score_centi: Mapped[int | None] = mapped_column()  # as it stood in the ranking
    outcome: Mapped[DecisionOutcome] = mapped_column(String(30))
    conditions: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    amount_proposed_xof: Mapped[int | None] = mapped_column(BigInteger)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[CommitteeSession] = relationship(back_populates="decisions")
    project: Mapped[Project] = relationship()

    __table_args__ = (
        UniqueConstraint("session_id", "project_id", name="uq_committee_decisions_session_project"),
        CheckConstraint(f"outcome IN ({sql_values(DecisionOutcome)})", name="outcome_valid"),
        CheckConstraint(
            "outcome <> 'conditionally_approved' OR conditions IS NOT NULL", name="conditions_given"
        ),
        CheckConstraint(
            "outcome NOT IN ('approved', 'conditionally_approved') OR amount_proposed_xof > 0",
            name="approved_has_amount",
        ),
    )
