"""What the confirm step (:mod:`codev.core.confirm`) says before an officer rejects an association."""

from __future__ import annotations

from flask import url_for

from codev.accounts.models import Association
from codev.core.confirm import Confirmation
from codev.core.i18n import gettext as _


def reject(association: Association, reason: str) -> Confirmation:
    """An officer rejects an association awaiting verification, with the reason its members will read."""
    return Confirmation(
        title=_("Reject the association %(name)s", name=association.display_name),
        facts=[(_("Association"), association.display_name), (_("Reason"), reason)],
        consequences=[_("Its members are told by email, with this reason, and cannot submit a project."),
                      _("Only the association can send it back for verification, after correcting its profile or "
                        "its statutes.")],
        cannot_undo=_("The rejection and its reason stay in the association's record: an officer cannot take it "
                      "back."),
        button=_("Yes, reject the association"), back=url_for("associations.detail", association_id=association.id))


def merge(duplicate: Association, kept: Association, moved: list[tuple[str, str]]) -> Confirmation:
    """An officer merges a duplicate association into the one kept; ``moved``: what goes with it, counted."""
    return Confirmation(
        title=_("Merge %(duplicate)s into %(kept)s", duplicate=duplicate.display_name, kept=kept.display_name),
        facts=[(_("Closed as a duplicate"), f"{duplicate.display_name} · {duplicate.status_enum.label}"),
               (_("Kept"), f"{kept.display_name} · {kept.status_enum.label}"), *moved],
        consequences=[_("%(duplicate)s is rejected as a duplicate of %(kept)s; the reason says so.",
                        duplicate=duplicate.display_name, kept=kept.display_name),
                      _("Its members, its pending invitations and its draft projects move to %(kept)s.",
                        kept=kept.display_name)],
        cannot_undo=_("A merge cannot be undone: the members and projects stay with %(kept)s and the duplicate "
                      "stays rejected.", kept=kept.display_name),
        button=_("Yes, merge the associations"),
        back=url_for("associations.detail", association_id=duplicate.id))
