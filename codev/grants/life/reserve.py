"""The reserve list (DESIGN.md rule 6): money that returns to a call's envelope goes to the next project.

When a committee session closes, its ranking is frozen (``ReserveEntry``: rank, score, the amount that
funding each project takes, the decision at closing). The reserve of a call is its latest closed
session's frozen ranking, read in rank order: the projects still qualified or deferred and without a
grant. The money free for it is the envelope not yet committed, less what the committee has already
approved in that call and no grant holds yet (those projects come first: they wait for the approver).
The **offer** is the first project of the reserve whose amount fits in that money.

The path to fund it is the project's own: the committee's decision from the reserve (the project table's
``qualified | deferred → approved``, fired here with the decider's message), then the normal approval of
the grant (:func:`codev.grants.award.approval.approve_grant`), which commits the envelope through the
one guarded update — so two approvers can never both spend the same returned francs.

:func:`money_returned` is called by whatever gives money back to an envelope (a lapse, a cancellation,
a reduction), after ``release_envelope`` succeeded: it audits the return and, when an offer now exists,
emails the approvers in their language. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased, joinedload, load_only

from codev.accounts.models import Role, User
from codev.calls.models import Call
from codev.core import audit
from codev.core.mail import queue_mail
from codev.core.money import format_xof
from codev.core.unit_of_work import DomainError
from codev.extensions import db
from codev.grants.models import Grant
from codev.projects.models import Project, ProjectStatus
from codev.projects.services import project_url
from codev.projects.workflow import fire
from codev.reviews.models import CommitteeDecision, CommitteeSession, ReserveEntry, SessionStatus

RESERVABLE = (ProjectStatus.QUALIFIED, ProjectStatus.DEFERRED)
DECIDERS = (Role.OFFICER, Role.APPROVER)


class ReserveError(DomainError):
    """A refused decision from the reserve list; ``str(error)`` is meant for the person."""


# --- reading the reserve ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReserveLine:
    """One line of a closed session's frozen ranking, with what became of its project."""

    rank: int
    project: Project
    amount_xof: int
    score_centi: int | None
    outcome: str | None  # the committee's decision at closing
    state: str  # "offered", "too_large", "waiting" (behind the offer), "approved", "funded", "out"
    grant_id: int | None = None


@dataclass(frozen=True)
class Reserve:
    """A call's reserve: its session, every line, the money free for it and the offer (if any)."""

    session: CommitteeSession
    lines: list[ReserveLine]
    remaining_xof: int  # envelope − committed, now
    promised_xof: int  # approved by the committee in this call, no grant yet
    offer: ReserveLine | None

    @property
    def available_xof(self) -> int:
        return max(0, self.remaining_xof - self.promised_xof)

    @property
    def call(self) -> Call:
        return self.session.call

    @property
    def waiting(self) -> list[ReserveLine]:
        """The lines still in the reserve (offered, too large, or behind the offer)."""
        return [line for line in self.lines if line.state in ("offered", "too_large", "waiting")]

    @property
    def from_reserve(self) -> list[ReserveLine]:
        """Projects not approved at closing that the reserve list has since approved or funded."""
        return [line for line in self.lines if line.state in ("approved", "funded")
                and line.outcome not in ("approved", "conditionally_approved")]


def reserve_session(call_id: int) -> CommitteeSession | None:
    """The call's latest closed session whose ranking was frozen: the one the reserve list reads."""
    return db.session.scalar(
        select(CommitteeSession)
        .where(CommitteeSession.call_id == call_id, CommitteeSession.status == SessionStatus.CLOSED,
               CommitteeSession.remaining_at_close_xof.is_not(None))
        .options(joinedload(CommitteeSession.call))
        .order_by(CommitteeSession.closed_at.desc(), CommitteeSession.id.desc()).limit(1)
    )


def _remaining(call_id: int) -> int:
    return db.session.execute(
        select(Call.envelope_xof - Call.committed_xof).where(Call.id == call_id)
    ).scalar_one()


