"""The signed-in person's notifications: the list (newest first, unread in bold), opening one (marked read,
then its page), marking all read, the unread count of the navigation, and the per-kind email preferences.

Notifications are born in ``codev.core.mail.queue_mail`` (see ``codev.core.notifications``); here a
person only reads and marks their own: another person's notification is not found (404).
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, g, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from wtforms import BooleanField

from codev.core import audit
from codev.core.forms import BaseForm
from codev.core.i18n import gettext as _
from codev.core.i18n import ngettext
from codev.core.notifications import Notification, NotificationPreference, kind_label, optional_groups
from codev.core.params import paginate
from codev.core.permissions import current_person, signed_in
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import unit_of_work
from codev.core.urls import safe_next
from codev.extensions import db

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
log = logging.getLogger("codev")


# --- services ------------------------------------------------------------------------------------

def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ) or 0


def own_notification(user, notification_id: int) -> Notification | None:
    """``user``'s notification ``notification_id``; None when there is none or it is someone else's."""
    return db.session.scalar(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user.id)
    )


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()


def mark_all_read(user) -> int:
    """Mark every unread notification of ``user`` read; how many were."""
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0


def email_choices(user) -> dict[str, bool]:
    """``user``'s email choice for every kind they may turn off (True: emailed)."""
    stored = dict(db.session.execute(
        select(NotificationPreference.kind, NotificationPreference.email)
        .where(NotificationPreference.user_id == user.id)
    ).all())
    return {kind: bool(stored.get(kind, True)) for _label, kinds in optional_groups() for kind in kinds}


def save_email_choices(user, choices: dict[str, bool]) -> None:
    """Keep ``user``'s choices for the kinds they may turn off (others ignored); audited when they change."""
    allowed = {kind for _label, kinds in optional_groups() for kind in kinds}
    rows = {row.kind: row for row in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    before = {kind: row.email for kind, row in rows.items()}
    for kind, email in choices.items():
        if kind not in allowed:
            continue
        row = rows.get(kind)
        if row is None:
            if not email:
                db.session.add(NotificationPreference(user_id=user.id, kind=kind, email=False))
        elif row.email != bool(email):
            row.email = bool(email)
    db.session.flush()
    after = {row.kind: row.email for row in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    if {k: v for k, v in after.items() if not v} != {k: v for k, v in before.items() if not v}:
        audit.record("user.notification_preferences", user, after={"emails_off": sorted(k for k, v in after.items()
                                                                                        if not v)})


# --- the navigation's count ---------------------------------------------------------------------

def _unread_in_nav() -> int:
    """The signed-in person's unread count, one COUNT per page (only pages that show the navigation ask)."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        try:
            g.unread_notifications = unread_count(current_user.id)
        except SQLAlchemyError as error:  # an error page drawn while the database fails: no count, not a 2nd error
            log.warning("unread count not read: %s", error)
            g.unread_notifications = 0
    return g.unread_notifications


@bp.app_context_processor
def _nav_context() -> dict:
    return {"unread_notifications": _unread_in_nav}


# --- pages ---------------------------------------------------------------------------------------

def preferences_form_class() -> type[BaseForm]:
    fields = {f"email_{kind}": BooleanField(kind_label(kind)) for _label, kinds in optional_groups() for kind in kinds}
    return type("NotificationPreferencesForm", (BaseForm,), fields)


PreferencesForm = preferences_form_class()


@bp.route("")
@signed_in
def index():
    """The person's notifications, newest first, unread in bold."""
    user = current_person()
    query = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc())
    page = paginate(query)
    return render_template("accounts/notifications.html", page=page, unread=_unread_in_nav())


@bp.route("/<int:notification_id>")
@signed_in
def open_one(notification_id: int):
    """Mark one's own notification read and go to the page it is about."""
    user = current_person()
    notification = own_notification(user, notification_id)
    if notification is None:
        abort(404)
    with unit_of_work() as work:
        mark_read(notification)
    target = safe_next(notification.url) if work else None
    return redirect(target or url_for("notifications.index"))


@bp.route("/read", methods=["POST"])
@signed_in
def read_all():
    """Mark every notification of the person read."""
    user = current_person()
    with unit_of_work() as work:
        marked = mark_all_read(user)
        work.success = ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", marked)
    return redirect(url_for("notifications.index"))


@bp.route("/preferences", methods=["GET", "POST"])
@signed_in
def preferences():
    """Which kinds of email the person receives; security emails are not offered (they always go)."""
    user = current_person()
    choices = email_choices(user)
    form = PreferencesForm(data={f"email_{kind}": on for kind, on in choices.items()})
    if form.validate_on_submit():
        with unit_of_work(form, success=_("Your email preferences are saved.")) as work:
            save_email_choices(user, {kind: bool(form[f"email_{kind}"].data) for kind in choices})
        if work:
            return redirect(url_for("notifications.preferences"))
        status = 400
    else:
        status = 400 if form.is_submitted() else 200
    groups = [(label, [form[f"email_{kind}"] for kind in kinds]) for label, kinds in optional_groups()]
    return render_template("accounts/notification_preferences.html", form=form, groups=groups), status
