"""Projects filed by an officer on an association's behalf: the draft, the scanned signed application, submission.

The association is filed first (:mod:`codev.accounts.assisted`). The officer then starts its project on an open
call (:func:`start_on_behalf`, the same rules as online: a verified association, a call accepting projects),
fills the same steps of the same form (the project services let an officer acting for the association edit
it), uploads the scan of the application the association signed (:func:`attach_signed_scan`: PDF, JPEG or PNG,
checked by content, through the file store) and submits it: the submission's own row of the workflow lets the
acting officer fire it, and :func:`signed_scan_check` refuses it while the scan is missing. Every step is in the
project's history and the audit log; the project is marked (:class:`AssistedProject`: who, when, the scan, who
submitted) wherever staff see it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship
from werkzeug.datastructures import FileStorage

from codev.accounts import assisted as accounts_assisted
from codev.accounts.assisted import AssistedError, acts_for, on_handover
from codev.accounts.models import Association, AssociationStatus, User
from codev.calls.models import Call
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.models import Attachment
from codev.core.storage import UploadError, discard_file, store_upload
from codev.core.timeutil import UTCDateTime, utcnow
from codev.extensions import db
from codev.projects.models import EDITABLE, Project, ProjectEvent, ProjectStatus
from codev.projects.workflow import PROJECT

SCAN_FORMATS = ("pdf", "jpeg", "png")
DEFAULT_SCAN_MAX_BYTES = 10 * 1024 * 1024



class AssistedProject(db.Model):
    """The mark of a project filed by an officer: who, when, the signed application's scan, who submitted it."""

    __tablename__ = "assisted_projects"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True,
                                            autoincrement=False)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_scan_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    project: Mapped[Project] = relationship()
    filed_by: Mapped[User] = relationship(foreign_keys=[filed_by_id], lazy="joined")
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id], lazy="joined")
    signed_scan: Mapped[Attachment | None] = relationship(lazy="joined")


def record_of(project_id: int) -> AssistedProject | None:
    return db.session.get(AssistedProject, project_id)


def projects_of(association_id: int) -> list[tuple[Project, AssistedProject | None]]:
    """The association's projects with their staff mark (one query)."""
    rows = db.session.execute(
        select(Project, AssistedProject).outerjoin(AssistedProject, AssistedProject.project_id == Project.id)
        .where(Project.association_id == association_id).options(joinedload(Project.call))
        .order_by(Project.id)
    ).all()
    return [(project, mark) for project, mark in rows]


def acting_officer(project: Project, user: Any) -> bool:
    """The workflow's guard: an officer acting for the project's association (before its hand-over)."""
    return acts_for(user, project.association_id)


# --- starting and filling -------------------------------------------------------------------------------------


def start_problems(association: Association, call: Call | None, officer: Any) -> list[str]:
    """Why ``officer`` may not start a project for ``association`` on ``call`` (the online rules)."""
    problems = []
    if not acts_for(officer, association.id):
        problems.append(_("Only a programme officer can file a project for an association filed by the ministry, "
                          "and only until it is handed over."))
    if association.status != AssociationStatus.VERIFIED:
        problems.append(_("Verify the association first: a project can be started only for a verified association."))
    if call is None or not call.is_accepting():
        problems.append(_("This call is not accepting projects."))
    return problems


def start_on_behalf(association: Association, call: Call | None, title: str, officer: User) -> Project:
    """A new draft for ``association`` on ``call``, started by ``officer`` and marked as such."""
    problems = start_problems(association, call, officer)
    if problems:
        raise AssistedError(" ".join(problems), field="call_id" if call is None or not call.is_accepting() else None)
    now = utcnow()
    project = Project(association_id=association.id, call_id=call.id, title=title.strip(), created_by_id=officer.id,
                      requested_grant_xof=0, steps_done="")
    db.session.add(project)
    db.session.flush()
    channel = accounts_assisted.record_of(association.id).channel_enum.label
    db.session.add_all([
        ProjectEvent(project_id=project.id, actor_id=officer.id, action="created", to_status="draft", at=now),
        ProjectEvent(project_id=project.id, actor_id=officer.id, action="filed_by_staff", message=channel, at=now),
        AssistedProject(project_id=project.id, filed_by_id=officer.id, filed_at=now),
    ])
    audit.record("project.created", project, actor=officer, after={"title": project.title, "call_id": call.id})
    audit.record("project.filed_by_staff", project, actor=officer,
                 after={"association_id": association.id, "call_id": call.id})
    db.session.flush()
    return project


def scan_max_bytes() -> int:
    from flask import current_app

    return int(current_app.config.get("PROJECT_FILE_MAX_BYTES") or DEFAULT_SCAN_MAX_BYTES)


def attach_signed_scan(project: Project, upload: FileStorage, officer: User) -> Attachment:
    """Store the scan of the application the association signed (a new scan replaces the previous one)."""
    mark = record_of(project.id)
    if mark is None or not acts_for(officer, project.association_id):
        raise AssistedError(_("Only a programme officer acting for the association can add the signed application."),
                            field="scan")
    if project.status not in EDITABLE:
        raise AssistedError(_("This project has been submitted: its signed application can no longer be replaced."),
                            field="scan")
    try:
        stored = store_upload(upload, kind="signed_application", allowed=SCAN_FORMATS, max_bytes=scan_max_bytes(),
                              uploaded_by_id=officer.id)
    except UploadError as exc:
        exc.field = "scan"
        raise
    try:
        before = mark.signed_scan.sha256 if mark.signed_scan else None
        mark.signed_scan = stored
        db.session.add(ProjectEvent(project_id=project.id, actor_id=officer.id, action="signed_scan",
                                    message=stored.display_name))
        audit.record("project.signed_scan", project, actor=officer, before={"sha256": before},
                     after={"name": stored.display_name, "sha256": stored.sha256, "size": stored.size})
        db.session.flush()
    except Exception:
        discard_file(stored)
        raise
    return stored


def signed_scan_check(project: Project) -> list[str]:
    """A project filed by staff and not handed over is submitted only with the scan of its signed application."""
    mark = record_of(project.id) if project.id is not None else None
    if mark is None or mark.signed_scan_id is not None:
        return []
    if not acts_for_anyone(project.association_id):
        return []
    return [_("Upload the scan of the application signed by the association.")]


def acts_for_anyone(association_id: int) -> bool:
    record = accounts_assisted.record_of(association_id)
    return record is not None and not record.handed_over


def mark_submitted(project: Project, user: Any) -> None:
    """After a submission by an acting officer: who submitted on the association's behalf, and when."""
    mark = record_of(project.id)
    if mark is None or project.status != ProjectStatus.SUBMITTED or not acts_for(user, project.association_id):
        return
    mark.submitted_by_id = user.id
    mark.submitted_at = project.submitted_at or utcnow()
    audit.record("project.submitted_on_behalf", project, actor=user,
                 after={"reference": project.reference, "signed_scan_id": mark.signed_scan_id})
    db.session.flush()


@on_handover
def _handed_over(association: Association, user: User) -> None:
    """Each project filed by staff says in its history when the association took its account."""
    for project, mark in projects_of(association.id):
        if mark is not None:
            db.session.add(ProjectEvent(project_id=project.id, actor_id=user.id, action="handed_over",
                                        message=None))
            audit.record("project.handed_over", project, actor=user, after={"user_id": user.id})


PROJECT.attach("submitted", checks=(signed_scan_check,))