def promised_xof(call_id: int) -> int:
    """What the committee approved in the call that no grant holds yet (its amount, else the request)."""
    return promised_by_call([call_id]).get(call_id, 0)


def promised_by_call(call_ids: list[int]) -> dict[int, int]:
    """:func:`promised_xof` of several calls, in two queries."""
    waiting: dict[int, tuple[int, int]] = {
        project_id: (call_id, requested) for project_id, call_id, requested in db.session.execute(
            select(Project.id, Project.call_id, Project.requested_grant_xof)
            .where(Project.call_id.in_(call_ids or [-1]), Project.status == ProjectStatus.APPROVED,
                   ~select(Grant.id).where(Grant.project_id == Project.id).exists())
        )
    }
    totals = dict.fromkeys(call_ids, 0)
    if not waiting:
        return totals
    proposed: dict[int, int | None] = {}
    for project_id, amount in db.session.execute(
        select(CommitteeDecision.project_id, CommitteeDecision.amount_proposed_xof)
        .where(CommitteeDecision.project_id.in_(list(waiting)))
        .order_by(CommitteeDecision.decided_at, CommitteeDecision.id)
    ):
        proposed[project_id] = amount  # the latest decision wins
    for project_id, (call_id, requested) in waiting.items():
        totals[call_id] += proposed.get(project_id) or requested
    return totals


def _remaining_by_call(call_ids: list[int]) -> dict[int, int]:
    return dict(db.session.execute(
        select(Call.id, Call.envelope_xof - Call.committed_xof).where(Call.id.in_(call_ids or [-1]))).all())


# What a reserve line shows of its project (not its long texts), and the association's name.
LINE_PROJECT = (joinedload(Project.association).lazyload("*"),
                load_only(Project.id, Project.title, Project.reference, Project.status, Project.association_id,
                          Project.call_id, Project.requested_grant_xof))


def reserve_of(session: CommitteeSession) -> Reserve:
    """The reserve list of a frozen ``session`` (five queries, whatever its length)."""
    return reserves_of([session])[0]


def reserves_of(sessions: list[CommitteeSession]) -> list[Reserve]:
    """The reserve lists of frozen ``sessions``, in five queries whatever their number and length."""
    if not sessions:
        return []
    by_session: dict[int, list] = {session.id: [] for session in sessions}
    for entry, project in db.session.execute(
        select(ReserveEntry, Project)
        .join(Project, Project.id == ReserveEntry.project_id)
        .options(*LINE_PROJECT)
        .where(ReserveEntry.session_id.in_(list(by_session)))
        .order_by(ReserveEntry.session_id, ReserveEntry.rank)
    ).all():
        by_session[entry.session_id].append((entry, project))
    ids = [project.id for rows in by_session.values() for _entry, project in rows]
    grants = dict(db.session.execute(
        select(Grant.project_id, Grant.id).where(Grant.project_id.in_(ids or [-1]))
    ).all())
    call_ids = list({session.call_id for session in sessions})
    remaining, promised = _remaining_by_call(call_ids), promised_by_call(call_ids)
    return [_reserve(session, by_session[session.id], grants, remaining[session.call_id],
                     promised[session.call_id]) for session in sessions]


def _reserve(session: CommitteeSession, rows: list, grants: dict[int, int], remaining: int, promised: int) -> Reserve:
    available = max(0, remaining - promised)
    lines, offer = [], None
    for entry, project in rows:
        if project.id in grants:
            state = "funded"
        elif project.status == ProjectStatus.APPROVED:
            state = "approved"
        elif project.status not in RESERVABLE:
            state = "out"
        elif entry.amount_xof > available:
            state = "too_large"
        elif offer is None:
            state = "offered"
        else:
            state = "waiting"
        line = ReserveLine(entry.rank, project, entry.amount_xof, entry.score_centi, entry.outcome, state,
                           grants.get(project.id))
        if state == "offered":
            offer = line
        lines.append(line)
    return Reserve(session, lines, remaining, promised, offer)


