"""Administration: the emails the mail worker could not send (given up, or waiting for a retry after an
error), and a button that sends one again. Bodies are never shown: they hold password links."""

from __future__ import annotations

from flask import redirect, render_template, url_for

from codev.accounts.admin import bp
from codev.accounts.models import Role
from codev.core import mail
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.models import MailStatus, OutboxMessage
from codev.core.params import paginate
from codev.core.permissions import current_person, roles
from codev.core.templating import home_panel, nav_item
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db

nav_item("admin.mail_problems", _l("Emails not sent"), Role.ADMIN, order=88, group="admin")


@bp.route("/mail")
@roles(Role.ADMIN)
def mail_problems():
    """Emails given up or waiting for a retry, newest first: recipient, subject, attempts, last error."""
    return render_template("admin/mail.html", page=paginate(mail.problem_messages_query()),
                           pending=mail.pending_count(), smtp=mail.smtp_configured(), statuses=MailStatus)


@bp.route("/mail/<int:message_id>/retry", methods=["POST"])
@roles(Role.ADMIN)
def mail_retry(message_id: int):
    """Send one email again from its first attempt, at the mail worker's next pass."""
    message = db.get_or_404(OutboxMessage, message_id)
    with unit_of_work(success=_("The email to %(recipient)s will be sent again at the mail worker's next pass.",
                                recipient=message.recipient)):
        mail.retry_message(message, current_person())
    return redirect(url_for("admin.mail_problems"))


@home_panel(Role.ADMIN)
def mail_panel():
    """Emails given up, when there are any (a card that links to them)."""
    failed = mail.failed_count()
    return ("admin/_panel_mail.html", {"failed": failed}) if failed else None
