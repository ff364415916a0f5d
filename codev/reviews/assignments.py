"""Who studies which project: access of evaluators, assignments, suggestions, bulk assignment, lists.

Access in one place for the package: an evaluator sees a project only through an assignment they
accepted (no conflict declared) or submitted; :func:`evaluator_may_view` answers for
:func:`codev.projects.services.can_view` (given to it when the app is built, ``allow_evaluators``), and
:func:`get_assignment_or_404` for the reviews pages (404 for an assignment that is not the person's,
recused or withdrawn: they may not even learn it exists).

Suggestions balance the load and prefer competence: the candidates whose partner structure covers the
project's sector and region come first (sector weighs more than region), then within each level the
fewest open assignments, then the oldest account. Nobody is assigned twice to a project.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import abort, url_for
from flask_babel import format_date
from sqlalchemy import case, exists, func, select, update
from sqlalchemy.orm import joinedload, load_only

from codev.accounts.models import PartnerRegion, PartnerSector, PartnerStructure, Role, User
from codev.calls.models import Call
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.mail import queue_mail
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db
from codev.projects.models import Project, ProjectStatus
from codev.reviews.models import Assignment, AssignmentStatus, Evaluation
from codev.reviews.workflows import ASSIGNMENT

A = AssignmentStatus
OPEN = (A.ASSIGNED, A.ACCEPTED)  # waiting for the evaluator
COUNTED = (A.ASSIGNED, A.ACCEPTED, A.SUBMITTED)  # count towards the call's minimum of evaluators
VIEWING = (A.ACCEPTED, A.SUBMITTED)  # the evaluator may see the project
DEFAULT_DUE_DAYS = 21


class ReviewError(DomainError):
    """A refused operation of the reviews; ``str(error)`` is meant for the person."""


# --- access -------------------------------------------------------------------------------------


def evaluator_may_view(user: Any, project: Project) -> bool:
    """``user`` is an evaluator with an accepted or submitted assignment on ``project``."""
    if getattr(user, "role", None) != Role.EVALUATOR or project.id is None:
        return False
    return bool(db.session.scalar(select(exists().where(
        Assignment.project_id == project.id, Assignment.evaluator_id == user.id, Assignment.status.in_(VIEWING),
    ))))


def get_assignment_or_404(assignment_id: int, user: Any) -> Assignment:
    """The person's own assignment (with its project and evaluation); 404 for anything else.

    Recused and withdrawn assignments answer 404 too: the evaluator no longer has access to the project.
    """
    assignment = db.session.scalar(
        select(Assignment).where(Assignment.id == assignment_id).options(
            joinedload(Assignment.project).joinedload(Project.call),
            joinedload(Assignment.project).joinedload(Project.association),
            joinedload(Assignment.evaluation),
        )
    )
    if (assignment is None or assignment.evaluator_id != getattr(user, "id", None)
            or assignment.status in (A.RECUSED, A.WITHDRAWN)):
        abort(404)
    return assignment


# --- loads and suggestions ----------------------------------------------------------------------


def open_loads(evaluator_ids: list[int] | None = None) -> dict[int, int]:
    """Open assignments (waiting for a declaration or a score) per evaluator, in one query.

    Counted here, not by ``GROUP BY evaluator_id``: for that, SQLite walks the whole table in evaluator
    order (every submitted assignment of the programme) instead of the few open ones found by status."""
    query = select(Assignment.evaluator_id).where(Assignment.status.in_(OPEN))
    if evaluator_ids is not None:
        query = query.where(Assignment.evaluator_id.in_(evaluator_ids))
    return dict(Counter(db.session.scalars(query)))


def active_evaluators() -> list[User]:
    """Active evaluators of active partner structures, with their structure's regions and sectors."""
    return list(db.session.scalars(
        select(User)
        .join(PartnerStructure, User.partner_structure_id == PartnerStructure.id)
        .where(User.role == Role.EVALUATOR, User.active.is_(True), PartnerStructure.active.is_(True))
        .options(joinedload(User.partner_structure))  # its regions and sectors load by selectin
        .order_by(User.id)
    ).unique())


@dataclass(frozen=True)
class Candidate:
    evaluator: User
    load: int
    covers_sector: bool
    covers_region: bool

    @property
    def competence(self) -> int:
        return 2 * self.covers_sector + self.covers_region

    @property
    def key(self) -> tuple[int, int, int]:
        return (-self.competence, self.load, self.evaluator.id)


def _candidate(project: Project, evaluator: User, load: int) -> Candidate:
    structure = evaluator.partner_structure
    return Candidate(
        evaluator, load,
        covers_sector=bool(project.sector and structure and project.sector in structure.sector_codes),
        covers_region=bool(project.region and structure and project.region in structure.region_codes),
    )


