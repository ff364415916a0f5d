"""State changes of associations: sign-up, profile, statutes, invitations, verification.

Who may see or change an association is decided here too (``can_view``, ``can_edit``, …), in one
place. Services check, mutate, write the audit event and flush; they never commit, flash or read
``request``. A refused operation raises :class:`AssociationError` whose message is meant for the person.
The status moves only through the one engine (:data:`codev.accounts.workflows.ASSOCIATION`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import abort, current_app, url_for
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import FileStorage

from codev.accounts import duplicates
from codev.accounts.models import (
    Association,
    AssociationDomain,
    AssociationStatus,
    Invitation,
    Role,
    User,
)
from codev.accounts.services import AccountError, create_user, email_taken, normalize_email
from codev.accounts.workflows import ASSOCIATION
from codev.core import audit
from codev.core.embassies import embassy_for_country
from codev.core.i18n import gettext as _
from codev.core.mail import queue_mail
from codev.core.models import Attachment
from codev.core.storage import UploadError, discard_file, store_upload
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db

STATUTES_FORMATS = ("pdf", "jpeg", "png", "docx")

# The profile columns a sign-up or an edit may set (domains are rows of their own).
PROFILE_FIELDS = (
    "name", "acronym", "country", "city", "embassy", "registration_number", "registration_authority",
    "founded_year", "members_count", "contact_phone", "website", "description", "home_region", "locale",
)
CONTACT_FIELDS = ("contact_name", "contact_email")


class AssociationError(DomainError):
    """A refused operation on an association; ``str(error)`` is meant for the person."""


# --- who may do what -------------------------------------------------------------------------


def is_member(user: Any, association: Association) -> bool:
    """``user`` belongs to ``association`` (as one of its members)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role == Role.ASSOCIATION and user.association_id == association.id


def can_view(user: Any, association: Association) -> bool:
    """Ministry roles see every association; members see their own; nobody else sees any."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_ministry:
        return True
    return is_member(user, association)


def can_edit(user: Any, association: Association) -> bool:
    """Members edit their association's profile; officers may correct it."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.OFFICER:
        return True
    return is_member(user, association)


def can_manage_members(user: Any, association: Association) -> bool:
    """Members invite further members, revoke invitations and upload the statutes."""
    return is_member(user, association)


def can_decide(user: Any, association: Association) -> bool:
    """Officers verify or reject an association awaiting verification."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.OFFICER:
        return False
    return association.status == AssociationStatus.PENDING


def get_association_or_404(association_id: int, user: Any = None) -> Association:
    """The association with its members, domains and statutes; 404 when missing or not ``user``'s.

    404 rather than 403: a member of another association may not even learn that it exists.
    """
    association = db.session.scalar(
        select(Association)
        .where(Association.id == association_id)
        .options(
            selectinload(Association.members),
            joinedload(Association.statutes),
            joinedload(Association.verified_by),
        )
    )
    if association is None or (user is not None and not can_view(user, association)):
        abort(404)
    return association


# --- reading ----------------------------------------------------------------------------------


def open_invitations(association: Association) -> list[Invitation]:
    """Invitations still waiting for an answer, newest first."""
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.association_id == association.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .options(joinedload(Invitation.invited_by))
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    )


def profile_data(association: Association) -> dict[str, Any]:
    """The association's editable profile as a plain dict (form data, audit snapshots)."""
    data = {name: getattr(association, name) for name in PROFILE_FIELDS + CONTACT_FIELDS}
    data["domains"] = association.domain_codes
    return data


def _snapshot(association: Association) -> dict[str, Any]:
    return {**profile_data(association), "status": str(association.status)}


def active_officers() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role == Role.OFFICER, User.active.is_(True)).order_by(User.id)
        )
    )


def count_pending() -> int:
    return db.session.scalar(
        select(func.count(Association.id)).where(Association.status == AssociationStatus.PENDING)
    ) or 0


# --- sign-up and profile ------------------------------------------------------------------------


def _apply_profile(association: Association, data: dict[str, Any]) -> None:
    for name in PROFILE_FIELDS + CONTACT_FIELDS:
        if name in data:
            setattr(association, name, data[name] if data[name] != "" else None)
    if not association.embassy:  # left empty: the embassy that covers the country of residence
        embassy = embassy_for_country(association.country)
        association.embassy = embassy.code if embassy else None
    if "contact_email" in data and data["contact_email"]:
        association.contact_email = normalize_email(data["contact_email"])
    if "domains" in data:
        wanted = list(dict.fromkeys(data["domains"]))
        kept = [d for d in association.domains if d.sector in wanted]
        have = {d.sector for d in kept}
        association.domains = kept + [AssociationDomain(sector=s) for s in wanted if s not in have]


