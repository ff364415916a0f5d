"""Data retention: applications nobody needs any more lose their personal data, their figures stay.

Two rules (settings in ``codev/config.py``):

- a **draft** untouched for ``RETENTION_DRAFT_IDLE_DAYS``;
- a **withdrawn** or **rejected** application whose status has not changed for ``RETENTION_CLOSED_DAYS``.

``flask --app codev apply-retention`` (daily, under its job lock) first **notices**: the association is
emailed once, in its language, that the application will be anonymised after ``RETENTION_NOTICE_DAYS``,
and what it can do (edit the draft to keep it, download its export). The notice is a row of
``retention_notices`` holding the project's version at that moment. Once the notice period has passed
the job **anonymises**, but only when the project is as it was noticed (same version, same status): an
edited draft is no longer idle, so its notice is deleted (reset) and the clock starts again.

Anonymising removes what a person wrote or uploaded: the title, the texts, the village, the local partner's
name and commitment, the budget and financing lines' descriptions, the history's messages, the creator, and
the files (their rows, then their bytes through the file store, after the commit). It keeps the figures:
status, call, sector, region, prefecture, commune, beneficiaries, dates, budget categories and amounts,
financing sources and amounts, the requested grant. Dashboards and statistics read only those, so they
give the same numbers before and after. A project with a grant (money) is never touched: the rules only
reach drafts, withdrawn and rejected projects, and each is checked again, locked, for a grant.

Overlap: the job lock saves work; what makes each step happen once is the database — one notice per
project (unique), and the anonymisation claimed by one guarded ``UPDATE … WHERE anonymised_at IS NULL``
under the project's row lock. Every notice, reset and anonymisation is an audit event (no actor: the job).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, and_, delete, exists, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from codev.accounts.models import Association
from codev.core import audit
from codev.core.mail import queue_mail
from codev.core.models import Attachment
from codev.core.storage import StorageError, storage
from codev.core.timeutil import UTCDateTime, utcnow
from codev.extensions import db
from codev.grants.models import Grant
from codev.projects.models import BudgetLine, FinancingLine, Project, ProjectAttachment, ProjectEvent, ProjectStatus

log = logging.getLogger("codev.retention")

ANONYMISED_TITLE = "—"  # the title an anonymised application keeps (a neutral mark, the same in every language)


class Rule:
    """Why an application falls under retention (the notice's ``rule``)."""

    DRAFT_IDLE = "draft_idle"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


RULE_STATUS = {Rule.DRAFT_IDLE: ProjectStatus.DRAFT, Rule.WITHDRAWN: ProjectStatus.WITHDRAWN,
               Rule.REJECTED: ProjectStatus.REJECTED}
STATUS_RULE = {status: rule for rule, status in RULE_STATUS.items()}


class RetentionNotice(db.Model):
    """The notice sent before an application is anonymised, and when it was (one per project)."""

    __tablename__ = "retention_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    rule: Mapped[str] = mapped_column(String(20))
    project_version: Mapped[int] = mapped_column()  # as noticed: a later edit resets the notice
    recipient: Mapped[str | None] = mapped_column(String(254))  # None: the association had no address
    noticed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    anonymise_after: Mapped[datetime] = mapped_column(UTCDateTime)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("rule IN ('draft_idle', 'withdrawn', 'rejected')", name="rule_valid"),
        CheckConstraint("anonymise_after >= noticed_at", name="notice_period"),
        Index("ix_retention_notices_due", "anonymised_at", "anonymise_after"),
    )


@dataclass
class Plan:
    """What a run would do: projects to notice and projects to anonymise (or reset), by id."""

    notices: list[int]
    anonymisations: list[int]


def _days(setting: str) -> timedelta:
    return timedelta(days=int(current_app.config[setting]))


def _falls_under(now: datetime):
    """The SQL condition of both rules on ``projects`` (idle since ``updated_at``)."""
    return or_(
        and_(Project.status == ProjectStatus.DRAFT, Project.updated_at <= now - _days("RETENTION_DRAFT_IDLE_DAYS")),
        and_(Project.status.in_((ProjectStatus.WITHDRAWN, ProjectStatus.REJECTED)),
             Project.updated_at <= now - _days("RETENTION_CLOSED_DAYS")),
    )


