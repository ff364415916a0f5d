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

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app, has_request_context, url_for
from sqlalchemy import BigInteger, and_, case, cast, false, func, or_, select
from sqlalchemy.orm import aliased, joinedload, load_only

from codev.accounts.models import Role, User
from codev.calls.models import Call
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.mail import queue_mail
from codev.core.money import format_xof
from codev.core.params import ListPage
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
    """A call's reserve: its session, the money free for it, the offer (if any) and a window of its lines.

    ``lines`` is the part of the frozen ranking shown (a page of the session's reserve, or the first lines
    still waiting on the list of every call's reserve); ``total`` and ``waiting_count`` count them all."""

    session: CommitteeSession
    lines: list[ReserveLine]
    remaining_xof: int  # envelope − committed, now
    promised_xof: int  # approved by the committee in this call, no grant yet
    offer: ReserveLine | None
    total: int = 0  # lines of the frozen ranking
    waiting_count: int = 0  # lines still in the reserve (offered, too large, or behind the offer)
    shown: ListPage | None = None  # the page of lines shown, when the reserve is read in pages

    @property
    def available_xof(self) -> int:
        return max(0, self.remaining_xof - self.promised_xof)

    @property
    def call(self) -> Call:
        return self.session.call

    @property
    def waiting(self) -> bool:
        """Whether lines are still in the reserve (offered, too large, or behind the offer)."""
        return self.waiting_count > 0


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
    """:func:`promised_xof` of several calls, summed by the database in one statement."""
    return _money_by_call(call_ids)[1]


def _promised_sum():
    """What the committee promised in the call (correlated to :class:`Call`): each approved project without a
    grant counts the amount its latest committee decision proposed, else (none, or nought) its request."""
    latest = (select(CommitteeDecision.amount_proposed_xof).where(CommitteeDecision.project_id == Project.id)
              .order_by(CommitteeDecision.decided_at.desc(), CommitteeDecision.id.desc()).limit(1)
              .correlate(Project).scalar_subquery())
    amount = func.coalesce(func.nullif(latest, 0), Project.requested_grant_xof)
    return (select(cast(func.coalesce(func.sum(amount), 0), BigInteger))
            .where(Project.call_id == Call.id, Project.status == ProjectStatus.APPROVED,
                   ~select(Grant.id).where(Grant.project_id == Project.id).exists())
            .correlate(Call).scalar_subquery())


