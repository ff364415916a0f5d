"""The append-only audit log: one call per security-relevant action."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from codev.core.appendonly import make_append_only
from codev.core.models import AuditEvent
from codev.extensions import db

make_append_only(AuditEvent.__table__)


def record(
    action: str,
    obj: Any = None,
    *,
    actor: Any = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Add an audit event for ``action`` on ``obj`` (flushed with the caller's transaction)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        object_type=obj.__tablename__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        before=before,
        after=after,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