def call_reserve(call_id: int) -> Reserve | None:
    session = reserve_session(call_id)
    return reserve_of(session) if session is not None else None


def latest_frozen_sessions():
    """Each call's latest closed session whose ranking was frozen (the one its reserve list reads), newest call
    first: a query to page."""
    later = aliased(CommitteeSession)
    frozen = and_(CommitteeSession.status == SessionStatus.CLOSED, CommitteeSession.remaining_at_close_xof.is_not(None))
    return (
        select(CommitteeSession).options(joinedload(CommitteeSession.call))
        .where(frozen, ~select(later.id).where(
            later.call_id == CommitteeSession.call_id, later.status == SessionStatus.CLOSED,
            later.remaining_at_close_xof.is_not(None),
            or_(later.closed_at > CommitteeSession.closed_at,
                and_(later.closed_at == CommitteeSession.closed_at, later.id > CommitteeSession.id))).exists())
        .order_by(CommitteeSession.call_id.desc())
    )


def current_offers() -> list[Reserve]:
    """The reserve of every call that has an offer now (the approver's home card), in six queries.

    Only the offer is read (the first line that fits, by rank, of each call's reserve): each Reserve returned
    holds that one line, not the whole ranking.
    """
    sessions = list(db.session.scalars(latest_frozen_sessions()).unique())
    if not sessions:
        return []
    call_ids = [session.call_id for session in sessions]
    remaining, promised = _remaining_by_call(call_ids), promised_by_call(call_ids)
    available = {s.id: max(0, remaining[s.call_id] - promised[s.call_id]) for s in sessions}
    first = dict(db.session.execute(
        select(ReserveEntry.session_id, func.min(ReserveEntry.rank))
        .join(Project, Project.id == ReserveEntry.project_id)
        .where(ReserveEntry.session_id.in_(list(available)), Project.status.in_(RESERVABLE),
               ~select(Grant.id).where(Grant.project_id == Project.id).exists(),
               ReserveEntry.amount_xof <= case(available, value=ReserveEntry.session_id, else_=-1))
        .group_by(ReserveEntry.session_id)
    ).all())
    if not first:
        return []
    offers = {entry.session_id: (entry, project) for entry, project in db.session.execute(
        select(ReserveEntry, Project).join(Project, Project.id == ReserveEntry.project_id).options(*LINE_PROJECT)
        .where(or_(*(and_(ReserveEntry.session_id == sid, ReserveEntry.rank == rank) for sid, rank in first.items())))
    ).all()}
    reserves = []
    for session in sessions:
        if session.id not in offers:
            continue
        entry, project = offers[session.id]
        line = ReserveLine(entry.rank, project, entry.amount_xof, entry.score_centi, entry.outcome, "offered")
        reserves.append(Reserve(session, [line], remaining[session.call_id], promised[session.call_id], line))
    return reserves


# --- money back in the envelope --------------------------------------------------------------------


def session_url(session: CommitteeSession) -> str:
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for("reviews.committee.session", session_id=session.id, _external=True, _anchor="reserve")
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/reviews/committee/{session.id}#reserve"


def money_returned(call_id: int, amount: int, actor: Any) -> None:
    """Money went back to the call's envelope (lapse, cancellation, reduction): audit it, tell approvers.

    Called after ``release_envelope`` succeeded, inside the caller's unit of work; flushes, never commits.
    """
    call = db.session.get(Call, call_id)
    if call is None:
        return
    db.session.flush()
    db.session.expire(call, ["committed_xof"])  # the guarded update changed it behind the ORM's back
    reserve = call_reserve(call_id)
    offer = reserve.offer if reserve is not None else None
    audit.record("reserve.money_returned", call, actor=actor if getattr(actor, "id", None) else None, after={
        "amount_xof": amount, "remaining_xof": _remaining(call_id),
        "available_xof": reserve.available_xof if reserve is not None else None,
        "session_id": reserve.session.id if reserve is not None else None,
        "offer": {"project": offer.project.reference, "rank": offer.rank, "amount_xof": offer.amount_xof}
        if offer is not None else None,
    })
    db.session.flush()
    if reserve is not None and offer is not None:
        _tell_approvers(reserve, amount)