def _assigned_ids(project_ids: list[int]) -> dict[int, set[int]]:
    """Evaluators ever assigned to each project (whatever the status: never twice on a project)."""
    result: dict[int, set[int]] = {pid: set() for pid in project_ids}
    if project_ids:
        rows = db.session.execute(
            select(Assignment.project_id, Assignment.evaluator_id).where(Assignment.project_id.in_(project_ids))
        )
        for project_id, evaluator_id in rows:
            result[project_id].add(evaluator_id)
    return result


def candidates(project: Project, evaluators: list[User] | None = None,
               loads: dict[int, int] | None = None) -> list[Candidate]:
    """Evaluators who may still be assigned to ``project``, the suggested ones first."""
    evaluators = active_evaluators() if evaluators is None else evaluators
    loads = open_loads() if loads is None else loads
    taken = _assigned_ids([project.id])[project.id]
    found = [_candidate(project, e, loads.get(e.id, 0)) for e in evaluators if e.id not in taken]
    return sorted(found, key=lambda c: c.key)


def counted_assignments(project_ids: list[int]) -> dict[int, int]:
    """Assignments that count towards the minimum (open or submitted) per project, in one query."""
    if not project_ids:
        return {}
    rows = db.session.execute(
        select(Assignment.project_id, func.count())
        .where(Assignment.project_id.in_(project_ids), Assignment.status.in_(COUNTED))
        .group_by(Assignment.project_id)
    )
    return dict(rows.all())


@dataclass(frozen=True)
class Proposal:
    """An evaluator the bulk plan proposes for a project: what its preview shows, and the evaluator's id."""

    evaluator_id: int
    name: str
    structure: str  # the structure's acronym, or its name
    load: int
    covers_sector: bool
    covers_region: bool


@dataclass
class BulkLine:
    project: Project
    have: int
    proposed: list[Proposal]
    minimum: int

    @property
    def missing(self) -> int:
        return max(self.minimum - self.have - len(self.proposed), 0)


def _pool() -> list[tuple[int, str, str, frozenset[str], frozenset[str]]]:
    """The active evaluators as (id, name, structure, its sectors, its regions), by id: plain rows in three
    statements, not whole accounts and structures (the plan reads nothing else of them)."""
    active = (select(User.id, User.name, User.partner_structure_id, PartnerStructure.acronym, PartnerStructure.name)
              .join(PartnerStructure, User.partner_structure_id == PartnerStructure.id)
              .where(User.role == Role.EVALUATOR, User.active.is_(True), PartnerStructure.active.is_(True))
              .order_by(User.id))
    evaluators = db.session.execute(active).all()
    structures = {row.partner_structure_id for row in evaluators}
    sectors: dict[int, set[str]] = {sid: set() for sid in structures}
    regions: dict[int, set[str]] = {sid: set() for sid in structures}
    if structures:
        for sid, code in db.session.execute(select(PartnerSector.structure_id, PartnerSector.sector)
                                            .where(PartnerSector.structure_id.in_(structures))):
            sectors[sid].add(code)
        for sid, code in db.session.execute(select(PartnerRegion.structure_id, PartnerRegion.region)
                                            .where(PartnerRegion.structure_id.in_(structures))):
            regions[sid].add(code)
    kept = {sid: (frozenset(sectors[sid]), frozenset(regions[sid])) for sid in structures}
    return [(eid, name, acronym or structure, *kept[sid]) for eid, name, sid, acronym, structure in evaluators]


