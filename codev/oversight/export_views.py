"""The association's export: a member downloads everything codev holds about their association (a ZIP); the
project page's line on data retention (when its personal data will be, or were, removed)."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from codev.accounts.models import Association, Role
from codev.core import audit
from codev.core.permissions import roles
from codev.core.storage import send_download
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db
from codev.oversight import association_export, bp
from codev.oversight.retention import RetentionNotice


@bp.route("/associations/<int:association_id>/export")
@roles(Role.ASSOCIATION)
def association_export_download(association_id: int):
    """The ZIP of the member's own association (404 for any other: they may not learn it exists)."""
    if current_user.association_id != association_id or db.session.get(Association, association_id) is None:
        abort(404)
    now = utcnow()
    archive = association_export.build(association_id, now)
    with unit_of_work():
        audit.record("association.export", db.session.get(Association, association_id),
                     after={"size": archive.size, "projects": archive.projects, "files": archive.files})
    return send_download(archive.file, "application/zip", f"codev-association-{association_id}-{now:%Y%m%d}.zip",
                         size=archive.size)


@bp.app_template_global("retention_notice_of")
def retention_notice_of(project_id: int) -> RetentionNotice | None:
    """The project page's retention notice (when it will be, or was, anonymised), for members and staff."""
    return db.session.scalar(select(RetentionNotice).where(RetentionNotice.project_id == project_id))