def _noticed_as_it_is():
    """A notice still pending, or an anonymisation the project has not been edited since."""
    return exists().where(RetentionNotice.project_id == Project.id,
                          or_(RetentionNotice.anonymised_at.is_(None),
                              RetentionNotice.project_version == Project.version))


def due_notices(now: datetime | None = None) -> list[int]:
    """Projects falling under a rule that hold no grant and have no notice yet — or were anonymised and then
    edited (a member wrote a draft again) and have been idle since — by id."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Project.id).where(
            _falls_under(now), ~_noticed_as_it_is(), ~exists().where(Grant.project_id == Project.id),
        ).order_by(Project.id)))


def due_anonymisations(now: datetime | None = None) -> list[int]:
    """Projects whose notice period is over and which are not anonymised yet, by id."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(RetentionNotice.project_id).where(RetentionNotice.anonymised_at.is_(None),
                                                 RetentionNotice.anonymise_after <= now)
        .order_by(RetentionNotice.project_id)))


def plan(now: datetime | None = None) -> Plan:
    """What a run at ``now`` would do (the dry run prints it)."""
    return Plan(due_notices(now), due_anonymisations(now))


def _locked(project_id: int) -> Project | None:
    """The project read again, its row locked until the transaction ends (PostgreSQL; SQLite writes one at a
    time)."""
    return db.session.scalar(select(Project).where(Project.id == project_id).with_for_update()
                             .execution_options(populate_existing=True))


def _has_grant(project_id: int) -> bool:
    return db.session.scalar(select(exists().where(Grant.project_id == project_id)))


def notice(project_id: int, now: datetime | None = None) -> RetentionNotice | None:
    """Record the notice of one project and email its association; None when it is no longer due (edited,
    moved on, or noticed meanwhile by another run). Flushed, not committed: the email goes with the row."""
    now = now or utcnow()
    project = _locked(project_id)
    if project is None or _has_grant(project_id):
        return None
    rule = STATUS_RULE.get(ProjectStatus(project.status))
    if rule is None or not _still_falls(project, now):
        return None
    earlier = db.session.scalar(select(RetentionNotice).where(RetentionNotice.project_id == project_id)
                                .execution_options(populate_existing=True))
    if earlier is not None:
        if earlier.anonymised_at is None or earlier.project_version == project.version:
            return None  # noticed already (by another run, meanwhile), or anonymised and untouched since
        db.session.delete(earlier)  # anonymised, then written again: the new text gets a notice of its own
        db.session.flush()
    association = db.session.get(Association, project.association_id)
    after = now + _days("RETENTION_NOTICE_DAYS")
    recipient = (association.contact_email or "").strip() or None
    row = RetentionNotice(project_id=project.id, rule=rule, project_version=project.version, recipient=recipient,
                          noticed_at=now, anonymise_after=after)
    db.session.add(row)
    db.session.flush()  # the unique project_id: a second run's insert fails here, before its email
    if recipient:
        locale = association.locale or "fr"
        queue_mail(recipient, locale, "retention_notice", association_name=association.name,
                   title=project.title, reference=project.reference, rule=rule, date=after,
                   url=_url(f"/projects/{project.id}"), export_url=_url(f"/associations/{association.id}/export"))
    audit.record("project.retention_notice", project, actor=None,
                 after={"rule": rule, "anonymise_after": after.isoformat(), "notified": recipient is not None})
    return row


def _still_falls(project: Project, now: datetime) -> bool:
    """The rule read again on the locked row (an edit since the list was drawn takes it out)."""
    status = ProjectStatus(project.status)
    if status == ProjectStatus.DRAFT:
        return project.updated_at <= now - _days("RETENTION_DRAFT_IDLE_DAYS")
    if status in (ProjectStatus.WITHDRAWN, ProjectStatus.REJECTED):
        return project.updated_at <= now - _days("RETENTION_CLOSED_DAYS")
    return False