def bulk_plan(call: Call) -> list[BulkLine]:
    """For each project of ``call`` under review without enough evaluators, whom to add (load kept up to date).

    Each evaluator's competence is read once per (sector, region) met; for each project only the few best
    candidates are kept (``heapq.nsmallest`` over the same key as :func:`candidates`), not the whole pool
    sorted. The projects short of evaluators are found from two indexes (the call's projects by status, the
    assignments by project and status); only the columns the plan shows are then read of them."""
    counted = (select(func.count()).where(Assignment.project_id == Project.id, Assignment.status.in_(COUNTED))
               .correlate(Project).scalar_subquery())
    short = db.session.execute(  # only the projects still short of evaluators, found by the database
        select(Project.id, counted).where(Project.call_id == call.id, Project.status == ProjectStatus.IN_REVIEW,
                                          counted < call.min_evaluators)
        .order_by(Project.submitted_at, Project.id)
    ).all()
    have = dict(short)
    projects: list[Project] = []
    if have:
        found = {project.id: project for project in db.session.scalars(
            select(Project).where(Project.id.in_(have))
            .options(load_only(Project.id, Project.reference, Project.title, Project.commune, Project.sector,
                               Project.region, Project.status, Project.call_id)))}
        projects = [found[pid] for pid in have]
    taken = _assigned_ids(list(have))
    pool = _pool()
    tiers: dict[tuple[str | None, str | None], list[list[tuple[int, str, str]]]] = {}
    loads = open_loads()
    plan = []
    for project in projects:
        need = call.min_evaluators - have[project.id]
        if need <= 0:
            continue
        excluded, sector, region = taken[project.id], project.sector, project.region
        if (sector, region) not in tiers:  # the evaluators by competence for this sector and region, best first
            ranked: list[list[tuple[int, str, str]]] = [[], [], [], []]
            for eid, name, structure, sectors, regions in pool:
                ranked[3 - 2 * (sector in sectors) - (region in regions)].append((eid, name, structure))
            tiers[(sector, region)] = ranked
        chosen: list[Proposal] = []
        for level, tier in enumerate(tiers[(sector, region)]):  # the least loaded of the best tier, then the next
            best = heapq.nsmallest(need - len(chosen), ((loads.get(eid, 0), eid, name, structure)
                                                        for eid, name, structure in tier if eid not in excluded),
                                   key=lambda row: row[:2])
            chosen += [Proposal(eid, name, structure, load, covers_sector=level < 2, covers_region=level % 2 == 0)
                       for load, eid, name, structure in best]
            if len(chosen) == need:
                break
        for proposal in chosen:
            loads[proposal.evaluator_id] = loads.get(proposal.evaluator_id, 0) + 1
        plan.append(BulkLine(project, have[project.id], chosen, call.min_evaluators))
    return plan


# --- services -----------------------------------------------------------------------------------


def default_due_on() -> date:
    return utcnow().date() + timedelta(days=DEFAULT_DUE_DAYS)


def evaluate_url(assignment: Assignment) -> str:
    return url_for("reviews.evaluate", assignment_id=assignment.id, _external=True)


def assign(project: Project, evaluator: User, officer: User, due_on: date | None = None) -> Assignment:
    """Ask ``evaluator`` to study ``project`` by ``due_on``; the evaluator is emailed in their language."""
    if project.status != ProjectStatus.IN_REVIEW:
        raise ReviewError(_("Evaluators can be assigned only to a project under review."), field="evaluator")
    if evaluator.role != Role.EVALUATOR or not evaluator.active:
        raise ReviewError(_("Choose an active evaluator of a partner structure."), field="evaluator")
    due_on = due_on or default_due_on()
    if due_on < utcnow().date():
        raise ReviewError(_("The due date cannot be in the past."), field="evaluator")
    already = db.session.scalar(select(Assignment).where(
        Assignment.project_id == project.id, Assignment.evaluator_id == evaluator.id))
    if already is not None:
        raise ReviewError(_("%(name)s has already been assigned this project: choose another evaluator.",
                            name=evaluator.name), field="evaluator")
    assignment = Assignment(project_id=project.id, evaluator_id=evaluator.id, assigned_by_id=officer.id,
                            due_on=due_on, status=A.ASSIGNED)
    db.session.add(assignment)
    db.session.flush()
    audit.record("review.assigned", assignment, actor=officer,
                 after={"project_id": project.id, "evaluator_id": evaluator.id, "due_on": due_on.isoformat()})
    queue_mail(evaluator.email, evaluator.locale, "review_assigned", name=evaluator.name, title=project.title,
               reference=project.reference, call=project.call.title_for(evaluator.locale),
               due=_date_in(due_on, evaluator.locale), url=evaluate_url(assignment))
    return assignment


def assign_bulk(call: Call, officer: User, due_on: date | None = None) -> list[Assignment]:
    """Give every project of ``call`` under review evaluators up to the call's minimum, as suggested."""
    made = []
    plan = bulk_plan(call)
    chosen = {proposal.evaluator_id for line in plan for proposal in line.proposed}
    evaluators = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(chosen)))}
    for line in plan:
        for proposal in line.proposed:
            made.append(assign(line.project, evaluators[proposal.evaluator_id], officer, due_on))
    if made:
        audit.record("review.assigned_bulk", call, actor=officer, after={"assignments": len(made)})
        db.session.flush()
    return made


def lock_assignment(assignment: Assignment) -> None:
    """Serialise the changes of one assignment until the transaction ends, then read it again.

    A declaration, a submission and a withdrawal racing each other: a no-op UPDATE takes the row lock on
    PostgreSQL and the write lock on SQLite (where SELECT alone takes none), so the second one reads
    what the first one did and the table refuses it.
    """
    db.session.execute(
        update(Assignment).where(Assignment.id == assignment.id)
        .values(evaluator_id=Assignment.evaluator_id).execution_options(synchronize_session=False)
    )
    db.session.refresh(assignment)