def _store_statutes(upload: FileStorage, uploaded_by_id: int | None) -> Attachment:
    """Check and store a statutes file (raises UploadError, about the form's statutes field)."""
    try:
        return store_upload(
            upload,
            kind="statutes",
            allowed=STATUTES_FORMATS,
            max_bytes=current_app.config["STATUTES_MAX_BYTES"],
            uploaded_by_id=uploaded_by_id,
        )
    except UploadError as exc:
        exc.field = "statutes"
        raise


def register_association(
    profile: dict[str, Any], member: dict[str, Any], statutes: FileStorage | None = None
) -> tuple[Association, User]:
    """Create a pending association and its first member; tell the member and every officer.

    The statutes file is checked first, so a refused file leaves nothing behind. Raises UploadError
    (refused file) or AssociationError (email taken meanwhile).
    """
    attachment = _store_statutes(statutes, None) if statutes else None
    try:
        association = Association(
            status=AssociationStatus.PENDING,
            contact_name=member["name"],
            contact_email=normalize_email(member["email"]),
        )
        _apply_profile(association, profile)
        association.statutes = attachment
        db.session.add(association)
        db.session.flush()
        try:
            user = create_user(
                email=member["email"], name=member["name"], role=Role.ASSOCIATION,
                password=member["password"], locale=member["locale"], association_id=association.id,
            )
        except AccountError as exc:
            raise AssociationError(_("An account already uses this email address."), field="email") from exc
        if attachment is not None:
            attachment.uploaded_by_id = user.id
        audit.record("association.register", association, actor=user, after=_snapshot(association))
        duplicates.record_detected(association, user)  # the officers read them on its page
        _notify_welcome(association, user)
        _notify_officers(association, "association_submitted")
        db.session.flush()
    except Exception:
        if attachment is not None:
            discard_file(attachment)
        raise
    return association, user


def update_profile(association: Association, data: dict[str, Any], actor: User) -> bool:
    """Save the profile. A member's edit of a rejected association sends it back for verification.

    Returns True when the association went back to pending (officers are told).
    """
    before = _snapshot(association)
    _apply_profile(association, data)
    resubmitted = _resubmit_if_rejected(association, actor)
    after = _snapshot(association)
    audit.record("association.update", association, actor=actor, before=before, after=after)
    db.session.flush()
    return resubmitted


def replace_statutes(association: Association, upload: FileStorage, actor: User) -> bool:
    """Store new statutes for ``association`` (the previous file stays in the history).

    Returns True when a rejected association went back to pending. Raises UploadError.
    """
    attachment = _store_statutes(upload, actor.id)
    try:
        before = {"statutes_id": association.statutes_id, "status": str(association.status)}
        association.statutes = attachment
        resubmitted = _resubmit_if_rejected(association, actor)
        audit.record(
            "association.statutes", association, actor=actor, before=before,
            after={"statutes_id": attachment.id, "status": str(association.status),
                   "sha256": attachment.sha256},
        )
        db.session.flush()
    except Exception:
        discard_file(attachment)
        raise
    return resubmitted


def _resubmit_if_rejected(association: Association, actor: User) -> bool:
    if association.status != AssociationStatus.REJECTED or not is_member(actor, association):
        return False
    ASSOCIATION.fire(association, AssociationStatus.PENDING, actor)
    _notify_officers(association, "association_resubmitted")
    return True


# --- verification ---------------------------------------------------------------------------------


def verify_association(association: Association, officer: User) -> None:
    """Mark a pending association verified; tell its members."""
    _decide(association, officer, AssociationStatus.VERIFIED, None)


def reject_association(association: Association, officer: User, reason: str) -> None:
    """Reject a pending association with the reason its members will read."""
    _decide(association, officer, AssociationStatus.REJECTED, reason.strip())


def _decide(
    association: Association, officer: User, outcome: AssociationStatus, reason: str | None
) -> None:
    if officer.role != Role.OFFICER:
        raise AssociationError(_("Only a programme officer can verify associations."))
    if association.status != AssociationStatus.PENDING:
        raise AssociationError(
            _("This association is not awaiting verification (status: %(status)s); nothing was changed.",
              status=association.status_enum.label)
        )
    ASSOCIATION.fire(association, outcome, officer, reason)  # association.verify, association.reject
    template = "association_verified" if outcome == AssociationStatus.VERIFIED else "association_rejected"
    _notify_members(association, template, reason=reason)
    db.session.flush()


