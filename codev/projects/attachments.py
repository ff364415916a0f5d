"""A project's documents: adding one (per-file and per-project size limits), removing one, and the attachments
step, done once every document the call requires is there."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app
from werkzeug.datastructures import FileStorage

from codev.accounts.models import User
from codev.calls.models import AttachmentKind
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.models import Attachment
from codev.core.storage import UploadError, discard_file, store_upload
from codev.extensions import db
from codev.projects.models import Project, ProjectAttachment, ProjectEvent
from codev.projects.services import _check_version, _flush, _require_editable, _touch
from codev.projects.workflow import ProjectError, Step, kind_label, mark_step_done, steps_done

MAX_ATTACHMENTS = 40
ATTACHMENT_FORMATS = ("pdf", "jpeg", "png", "docx", "xlsx")
DEFAULT_FILE_MAX_BYTES = 10 * 1024 * 1024


def file_max_bytes() -> int:
    return int(current_app.config.get("PROJECT_FILE_MAX_BYTES") or DEFAULT_FILE_MAX_BYTES)


def files_used_bytes(project: Project) -> int:
    return sum(link.file.size for link in project.attachments)


def add_attachment(project: Project, kind: str, upload: FileStorage, user: User) -> ProjectAttachment:
    """Store ``upload`` as a document of ``project`` (per-file and per-project size limits)."""
    _require_editable(project, user)
    if kind not in {k.value for k in AttachmentKind}:
        raise ProjectError(_("Choose what kind of document this is."), field="file")
    if len(project.attachments) >= MAX_ATTACHMENTS:
        raise ProjectError(_("A project has at most %(n)s documents: remove one first.", n=MAX_ATTACHMENTS),
                           field="file")
    remaining = project.call.max_project_files_bytes - files_used_bytes(project)
    if remaining <= 0:
        raise ProjectError(_total_message(project), field="file")
    try:
        stored = store_upload(upload, kind=kind, allowed=ATTACHMENT_FORMATS, max_bytes=file_max_bytes(),
                              uploaded_by_id=user.id)
    except UploadError as exc:
        exc.field = "file"  # the refusal is shown beside the form's file field
        raise
    try:
        if stored.size > remaining:
            raise ProjectError(_total_message(project), field="file")
        link = ProjectAttachment(attachment_id=stored.id, kind=kind, file=stored)
        project.attachments.append(link)
        db.session.add(ProjectEvent(project_id=project.id, actor_id=user.id, action="attachment_added",
                                    message=stored.display_name))
        audit.record("project.attachment_added", project, actor=user,
                     after={"kind": kind, "name": stored.display_name, "sha256": stored.sha256, "size": stored.size})
        db.session.flush()
    except Exception:
        discard_file(stored)
        raise
    return link


def _total_message(project: Project) -> str:
    megabytes = project.call.max_project_files_bytes // (1024 * 1024)
    return _("The documents of a project may not exceed %(size)s MB in all: remove a document or send a smaller file.",
             size=megabytes)


def delete_attachment(project: Project, link_id: int, user: User) -> Attachment:
    """Remove a document; returns the stored file, to discard once the transaction is committed."""
    _require_editable(project, user)
    link = next((a for a in project.attachments if a.id == link_id), None)
    if link is None:
        abort(404)
    stored = link.file
    project.attachments.remove(link)
    db.session.delete(stored)
    if link.kind in project.call.required_kinds and not any(a.kind == link.kind for a in project.attachments):
        done = steps_done(project) - {str(Step.ATTACHMENTS)}
        project.steps_done = ",".join(s for s in Step if s in done)
    db.session.add(ProjectEvent(project_id=project.id, actor_id=user.id, action="attachment_deleted",
                                message=stored.display_name))
    audit.record("project.attachment_deleted", project, actor=user,
                 before={"kind": link.kind, "name": stored.display_name, "sha256": stored.sha256})
    _flush()
    return stored


def missing_kinds(project: Project) -> list[str]:
    present = {a.kind for a in project.attachments}
    return [kind for kind in project.call.required_kinds if kind not in present]


def finish_attachments(project: Project, user: User, version: Any) -> None:
    """Mark the attachments step done once every document the call requires is there."""
    _require_editable(project, user)
    _check_version(project, version)
    missing = missing_kinds(project)
    if missing:
        raise ProjectError(" ".join(_("Attach the required document: %(kind)s.", kind=kind_label(k)) for k in missing))
    mark_step_done(project, Step.ATTACHMENTS)
    _touch(project)
    audit.record("project.step.attachments", project, actor=user)
    _flush()