def withdraw(assignment: Assignment, officer: User) -> Assignment:
    """Take the project back from an evaluator who has not submitted (to give it to someone else)."""
    lock_assignment(assignment)
    if assignment.status == A.SUBMITTED:
        raise ReviewError(_("This evaluation has been submitted: it can no longer be withdrawn."))
    if assignment.status not in OPEN:
        raise ReviewError(_("This assignment is already closed."))
    ASSIGNMENT.fire(assignment, A.WITHDRAWN, officer)
    evaluator, project = assignment.evaluator, assignment.project
    queue_mail(evaluator.email, evaluator.locale, "review_withdrawn", name=evaluator.name, title=project.title,
               reference=project.reference)
    return assignment


def _date_in(value: date, locale: str) -> str:
    from flask_babel import force_locale

    with force_locale(locale):
        return format_date(value, "long")


# --- lists and counts ---------------------------------------------------------------------------


def _short_of_minimum():
    counted = (
        select(func.count(Assignment.id))
        .where(Assignment.project_id == Project.id, Assignment.status.in_(COUNTED))
        .correlate(Project)
        .scalar_subquery()
    )
    return counted < Call.min_evaluators


def _late():
    return exists().where(
        Assignment.project_id == Project.id, Assignment.status.in_(OPEN), Assignment.due_on < utcnow().date()
    )


def in_review_query(call_id: int | None = None, need: str | None = None):
    """Projects under review, filtered by call and by what they need (evaluators, late evaluations)."""
    query = (
        select(Project).join(Call, Project.call_id == Call.id)
        .where(Project.status == ProjectStatus.IN_REVIEW)
        .options(joinedload(Project.association), joinedload(Project.call))
    )
    if call_id:
        query = query.where(Project.call_id == call_id)
    if need == "assign":
        query = query.where(_short_of_minimum())
    elif need == "late":
        query = query.where(_late())
    return query.order_by(Project.submitted_at, Project.id)


def count_to_assign() -> int:
    return db.session.scalar(
        select(func.count(Project.id)).join(Call, Project.call_id == Call.id)
        .where(Project.status == ProjectStatus.IN_REVIEW, _short_of_minimum())
    ) or 0


def count_late() -> int:
    """Evaluations not in by their due date (assignments still open)."""
    return db.session.scalar(
        select(func.count(Assignment.id)).where(Assignment.status.in_(OPEN), Assignment.due_on < utcnow().date())
    ) or 0


def assignments_of(project_ids: list[int]) -> dict[int, list[Assignment]]:
    """Every assignment of each project with its evaluator and structure (lists and the review page)."""
    result: dict[int, list[Assignment]] = {pid: [] for pid in project_ids}
    if project_ids:
        rows = db.session.scalars(
            select(Assignment).where(Assignment.project_id.in_(project_ids))
            .options(joinedload(Assignment.evaluator).joinedload(User.partner_structure),
                     joinedload(Assignment.evaluation).selectinload(Evaluation.scores))
            .order_by(Assignment.assigned_at, Assignment.id)
        ).unique()
        for assignment in rows:
            result[assignment.project_id].append(assignment)
    return result


def evaluators_of(project_ids: list[int]) -> dict[int, list[Any]]:
    """Each project's evaluators as the list of projects under review shows them, in one query: plain rows
    (``evaluator_name``, ``status``, ``due_on``), withdrawn assignments left out, oldest first.

    Not :func:`assignments_of`: the list needs neither the evaluations, their scores nor the structures
    (three statements more, and a page of objects to build)."""
    result: dict[int, list[Any]] = {pid: [] for pid in project_ids}
    if project_ids:
        rows = db.session.execute(
            select(Assignment.project_id, User.name.label("evaluator_name"), Assignment.status, Assignment.due_on)
            .join(User, User.id == Assignment.evaluator_id)
            .where(Assignment.project_id.in_(project_ids), Assignment.status != A.WITHDRAWN)
            .order_by(Assignment.assigned_at, Assignment.id)
        )
        for row in rows:
            result[row.project_id].append(row)
    return result


def evaluator_assignments_query(user: User, show: str | None = None):
    """The evaluator's own assignments, open ones first, soonest due first (withdrawn ones left out)."""
    query = (
        select(Assignment)
        .where(Assignment.evaluator_id == user.id, Assignment.status != A.WITHDRAWN)
        .options(joinedload(Assignment.project).joinedload(Project.call))
    )
    if show == "open":
        query = query.where(Assignment.status.in_(OPEN))
    elif show == "done":
        query = query.where(Assignment.status.not_in(OPEN))
    open_first = case((Assignment.status.in_(OPEN), 0), else_=1)
    return query.order_by(open_first, Assignment.due_on.asc().nulls_last(), Assignment.id)
