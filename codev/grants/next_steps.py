"""The grants' part of what comes next (codev.projects.next_steps): the grant to sign off, the grant's
page where its money, reports and the closing of the file are, each for the reader who acts there."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import select

from codev.accounts.models import Role
from codev.core.i18n import gettext as _
from codev.extensions import db
from codev.grants.models import Grant
from codev.projects.models import Project, ProjectStatus
from codev.projects.next_steps import Facts, NextStep, loader, provider, table_step, with_link

S = ProjectStatus
DECIDERS = (Role.OFFICER, Role.APPROVER)


@loader("grants", S.APPROVED, S.FUNDED, S.COMPLETED, S.LAPSED)
def grants_of(projects: list[Project]) -> dict[int, int]:
    """Project id → its grant's id."""
    rows = db.session.execute(select(Grant.project_id, Grant.id).where(Grant.project_id.in_([p.id for p in projects])))
    return dict(rows.all())


@provider(S.APPROVED)
def sign_off(project: Project, reader: Any, member: bool, facts: Facts) -> NextStep | None:
    step = table_step(project, reader, member)
    if not member and reader.role == Role.APPROVER and project.id not in facts["grants"]:
        return with_link(step, _("Sign off the grant"), url_for("grants.approve", project_id=project.id))
    return step


@provider(S.FUNDED)
def money(project: Project, reader: Any, member: bool, facts: Facts) -> NextStep | None:
    step = table_step(project, reader, member)
    grant_id = facts["grants"].get(project.id)
    if grant_id is not None and (member or reader.role in DECIDERS):
        return with_link(step, _("Grant, award letter and money"), url_for("grants.detail", grant_id=grant_id))
    return step


@provider(S.COMPLETED, S.LAPSED)
def closing(project: Project, reader: Any, member: bool, facts: Facts) -> NextStep | None:
    step = table_step(project, reader, member)
    grant_id = facts["grants"].get(project.id)
    if grant_id is not None and not member and reader.role in DECIDERS:
        return with_link(step, _("Close the file"), url_for("grants.detail", grant_id=grant_id) + "#close")
    return step
