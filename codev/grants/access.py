"""Who may see a grant and its letters, in one place.

Ministry roles (officer, approver, admin) see every grant; members of the association that carries the
project see their own; nobody else learns that a grant exists (404, not 403).
"""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from codev.accounts.models import Role
from codev.extensions import db
from codev.grants.models import AwardLetter, Grant
from codev.projects.models import Project


def is_grant_member(user: Any, grant: Grant) -> bool:
    """``user`` is a member of the association whose project received ``grant``."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role == Role.ASSOCIATION and user.association_id == grant.project.association_id


def can_view_grant(user: Any, grant: Grant) -> bool:
    """Ministry roles see every grant; association members see their association's; nobody else any."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_ministry:
        return True
    return is_grant_member(user, grant)


def can_download_letter(user: Any, letter: AwardLetter) -> bool:
    """The ministry downloads every letter; the association the ones in its own language."""
    if not can_view_grant(user, letter.grant):
        return False
    if user.is_ministry:
        return True
    return letter.language == letter.grant.project.association.locale


def can_approve(user: Any) -> bool:
    return getattr(user, "is_authenticated", False) and user.role == Role.APPROVER


def can_reissue(user: Any) -> bool:
    return getattr(user, "is_authenticated", False) and user.role in (Role.APPROVER, Role.OFFICER)


def can_revoke(user: Any) -> bool:
    return can_approve(user)


def get_grant_or_404(grant_id: int, user: Any = None) -> Grant:
    """The grant with its project, association and call; 404 when missing or not visible to ``user``."""
    grant = db.session.scalar(
        select(Grant)
        .where(Grant.id == grant_id)
        .options(
            joinedload(Grant.project).joinedload(Project.association),
            joinedload(Grant.call),
            joinedload(Grant.approved_by),
        )
    )
    if grant is None or (user is not None and not can_view_grant(user, grant)):
        abort(404)
    return grant


def get_letter_or_404(grant: Grant, letter_id: int, user: Any) -> AwardLetter:
    """One letter of ``grant`` that ``user`` may download (404 otherwise)."""
    letter = db.session.get(AwardLetter, letter_id)
    if letter is None or letter.grant_id != grant.id or not can_download_letter(user, letter):
        abort(404)
    return letter