@dataclass(frozen=True)
class Outcome:
    project_id: int
    action: str  # "anonymised", "reset" (changed since the notice) or "" (done meanwhile by another run)
    files: tuple[str, ...] = ()  # stored names: their bytes go from the store once the transaction is committed


def anonymise_due(project_id: int, now: datetime | None = None) -> Outcome:
    """Anonymise one noticed project if its notice period is over and it is as it was noticed; reset its
    notice if it changed. Flushed, not committed; the caller deletes ``files`` from the store after the
    commit (:func:`discard_files`)."""
    now = now or utcnow()
    project = _locked(project_id)
    row = db.session.scalar(select(RetentionNotice).where(RetentionNotice.project_id == project_id)
                            .execution_options(populate_existing=True))
    if project is None or row is None or row.anonymised_at is not None or row.anonymise_after > now:
        return Outcome(project_id, "")
    if (project.version != row.project_version or project.status != RULE_STATUS[row.rule]
            or _has_grant(project_id)):
        audit.record("project.retention_reset", project, actor=None,
                     before={"rule": row.rule, "noticed_at": row.noticed_at.isoformat()},
                     after={"status": project.status})
        db.session.delete(row)
        db.session.flush()
        return Outcome(project_id, "reset")
    claimed = db.session.execute(
        update(RetentionNotice).where(RetentionNotice.id == row.id, RetentionNotice.anonymised_at.is_(None))
        .values(anonymised_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return Outcome(project_id, "")
    files = _anonymise(project)
    db.session.flush()
    # The version the anonymisation left, so that an edit of an anonymised draft can be told from it.
    db.session.execute(update(RetentionNotice).where(RetentionNotice.id == row.id)
                       .values(project_version=project.version).execution_options(synchronize_session=False))
    audit.record("project.anonymised", project, actor=None,
                 after={"rule": row.rule, "files_removed": len(files), "status": project.status})
    return Outcome(project_id, "anonymised", files)


def _anonymise(project: Project) -> tuple[str, ...]:
    """Remove the personal data of ``project`` (texts, names, files' rows); keep its figures."""
    project.title = ANONYMISED_TITLE
    for name in ("summary", "village", "local_partner_name", "local_partner_commitment", "problem", "objectives",
                 "activities"):
        setattr(project, name, None)
    project.created_by_id = None
    db.session.execute(update(BudgetLine).where(BudgetLine.project_id == project.id)
                       .values(description=ANONYMISED_TITLE).execution_options(synchronize_session=False))
    db.session.execute(update(FinancingLine).where(FinancingLine.project_id == project.id)
                       .values(description=None).execution_options(synchronize_session=False))
    db.session.execute(update(ProjectEvent).where(ProjectEvent.project_id == project.id)
                       .values(message=None).execution_options(synchronize_session=False))
    rows = db.session.execute(
        select(Attachment.id, Attachment.stored_name)
        .join(ProjectAttachment, ProjectAttachment.attachment_id == Attachment.id)
        .where(ProjectAttachment.project_id == project.id)).all()
    ids = [row.id for row in rows]
    if ids:
        db.session.execute(delete(ProjectAttachment).where(ProjectAttachment.project_id == project.id)
                           .execution_options(synchronize_session=False))
        db.session.execute(delete(Attachment).where(Attachment.id.in_(ids)).execution_options(
            synchronize_session=False))
    db.session.expire(project, ["budget_lines", "financing_lines", "attachments", "events"])
    return tuple(row.stored_name for row in rows)


def discard_files(stored_names: tuple[str, ...]) -> None:
    """The bytes of an anonymised project's files, out of the store (after the commit that removed their rows).

    A store that cannot be reached leaves the bytes behind, logged: no row points at them any more.
    """
    for name in stored_names:
        try:
            storage().delete(name)
        except StorageError as exc:
            log.warning("file left in the store after anonymisation, no attachment refers to it: %s", exc)


def is_anonymised(project_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(RetentionNotice.project_id == project_id,
                                                        RetentionNotice.anonymised_at.is_not(None)))))


def _url(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path
