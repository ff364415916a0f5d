"""Notifications: every email to a person of the programme is also a line in their in-app list.

:func:`codev.core.mail.queue_mail` is the one place they are born: the recipient's address is looked up
among the active users (one query, with that person's preference for the kind); a user gets a
:class:`Notification` (the email's subject in their language, and the page the email links to), and the
email unless they turned that kind off. Security emails (:data:`SECURITY`) always go and cannot be turned
off; their links (password tokens) are never stored. An address that is no user's (an association's
contact) just gets the email.

A kind is the email template's name; :data:`GROUPS` gives each a label people read, grouped.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, and_, column, select, table
from sqlalchemy.orm import Mapped, mapped_column

from codev.core.i18n import lazy_gettext as _l
from codev.core.timeutil import UTCDateTime, utcnow
from codev.extensions import db


class Notification(db.Model):
    """Something that happened which concerns one person; unread until they open it."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000))  # a path on this site
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    @property
    def label(self) -> object:
        return kind_label(self.kind)


class NotificationPreference(db.Model):
    """A person's choice for one kind of email; no row means the email is sent."""

    __tablename__ = "notification_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(64))
    email: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (UniqueConstraint("user_id", "kind", name="uq_notification_preferences_user_id_kind"),)


# Group → kinds (email template names) with their labels, in the order the preferences page shows them.
GROUPS: dict[str, tuple[object, dict[str, object]]] = {
    "project": (_l("Your project"), {
        "call_opened": _l("A call for projects opens"),
        "call_closed": _l("A call for projects closes"),
        "call_not_opened": _l("A call could not open by itself (officers)"),
        "association_submitted": _l("An association asks to be verified"),
        "association_resubmitted": _l("An association sends its file again"),
        "association_verified": _l("Your association is verified"),
        "association_rejected": _l("Your association is not verified"),
        "project_submitted": _l("A project is submitted"),
        "project_submitted_officer": _l("A project is submitted (officers)"),
        "project_returned": _l("A project is returned for changes"),
        "project_withdrawn": _l("A project is withdrawn"),
        "retention_notice": _l("An application's personal data will be removed"),
        "review_eligible": _l("A project is eligible"),
        "review_ineligible": _l("A project is not eligible"),
    }),
    "evaluations": (_l("Evaluations and decisions"), {
        "review_assigned": _l("An evaluation is assigned to you"),
        "review_withdrawn": _l("An evaluation is withdrawn from you"),
        "review_recused": _l("An evaluator recuses themselves"),
        "decision_approved": _l("A project is approved"),
        "decision_conditionally_approved": _l("A project is approved with conditions"),
        "decision_deferred": _l("A decision is deferred"),
        "decision_rejected": _l("A project is rejected"),
        "reserve_offer": _l("A project on the reserve list is offered a grant"),
    }),
    "money": (_l("Grants and money"), {
        "grant_awarded": _l("A grant is awarded"),
        "grant_awarded_officer": _l("A grant is awarded (officers)"),
        "grant_amended": _l("A grant is amended"),
        "grant_cancelled": _l("A grant is cancelled"),
        "grant_cancelled_officer": _l("A grant is cancelled (officers)"),
        "grant_letter_reissued": _l("An award letter is issued again"),
        "grant_letter_revoked": _l("An award letter is revoked"),
        "grant_letter_revoked_officer": _l("An award letter is revoked (officers)"),
        "contribution_verified": _l("A contribution is verified"),
        "contribution_rejected": _l("A contribution is rejected"),
        "contribution_reversed": _l("A contribution is reversed"),
        "disbursement_request": _l("A disbursement awaits a second officer"),
        "disbursement_refused": _l("A disbursement request is refused"),
        "disbursement_recorded": _l("A tranche is paid"),
        "disbursement_completed": _l("A grant is fully paid"),
        "report_submitted": _l("A report is submitted"),
        "report_accepted": _l("A report is accepted"),
        "report_returned": _l("A report is returned"),
        "lapse_notice": _l("A grant lapses"),
    }),
    "reminders": (_l("Reminders"), {
        "reminder_contribution": _l("A contribution deadline is near"),
        "reminder_report": _l("A report is due soon"),
    }),
    "security": (_l("Account and security"), {
        "account_created": _l("Your account is created"),
        "account_password_link": _l("A link to choose your password"),
        "association_welcome": _l("Your association's account is ready"),
        "assisted_handover": _l("A link to take over the account the ministry opened for your association"),
        "invitation": _l("An invitation to join an association"),
        "password_reset": _l("A password reset is asked for"),
        "password_changed": _l("Your password is changed"),
        "new_sign_in": _l("A new sign-in to your account (ministry accounts)"),
        "two_factor_changed": _l("Your two-factor sign-in is changed"),
    }),
}

# Sent whatever the preferences; their links carry tokens and are not kept.
SECURITY = frozenset(GROUPS["security"][1])

LABELS: dict[str, object] = {kind: label for _group, kinds in GROUPS.values() for kind, label in kinds.items()}


def kind_label(kind: str) -> object:
    return LABELS.get(kind, kind)


def optional_groups() -> list[tuple[object, list[str]]]:
    """The groups people may turn emails off in: (label, kinds), security left out."""
    return [(label, list(kinds)) for key, (label, kinds) in GROUPS.items() if key != "security"]


_users = table("users", column("id"), column("email"), column("active"))


def recipient(address: str, kind: str) -> tuple[int, bool] | None:
    """(user id, whether to email) for the active user at ``address``; None when no user has it."""
    preferences = NotificationPreference.__table__
    row = db.session.execute(
        select(_users.c.id, preferences.c.email)
        .select_from(_users.outerjoin(preferences, and_(preferences.c.user_id == _users.c.id,
                                                        preferences.c.kind == kind)))
        .where(_users.c.email == address.strip().lower(), _users.c.active.is_(True))
        .limit(1)
    ).first()
    if row is None:
        return None
    return row[0], kind in SECURITY or row[1] is None or bool(row[1])


def local_path(url: object) -> str | None:
    """The path (and query) of a link of this site, as the notification keeps it."""
    if not isinstance(url, str) or not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return None
    result = path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    return result[:2000]


def notify(user_id: int, kind: str, subject: str, url: object) -> Notification:
    """Add the notification of one email to ``user_id``'s list (flushed by the caller)."""
    notification = Notification(user_id=user_id, kind=kind, subject=subject[:300],
                                url=None if kind in SECURITY else local_path(url))
    db.session.add(notification)
    return notification
