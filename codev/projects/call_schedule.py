"""Calls that open and close on time by themselves: what ``flask open-close-calls`` does, call by call.

An officer may set a draft call to open by itself (``Call.opens_automatically``): once its opening date
has come, the job opens it through the call's workflow as the system (the associations are told, as when
an officer opens it), provided it is complete; a call still lacking something stays a draft, its
automatic opening is turned off and the officers are told, in their language, what it lacks, so the job
does not try again every run. Every open call whose closing date has passed is closed by the job; each
association with projects in it is told what became of them (submitted, or drafts that can no longer
be sent).

Each call is judged in its own transaction, with its row locked on PostgreSQL (``FOR UPDATE``): a run
that overlaps another (two servers' cron entries) finds the call already moved on and leaves it. The job
lock of the command saves the work; the row lock and the state read again under it are what make the
opening and its emails happen once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context
from flask_babel import force_locale
from sqlalchemy import case, func, select

from codev.accounts.models import Association, Role, User
from codev.calls.models import Call, CallStatus
from codev.calls.workflow import CALL, missing_pieces
from codev.core import audit
from codev.core.mail import queue_mail
from codev.core.timeutil import utcnow
from codev.core.workflow import SYSTEM
from codev.extensions import db
from codev.projects.models import Project, ProjectStatus

NOT_SENT = (ProjectStatus.DRAFT, ProjectStatus.RETURNED)


@dataclass(frozen=True)
class Outcome:
    call_id: int
    action: str  # "opened", "not_opened", "closed" or "" (another run moved it meanwhile)
    problems: tuple[str, ...] = ()


def due_openings(now: datetime | None = None) -> list[int]:
    """Draft calls set to open by themselves whose opening date has come, by id."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Call.id).where(Call.status == CallStatus.DRAFT, Call.opens_automatically.is_(True),
                              Call.opens_at <= now).order_by(Call.opens_at, Call.id)))


def due_closings(now: datetime | None = None) -> list[int]:
    """Open calls whose closing date has passed, by id."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Call.id).where(Call.status == CallStatus.OPEN, Call.closes_at <= now)
        .order_by(Call.closes_at, Call.id)))


def _locked(call_id: int) -> Call | None:
    """The call, its row locked until the transaction ends (PostgreSQL; SQLite writes one at a time)."""
    return db.session.scalar(select(Call).where(Call.id == call_id).with_for_update().execution_options(
        populate_existing=True))


def open_due(call_id: int, now: datetime | None = None) -> Outcome:
    """Open the call if it is still due and complete; else turn its automatic opening off and tell why."""
    now = now or utcnow()
    call = _locked(call_id)
    if (call is None or call.status != CallStatus.DRAFT or not call.opens_automatically
            or call.opens_at is None or call.opens_at > now):
        return Outcome(call_id, "")
    problems = tuple(str(p) for p in missing_pieces(call))
    if problems:
        call.opens_automatically = False
        audit.record("call.not_opened", call, actor=None, before={"opens_automatically": True},
                     after={"opens_automatically": False, "problems": list(problems)})
        _tell_officers(call)
        db.session.flush()
        return Outcome(call_id, "not_opened", problems)
    CALL.fire(call, CallStatus.OPEN, SYSTEM)
    return Outcome(call_id, "opened")


def close_due(call_id: int, now: datetime | None = None) -> Outcome:
    """Close the call if it is still open past its closing date, and tell the associations with projects."""
    now = now or utcnow()
    call = _locked(call_id)
    if call is None or call.status != CallStatus.OPEN or call.closes_at is None or call.closes_at > now:
        return Outcome(call_id, "")
    CALL.fire(call, CallStatus.CLOSED, SYSTEM)
    _tell_associations(call)
    return Outcome(call_id, "closed")


def _tell_officers(call: Call) -> None:
    """Every active officer, in their language: the call did not open by itself, and what it lacks."""
    officers = db.session.scalars(
        select(User).where(User.role == Role.OFFICER, User.active.is_(True)).order_by(User.id)).all()
    for officer in officers:
        locale = officer.locale or "fr"
        with _in(locale):
            problems = [str(p) for p in missing_pieces(call)]
        queue_mail(officer.email, locale, "call_not_opened", call=call, title=call.title_for(locale),
                   name=officer.name, problems=problems, url=_url(f"/calls/{call.id}/manage"))


def _tell_associations(call: Call) -> None:
    """Each association with projects in the call, in its language: how many were sent, how many were not."""
    not_sent = func.sum(case((Project.status.in_(NOT_SENT), 1), else_=0))
    rows = db.session.execute(
        select(Association.contact_email, Association.locale, Association.name, func.count(Project.id), not_sent)
        .join(Project, Project.association_id == Association.id)
        .where(Project.call_id == call.id, Project.status != ProjectStatus.WITHDRAWN)
        .group_by(Association.id, Association.contact_email, Association.locale, Association.name)
        .order_by(Association.id)
    ).all()
    for email, locale, name, projects, drafts in rows:
        if not email:
            continue
        locale = locale or "fr"
        queue_mail(email, locale, "call_closed", call=call, title=call.title_for(locale), association_name=name,
                   submitted=int(projects) - int(drafts or 0), drafts=int(drafts or 0), url=_url("/projects/"))


def _url(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


@contextmanager
def _in(locale: str) -> Iterator[None]:
    """Translations in ``locale``, in a request or outside one (the command)."""
    if has_request_context():
        with force_locale(locale):
            yield
        return
    with current_app.test_request_context(), force_locale(locale):
        yield