# --- invitations ------------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invite_member(association: Association, inviter: User, email: str) -> Invitation:
    """Invite ``email`` to join ``association``; the link goes out in the association's language."""
    email = normalize_email(email)
    if email_taken(email):
        raise AssociationError(_("An account already uses this email address."), field="email")
    already = db.session.scalar(
        select(Invitation.id).where(
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    )
    if already is not None:
        raise AssociationError(_("An invitation is already waiting for this email address."), field="email")
    token = secrets.token_urlsafe(32)
    max_age = current_app.config["INVITATION_MAX_AGE"]
    invitation = Invitation(
        association_id=association.id, email=email, token_hash=hash_token(token),
        invited_by_id=inviter.id, expires_at=utcnow() + timedelta(seconds=max_age),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record("invitation.create", invitation, actor=inviter,
                 after={"association_id": association.id, "email": email})
    queue_mail(
        email, association.locale, "invitation", association=association, inviter=inviter,
        url=url_for("associations.accept_invitation", token=token, _external=True),
        days=max(1, max_age // 86400),
    )
    return invitation


def find_invitation(token: str) -> Invitation | None:
    """The invitation of an emailed link (open or not), or None for an unknown token."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        select(Invitation)
        .where(Invitation.token_hash == hash_token(token))
        .options(joinedload(Invitation.association))
    )


def invitation_problem(invitation: Invitation | None) -> str | None:
    """Why an invitation link cannot be used, in the reader's language (None when it can)."""
    if invitation is None:
        return _("This invitation link is not valid. Check that you copied the whole link.")
    if invitation.accepted_at is not None:
        return _("This invitation has already been used. If it was you, sign in with your email and password.")
    if invitation.revoked_at is not None:
        return _("This invitation has been withdrawn by the association.")
    if invitation.expires_at <= utcnow():
        return _("This invitation has expired. Ask a member of the association to invite you again.")
    return None


def accept_invitation(invitation: Invitation, *, name: str, password: str, locale: str) -> User:
    """Create the invited person's account in the association and close the invitation."""
    problem = invitation_problem(invitation)
    if problem:
        raise AssociationError(problem)
    now = utcnow()
    # Close the invitation with a guarded UPDATE: of two simultaneous acceptances only one wins.
    closed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None))
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:
        raise AssociationError(_("This invitation has already been used."))
    try:
        user = create_user(
            email=invitation.email, name=name, role=Role.ASSOCIATION, password=password,
            locale=locale, association_id=invitation.association_id, actor=None,
        )
    except AccountError as exc:
        raise AssociationError(
            _("An account already uses this email address. Sign in with it instead.")
        ) from exc
    invitation.accepted_at = now
    audit.record("invitation.accept", invitation, actor=user, after={"user_id": user.id})
    db.session.flush()
    return user


def revoke_invitation(invitation: Invitation, actor: User) -> None:
    """Withdraw an invitation that has not been answered yet."""
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise AssociationError(_("This invitation is already closed."))
    invitation.revoked_at = utcnow()
    audit.record("invitation.revoke", invitation, actor=actor, after={"email": invitation.email})
    db.session.flush()


# --- notifications ----------------------------------------------------------------------------------


def _notify_welcome(association: Association, user: User) -> None:
    queue_mail(
        user.email, user.locale, "association_welcome", association=association, user=user,
        url=url_for("associations.detail", association_id=association.id, _external=True),
    )


def _notify_officers(association: Association, template: str) -> None:
    url = url_for("associations.detail", association_id=association.id, _external=True)
    for officer in active_officers():
        queue_mail(officer.email, officer.locale, template, association=association, user=officer, url=url)


def _notify_members(association: Association, template: str, **context: Any) -> None:
    """Every active member in their own language, and the contact (if not a member) in the
    association's language."""
    url = url_for("associations.detail", association_id=association.id, _external=True)
    members = [m for m in association.members if m.active]
    for member in members:
        queue_mail(member.email, member.locale, template, association=association, name=member.name,
                   url=url, **context)
    if association.contact_email and association.contact_email not in {m.email for m in members}:
        queue_mail(association.contact_email, association.locale, template, association=association,
                   name=association.contact_name, url=url, **context)