def _money_by_call(call_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Each call's envelope remaining and what its committee promised (:func:`_promised_sum`), in one statement."""
    remaining, promised = {}, dict.fromkeys(call_ids, 0)
    for call_id, left, total in db.session.execute(
            select(Call.id, Call.envelope_xof - Call.committed_xof, _promised_sum())
            .where(Call.id.in_(call_ids or [-1]))):
        remaining[call_id], promised[call_id] = left, int(total or 0)
    return remaining, promised


# What a reserve line shows of its project (not its long texts), and the association's name.
LINE_PROJECT = (joinedload(Project.association).lazyload("*"),
                load_only(Project.id, Project.title, Project.reference, Project.status, Project.association_id,
                          Project.call_id, Project.requested_grant_xof))


def reserve_of(session: CommitteeSession, window: Callable[[int], ListPage] | None = None) -> Reserve:
    """The reserve list of a frozen ``session``; with ``window`` (given the number of lines, it returns the page
    to show), its lines are that page of its frozen ranking, else every line. A bounded number of queries,
    whatever its length; the lines are counted once, with the reserve's other counts."""
    reserve = reserves_of([session], preview=None if window is None else 0)[0]
    if window is None:
        return reserve
    shown = window(reserve.total)
    lines = _lines(and_(ReserveEntry.session_id == session.id), shown.start, shown.stop - shown.start,
                   {session.id: reserve.available_xof}, {session.id: reserve.offer.rank if reserve.offer else None})
    return replace(reserve, lines=lines.get(session.id, []), shown=shown)


def reserves_of(sessions: list[CommitteeSession], preview: int | None = None) -> list[Reserve]:
    """The reserve lists of frozen ``sessions`` in a bounded number of queries, whatever their number and length.

    With ``preview``, each holds only its first ``preview`` lines from the first one still in the reserve (the
    list of every call's reserve); without, every line."""
    if not sessions:
        return []
    ids = [session.id for session in sessions]
    call_ids = list({session.call_id for session in sessions})
    remaining, promised = _money_by_call(call_ids)
    available = {s.id: max(0, remaining[s.call_id] - promised[s.call_id]) for s in sessions}
    # The lines counted (all, still in the reserve, the first of those) and the offer's rank, in one statement.
    grouped = (select(ReserveEntry.session_id, func.count().label("total"),
                      func.count(case((_in_reserve(), 1))).label("waiting"),
                      func.min(case((_in_reserve(), ReserveEntry.rank))).label("first"))
               .join(Project, Project.id == ReserveEntry.project_id)
               .where(ReserveEntry.session_id.in_(ids)).group_by(ReserveEntry.session_id).subquery())
    counts, offers = {}, {}
    for sid, total, waiting, first, offer in db.session.execute(
            select(CommitteeSession.id, grouped.c.total, grouped.c.waiting, grouped.c.first, _offer_rank(available))
            .outerjoin(grouped, grouped.c.session_id == CommitteeSession.id)
            .where(CommitteeSession.id.in_(ids))):
        if total is not None:
            counts[sid] = (total, waiting, first)
        if offer is not None:
            offers[sid] = offer
    if preview is None:
        lines = _lines(ReserveEntry.session_id.in_(ids), 0, None, available, offers)
    elif preview:
        first = {sid: c[2] for sid, c in counts.items() if c[2] is not None}
        lines = _lines(or_(false(), *(and_(ReserveEntry.session_id == sid, ReserveEntry.rank >= rank)
                                      for sid, rank in first.items())), 0, preview, available, offers, len(first))
    else:
        lines = {}
    offered = dict(_offer_lines(offers, available))  # queried even when none: statements stay the same
    reserves = []
    for session in sessions:
        total, waiting, _first = counts.get(session.id, (0, 0, None))
        reserves.append(Reserve(session, lines.get(session.id, []), remaining[session.call_id],
                                promised[session.call_id], offered.get(session.id), total, waiting))
    return reserves


def _in_reserve():
    """A line still in the reserve: its project qualified or deferred, with no grant."""
    return and_(Project.status.in_(RESERVABLE), ~select(Grant.id).where(Grant.project_id == Project.id).exists())


def _offer_ranks(available: dict[int, int]) -> dict[int, int]:
    """The rank of each session's offer (:func:`_offer_rank`), in one statement."""
    rows = db.session.execute(
        select(CommitteeSession.id, _offer_rank(available)).where(CommitteeSession.id.in_(list(available) or [-1]))
    ).all()
    return {session_id: rank for session_id, rank in rows if rank is not None}


def _offer_rank(available: dict[int, int]):
    """The rank of a session's offer (correlated to :class:`CommitteeSession`): the first line still in the
    reserve whose amount fits the money free (``available``, by session).

    Each session's lines are walked in rank order along its (session, rank) index, stopping at the first that
    fits: the funded lines come first, so few are read. (A ``min(rank)`` grouped by session read every line
    of every session: 25 ms of the approver's home at 50 000 projects on SQLite, 1 ms this way.)"""
    return (select(ReserveEntry.rank).join(Project, Project.id == ReserveEntry.project_id)
            .where(ReserveEntry.session_id == CommitteeSession.id, _in_reserve(),
                   ReserveEntry.amount_xof <= case(available, value=CommitteeSession.id, else_=-1))
            .order_by(ReserveEntry.rank).limit(1).correlate(CommitteeSession).scalar_subquery())


def _offer_lines(offers: dict[int, int], available: dict[int, int]) -> list[tuple[int, ReserveLine]]:
    found = _lines(or_(false(), *(and_(ReserveEntry.session_id == sid, ReserveEntry.rank == rank)
                                  for sid, rank in offers.items())), 0, None, available, offers)
    return [(sid, rows[0]) for sid, rows in found.items() if rows]


def _lines(where, offset: int, limit: int | None, available: dict[int, int],
           offers: dict[int, int | None], sessions: int = 1) -> dict[int, list[ReserveLine]]:
    """The lines matching ``where`` by session, in rank order (``limit`` lines from ``offset`` of each of the
    ``sessions`` when given, counted by the database), each with its state.

    The lines picked are bounded in SQL too (``LIMIT limit × sessions``): PostgreSQL cannot tell how few rows
    the row numbers keep, expected thousands and joined every line of the sessions to its project before
    keeping fifty (10 of the reserve list's 40 ms at 10 000 projects)."""
    number = func.row_number().over(partition_by=ReserveEntry.session_id,
                                    order_by=ReserveEntry.rank).label("number")
    ranked = select(ReserveEntry.id, number).where(where).subquery()
    picked = select(ranked.c.id)
    if offset:
        picked = picked.where(ranked.c.number > offset)
    if limit is not None:
        picked = picked.where(ranked.c.number <= offset + limit).limit(limit * max(1, sessions))
    picked = picked.subquery()
    query = (select(ReserveEntry, Project, Grant.id)
             .join(picked, picked.c.id == ReserveEntry.id)
             .join(Project, Project.id == ReserveEntry.project_id)
             .outerjoin(Grant, Grant.project_id == Project.id)
             .options(*LINE_PROJECT).order_by(ReserveEntry.session_id, ReserveEntry.rank))
    found: dict[int, list[ReserveLine]] = {}
    for entry, project, grant_id in db.session.execute(query).all():
        found.setdefault(entry.session_id, []).append(
            _line(entry, project, grant_id, available.get(entry.session_id, 0), offers.get(entry.session_id)))
    return found


def _line(entry: ReserveEntry, project: Project, grant_id: int | None, available: int,
          offer_rank: int | None) -> ReserveLine:
    if grant_id is not None:
        state = "funded"
    elif project.status == ProjectStatus.APPROVED:
        state = "approved"
    elif project.status not in RESERVABLE:
        state = "out"
    elif entry.amount_xof > available:
        state = "too_large"
    elif entry.rank == offer_rank:
        state = "offered"
    else:
        state = "waiting"
    return ReserveLine(entry.rank, project, entry.amount_xof, entry.score_centi, entry.outcome, state, grant_id)


def line_of(session: CommitteeSession, project_id: int) -> tuple[Reserve, ReserveLine | None]:
    """``session``'s reserve (no lines) and the line of ``project_id`` in it, if any."""
    reserve = reserves_of([session], preview=0)[0]
    offers = {session.id: reserve.offer.rank if reserve.offer else None}
    found = _lines(and_(ReserveEntry.session_id == session.id, ReserveEntry.project_id == project_id), 0, None,
                   {session.id: reserve.available_xof}, offers).get(session.id, [])
    return reserve, (found[0] if found else None)


def call_reserve(call_id: int, lines: bool = True) -> Reserve | None:
    """The call's reserve list (every line; none with ``lines=False``), None before a session is frozen."""
    session = reserve_session(call_id)
    if session is None:
        return None
    return reserves_of([session], preview=None if lines else 0)[0]


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
    """The reserve of every call that has an offer now (the approver's home card), in a bounded number of queries.

    Only the offer is read (the first line that fits, by rank, of each call's reserve): each Reserve returned
    holds that one line, not the whole ranking.
    """
    sessions = list(db.session.scalars(latest_frozen_sessions()).unique())
    if not sessions:
        return []
    call_ids = [session.call_id for session in sessions]
    remaining, promised = _money_by_call(call_ids)
    available = {s.id: max(0, remaining[s.call_id] - promised[s.call_id]) for s in sessions}
    offers = _offer_ranks(available)
    offered = dict(_offer_lines(offers, available))
    return [Reserve(session, [offered[session.id]], remaining[session.call_id], promised[session.call_id],
                    offered[session.id], 1, 1) for session in sessions if session.id in offered]


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
    reserve = call_reserve(call_id, lines=False)
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
    reserve, line = line_of(session, project.id)
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
    _reserve, line = line_of(session, project.id)
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
