"""The reviews' part of what comes next (codev.projects.next_steps): the screening to do, the evaluations
still missing or all in, the committee session a qualified or deferred project waits for — each with
the link to the reader's own next action. The facts of a list are read in one query each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import url_for
from flask_babel import format_date
from sqlalchemy import case, func, select

from codev.accounts.models import Role
from codev.core.i18n import gettext as _
from codev.core.i18n import ngettext
from codev.core.templating import localized
from codev.extensions import db
from codev.projects.models import Project, ProjectStatus
from codev.projects.next_steps import Facts, NextStep, loader, provider, table_step, with_link
from codev.reviews.models import Assignment, AssignmentStatus, CommitteeSession, SessionStatus

S = ProjectStatus
ACTIVE = (AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED, AssignmentStatus.SUBMITTED)


@loader("evaluations", S.IN_REVIEW)
def evaluations_of(projects: list[Project]) -> dict[int, tuple[int, int]]:
    """Project id → (evaluations submitted, evaluators assigned and not recused nor withdrawn)."""
    rows = db.session.execute(
        select(Assignment.project_id,
               func.sum(case((Assignment.status == AssignmentStatus.SUBMITTED, 1), else_=0)),
               func.sum(case((Assignment.status.in_(ACTIVE), 1), else_=0)))
        .where(Assignment.project_id.in_([p.id for p in projects]))
        .group_by(Assignment.project_id)
    ).all()
    return {project_id: (int(done or 0), int(active or 0)) for project_id, done, active in rows}


def open_sessions_of(call_ids: Iterable[int]) -> dict[int, tuple[int, date]]:
    """Call id → (id, date) of its latest open committee session, for the calls that have one (one query,
    even for no call: a page's count of statements stays the same)."""
    rows = db.session.execute(
        select(CommitteeSession.call_id, CommitteeSession.id, CommitteeSession.held_on)
        .where(CommitteeSession.call_id.in_(set(call_ids)), CommitteeSession.status == SessionStatus.OPEN)
        .order_by(CommitteeSession.held_on, CommitteeSession.id)
    ).all()
    return {call_id: (session_id, held_on) for call_id, session_id, held_on in rows}  # the latest wins


@loader("open_sessions", S.QUALIFIED, S.DEFERRED)
def open_sessions(projects: list[Project]) -> dict[int, tuple[int, date]]:
    return open_sessions_of(p.call_id for p in projects)


@provider(S.SUBMITTED)
def screening(project: Project, reader: Any, member: bool, facts: Facts) -> NextStep | None:
    step = table_step(project, reader, member)
    if not member and reader.role == Role.OFFICER:
        return with_link(step, _("Screen the project"), url_for("reviews.screen", project_id=project.id))
    return step


@provider(S.IN_REVIEW)
def evaluations(project: Project, reader: Any, member: bool, facts: Facts) -> NextStep | None:
    if member:
        return None
    done, active = facts["evaluations"].get(project.id, (0, 0))
    needed = project.call.min_evaluators
    step = table_step(project, reader, member)
    page = url_for("reviews.project", project_id=project.id)
    officer = reader.role == Role.OFFICER
    if done >= needed:
        says = ngettext("The evaluation is in: apply its result to qualify the project or not.",
                        "The %(num)d evaluations are in: apply their result to qualify the project or not.", done)
        step = NextStep(says, _("You") if officer else _("The programme officer"), officer)
        return with_link(step, _("Apply the result"), page + "#result-title") if officer else step
    if active < needed:
        says = ngettext("Eligible: it needs %(num)d more evaluator (%(min)s required).",
                        "Eligible: it needs %(num)d more evaluators (%(min)s required).",
                        needed - active, min=needed)
        step = NextStep(says, _("You") if officer else _("The programme officer"), officer)
        return with_link(step, _("Assign evaluators"), page + "#assignments-title") if officer else step
    says = ngettext("Eligible: %(num)d evaluation of %(min)s submitted; the evaluators are at work.",
                    "Eligible: %(num)d evaluations of %(min)s submitted; the evaluators are at work.",
                    done, min=needed)
    return NextStep(says, step.who, False, _("Follow the evaluations"), page)


@provider(S.QUALIFIED, S.DEFERRED)
def committee(project: Project, reader: Any, member: bool, facts: Facts) -> NextStep | None:
    step = table_step(project, reader, member)
    if member:
        return step
    session = facts["open_sessions"].get(project.call_id)
    if session is not None and reader.role in (Role.OFFICER, Role.APPROVER):
        return with_link(step, _("Open the session of %(date)s", date=format_date(session[1], "long")),
                         url_for("reviews.committee.session", session_id=session[0]))
    if reader.role == Role.OFFICER:
        return with_link(step, _("Convene a session for %(call)s", call=localized(project.call, "title")),
                         url_for("reviews.committee.new", call_id=project.call_id))
    return step