def _tell_approvers(reserve: Reserve, returned: int) -> None:
    offer = reserve.offer
    url = session_url(reserve.session)
    approvers = db.session.scalars(
        select(User).where(User.role == Role.APPROVER, User.active.is_(True)).order_by(User.id)
    )
    for person in approvers:
        queue_mail(
            person.email, person.locale, "reserve_offer", name=person.name,
            call=reserve.call.title_for(person.locale), returned=format_xof(returned, person.locale),
            available=format_xof(reserve.available_xof, person.locale), rank=offer.rank,
            title=offer.project.title, reference=offer.project.reference or "",
            association=offer.project.association.display_name,
            amount=format_xof(offer.amount_xof, person.locale), url=url,
        )


# --- the committee's decision from the reserve --------------------------------------------------------


def can_decide(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.role in DECIDERS)


def offer_problem(session: CommitteeSession, project: Project) -> str | None:
    """Why ``project`` cannot be approved from the reserve of ``session`` now (None when it can)."""
    current = reserve_session(session.call_id)
    if current is None or current.id != session.id:
        return _("The reserve list of this call is that of its latest closed session; this one no longer counts.")
    reserve = reserve_of(session)
    line = next((line for line in reserve.lines if line.project.id == project.id), None)
    if line is None:
        return _("This project is not in the session's ranking.")
    if line.state in ("approved", "funded"):
        return _("This project is already approved; what remains is the grant.")
    if line.state == "out":
        return _("This project is “%(state)s”: only a qualified or deferred project can be approved from the "
                 "reserve list.", state=ProjectStatus(project.status).label)
    if line.state == "too_large":
        return _("Funding this project takes %(a)s; only %(r)s of the envelope is free for the reserve list.",
                 a=format_xof(line.amount_xof), r=format_xof(reserve.available_xof))
    if line.state == "waiting":
        return _("The reserve list offers the money to %(ref)s first (rank %(rank)s): the ranking is followed "
                 "in order.", ref=reserve.offer.project.reference, rank=reserve.offer.rank)
    return None


def approve_from_reserve(session: CommitteeSession, project: Project, message: str | None, user: User) -> Project:
    """The committee's decision from the reserve: the offered project is approved (its grant comes next).

    Raises :class:`ReserveError` (or ``TransitionRefused``) with a message for the person; flushes, never commits.
    """
    if not can_decide(user):
        raise ReserveError(_("Only programme officers and approvers can decide from the reserve list."))
    message = (message or "").strip()
    if not message:
        raise ReserveError(_("Write the reasons of the decision: the association will read them."), field="message")
    problem = offer_problem(session, project)
    if problem:
        raise ReserveError(problem)
    line = next(line for line in reserve_of(session).lines if line.project.id == project.id)
    fire(project, ProjectStatus.APPROVED, user, message)
    audit.record("reserve.approved", project, actor=user, after={
        "session_id": session.id, "rank": line.rank, "amount_xof": line.amount_xof,
        "reference": project.reference, "message": message,
    })
    db.session.flush()
    _tell_members(project, line.amount_xof, message)
    return project


def _tell_members(project: Project, amount: int, reason: str) -> None:
    """Each member of the association, in their language: the project is approved (the committee's email)."""
    members = db.session.scalars(
        select(User).where(User.association_id == project.association_id, User.role == Role.ASSOCIATION,
                           User.active.is_(True)).order_by(User.id)
    )
    for person in members:
        queue_mail(person.email, person.locale, "decision_approved", name=person.name, title=project.title,
                   reference=project.reference, association=project.association.display_name, reason=reason,
                   conditions=None, url=project_url(project), amount=format_xof(amount, person.locale))
