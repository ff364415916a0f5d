"""Associations filed by ministry staff on their behalf (paper, or a visit to the embassy), and the hand-over.

Many associations prefer paper or a visit to the embassy. A programme officer then files the association
(:func:`file_association`, marked as such: who, when, through which channel) and, in the projects step, its
application. While the association has not been handed over, *any* officer acts for it (:func:`acts_for`):
nobody can sign in as it, because it has no member at all. The hand-over is an emailed link
(:class:`HandoverLink`: single use, expiring, only the SHA-256 of its token kept) with which the association's
contact chooses a password and becomes its first member (:func:`take_over`); from then on the association
is like any other and the officers keep no special access. Every step is in the audit log.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from flask import current_app, url_for
from sqlalchemy import CheckConstraint, ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from codev.accounts import duplicates
from codev.accounts.associations import services as associations
from codev.accounts.models import Association, AssociationStatus, Role, User
from codev.accounts.services import AccountError, create_user, email_taken, normalize_email
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.mail import queue_mail
from codev.core.timeutil import UTCDateTime, utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db, sql_values

DEFAULT_HANDOVER_MAX_AGE = 14 * 24 * 3600


class Channel(StrEnum):
    """How the application reached the ministry."""

    PAPER = "paper"
    EMBASSY = "embassy"

    @property
    def label(self) -> str:
        return str(CHANNEL_LABELS[self])


CHANNEL_LABELS = {
    Channel.PAPER: _l("On paper (post or delivered by hand)"),
    Channel.EMBASSY: _l("At a visit to the embassy"),
}


class AssistedError(DomainError):
    """A refused step of a staff-assisted application; the message is meant for the person."""


class AssistedAssociation(db.Model):
    """The mark of an association filed by an officer: who, when, how; and when it was handed over, to whom."""

    __tablename__ = "assisted_associations"

    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), primary_key=True,
                                                autoincrement=False)
    channel: Mapped[Channel] = mapped_column(String(20))
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_over_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    association: Mapped[Association] = relationship()
    filed_by: Mapped[User] = relationship(foreign_keys=[filed_by_id], lazy="joined")
    handed_over_to: Mapped[User | None] = relationship(foreign_keys=[handed_over_to_id], lazy="joined")

    __table_args__ = (
        CheckConstraint(f"channel IN ({sql_values(Channel)})", name="channel_valid"),
        CheckConstraint("(handed_over_at IS NULL) = (handed_over_to_id IS NULL)", name="handed_over_whole"),
    )

    @property
    def channel_enum(self) -> Channel:
        return Channel(self.channel)

    @property
    def handed_over(self) -> bool:
        return self.handed_over_at is not None


class HandoverLink(db.Model):
    """An emailed link to take over an association filed by staff; the token is kept only as its SHA-256."""

    __tablename__ = "handover_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("assisted_associations.association_id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sent_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # replaced by a newer link

    assisted: Mapped[AssistedAssociation] = relationship()
    sent_by: Mapped[User] = relationship(lazy="joined")

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


# --- who may do what -------------------------------------------------------------------------------


def record_of(association_id: int | None) -> AssistedAssociation | None:
    """The staff mark of an association (None when it signed up by itself)."""
    if association_id is None:
        return None
    return db.session.get(AssistedAssociation, association_id)


def acts_for(user: Any, association_id: int | None) -> bool:
    """An officer acts for an association filed by staff until it is handed over; nobody else, never after."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "role", None) != Role.OFFICER:
        return False
    record = record_of(association_id)
    # Closed (merged into another as its duplicate, or rejected): nothing is filed for it any more.
    return record is not None and not record.handed_over and record.association.status != AssociationStatus.REJECTED


def _officer_only(user: Any) -> None:
    if getattr(user, "role", None) != Role.OFFICER:
        raise AssistedError(_("Only a programme officer can file an application on an association's behalf."))


# --- filing the association -----------------------------------------------------------------------------


def candidates_for(profile: dict[str, Any]) -> list[duplicates.Candidate]:
    """Associations that may be the one being typed (same registration number, email, name…), before it exists."""
    probe = Association(name=profile.get("name") or "", acronym=profile.get("acronym") or None,
                        registration_number=profile.get("registration_number") or None,
                        contact_email=normalize_email(profile.get("contact_email")))
    return duplicates.candidates(probe)  # never added to the session: nothing is written


def file_association(profile: dict[str, Any], channel: str, officer: User) -> Association:
    """Create a pending association on its behalf, marked as filed by ``officer``; no member, no sign-in yet."""
    _officer_only(officer)
    if channel not in {c.value for c in Channel}:
        raise AssistedError(_("Choose how the application reached the ministry."), field="channel")
    association = Association(status=AssociationStatus.PENDING)
    associations._apply_profile(association, profile)  # the sign-up's own rules (embassy, email)
    db.session.add(association)
    db.session.flush()
    record = AssistedAssociation(association_id=association.id, channel=channel, filed_by_id=officer.id,
                                 filed_at=utcnow())
    db.session.add(record)
    audit.record("association.filed_by_staff", association, actor=officer,
                 after={**associations.profile_data(association), "channel": channel})
    duplicates.record_detected(association, officer)
    db.session.flush()
    return association


# --- the hand-over link ---------------------------------------------------------------------------------


