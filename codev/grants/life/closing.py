"""Closing a project's file once its grant's life is over: completed, lapsed or cancelled.

An officer or an approver closes it from the grant page (completed → closed, lapsed → closed), with an
optional message kept in the project's history; the move goes through the one engine
(:data:`codev.projects.workflow.PROJECT`). Nothing here commits.
"""

from __future__ import annotations

from typing import Any

from codev.accounts.models import Role
from codev.core.i18n import gettext as _
from codev.grants.common import LedgerError
from codev.grants.models import Grant, GrantStatus
from codev.projects.models import ProjectEvent, ProjectStatus
from codev.projects.workflow import PROJECT

CLOSABLE = {ProjectStatus.COMPLETED: {GrantStatus.COMPLETED},
            ProjectStatus.LAPSED: {GrantStatus.LAPSED, GrantStatus.CANCELLED}}


class ClosingError(LedgerError):
    """A refused closing; the message says why."""


def can_close(user: Any) -> bool:
    return getattr(user, "is_authenticated", False) and user.role in (Role.OFFICER, Role.APPROVER)


def closing_problem(grant: Grant) -> str | None:
    """Why the grant's project cannot be closed now (None when it can)."""
    project = grant.project
    if project.status == ProjectStatus.CLOSED:
        return _("The project's file is already closed.")
    grants_ok = CLOSABLE.get(ProjectStatus(project.status))
    if grants_ok is None or grant.status not in grants_ok:
        return _("Only a project whose grant is completed, lapsed or cancelled can be closed.")
    return None


def close_project(grant: Grant, user: Any, message: str | None = None) -> ProjectEvent:
    """Close the project of ``grant`` (completed or lapsed → closed); returns its history entry."""
    if not can_close(user):
        raise ClosingError(_("Only a programme officer or an approver can close a project."))
    problem = closing_problem(grant)
    if problem:
        raise ClosingError(problem)
    return PROJECT.fire(grant.project, ProjectStatus.CLOSED, user, message)


def closed_event(grant: Grant) -> ProjectEvent | None:
    """The history entry of the project's closing (who, when, the message), if it is closed."""
    if grant.project.status != ProjectStatus.CLOSED:
        return None
    return next((e for e in reversed(grant.project.events) if e.to_status == ProjectStatus.CLOSED), None)
