"""What the confirm step (:mod:`codev.core.confirm`) says before a project is withdrawn by its association."""

from __future__ import annotations

from flask import url_for

from codev.core.confirm import Confirmation
from codev.core.i18n import gettext as _
from codev.core.money import format_xof
from codev.core.templating import localized
from codev.projects.models import Project


def withdraw(project: Project, reason: str | None) -> Confirmation:
    """The association withdraws its project."""
    return Confirmation(
        title=_("Withdraw the project “%(project)s”", project=project.title),
        facts=[(_("Project"), " · ".join(x for x in (project.reference, project.title) if x)),
               (_("Call for projects"), localized(project.call, "title")),
               (_("Grant requested"), format_xof(project.requested_grant_xof) if project.requested_grant_xof else ""),
               (_("Reason"), reason or "")],
        consequences=[_("The ministry no longer studies it; it stays in your list, marked withdrawn.")],
        cannot_undo=_("A withdrawn project cannot be submitted again: a new application would start from the "
                      "beginning."),
        button=_("Yes, withdraw the project"),
        back=url_for("projects.detail", project_id=project.id, _anchor="withdraw-title"))