def handover_max_age() -> int:
    return int(current_app.config.get("HANDOVER_MAX_AGE") or DEFAULT_HANDOVER_MAX_AGE)


def open_link(association_id: int) -> HandoverLink | None:
    return db.session.scalar(
        select(HandoverLink).where(HandoverLink.association_id == association_id, HandoverLink.used_at.is_(None),
                                   HandoverLink.revoked_at.is_(None), HandoverLink.expires_at > utcnow())
        .order_by(HandoverLink.id.desc()).limit(1)
    )


def send_handover(association: Association, officer: User, email: str | None = None) -> HandoverLink:
    """Email the association's contact a single-use link to take the account (a newer link replaces an older one).

    In the association's language. Refused once handed over, or when the address already has an account.
    """
    _officer_only(officer)
    record = record_of(association.id)
    if record is None:
        raise AssistedError(_("This association signed up by itself: it has nothing to hand over."))
    if record.handed_over:
        raise AssistedError(_("This association has already been handed over."))
    if association.status == AssociationStatus.REJECTED:
        raise AssistedError(_("This association is rejected: it cannot be handed over."))
    email = normalize_email(email or association.contact_email)
    if email_taken(email):
        raise AssistedError(_("An account already uses this email address: ask the association for another "
                              "address, or add that person as a member once the association is handed over."),
                            field="email")
    now = utcnow()
    replaced = db.session.execute(
        update(HandoverLink).where(HandoverLink.association_id == association.id, HandoverLink.used_at.is_(None),
                                   HandoverLink.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session="fetch")
    ).rowcount
    token = secrets.token_urlsafe(32)
    max_age = handover_max_age()
    link = HandoverLink(association_id=association.id, email=email, token_hash=associations.hash_token(token),
                        sent_by_id=officer.id, created_at=now, expires_at=now + timedelta(seconds=max_age))
    db.session.add(link)
    db.session.flush()
    audit.record("association.handover_sent", association, actor=officer,
                 after={"email": email, "link_id": link.id, "replaced": replaced})
    queue_mail(email, association.locale, "assisted_handover", association=association, officer=officer,
               url=url_for("projects.assisted_take_over", token=token, _external=True),
               days=max(1, max_age // 86400))
    return link


def find_link(token: str) -> HandoverLink | None:
    """The link of an emailed token (open or not), or None for an unknown or forged one."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        select(HandoverLink).where(HandoverLink.token_hash == associations.hash_token(token))
        .options(joinedload(HandoverLink.assisted).joinedload(AssistedAssociation.association))
    )


def link_problem(link: HandoverLink | None) -> str | None:
    """Why a hand-over link cannot be used, in the reader's language (None when it can)."""
    if link is None:
        return _("This link is not valid. Check that you copied the whole link from the email.")
    if link.used_at is not None or link.assisted.handed_over:
        return _("This link has already been used: the association's account is taken. Sign in with its email "
                 "address and password.")
    if link.revoked_at is not None:
        return _("A newer link has been sent for this association: use the latest email.")
    if link.expires_at <= utcnow():
        return _("This link has expired. Ask the ministry's programme officer to send you a new one.")
    return None


def take_over(link: HandoverLink, *, name: str, password: str, locale: str) -> User:
    """The contact becomes the association's first member: the link is used, the officers' access ends."""
    problem = link_problem(link)
    if problem:
        raise AssistedError(problem)
    now = utcnow()
    closed = db.session.execute(  # of two simultaneous hand-overs only one wins
        update(HandoverLink).where(HandoverLink.id == link.id, HandoverLink.used_at.is_(None),
                                   HandoverLink.revoked_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:
        raise AssistedError(_("This link has already been used."))
    try:
        user = create_user(email=link.email, name=name, role=Role.ASSOCIATION, password=password, locale=locale,
                           association_id=link.association_id)
    except AccountError as exc:
        raise AssistedError(_("An account already uses this email address. Sign in with it instead.")) from exc
    link.used_at = now
    record = link.assisted
    record.handed_over_at = now
    record.handed_over_to_id = user.id
    association = record.association
    if not association.contact_name:
        association.contact_name = user.name
    audit.record("association.handed_over", association, actor=user,
                 after={"user_id": user.id, "email": user.email, "link_id": link.id,
                        "filed_by_id": record.filed_by_id})
    for hook in HANDOVER_HOOKS:  # later steps write it into their own histories (the projects')
        hook(association, user)
    db.session.flush()
    return user


HANDOVER_HOOKS: list[Any] = []


def on_handover(hook: Any) -> Any:
    """Register what a later step records when an association is handed over: ``hook(association, user)``."""
    if hook not in HANDOVER_HOOKS:
        HANDOVER_HOOKS.append(hook)
    return hook


# --- reading ------------------------------------------------------------------------------------------------


def assisted_page(query_filter: str | None = None):
    """The associations filed by staff, newest first (a select for :func:`codev.core.params.paginate`)."""
    query = select(AssistedAssociation).options(joinedload(AssistedAssociation.association))
    if query_filter == "waiting":
        query = query.where(AssistedAssociation.handed_over_at.is_(None))
    elif query_filter == "handed_over":
        query = query.where(AssistedAssociation.handed_over_at.is_not(None))
    return query.order_by(AssistedAssociation.filed_at.desc(), AssistedAssociation.association_id.desc())
