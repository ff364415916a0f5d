"""Duplicates, as far as projects go: what a merge of two associations does with their projects, and the
projects of a call that look like the same one (same commune and sector, a similar title), flagged at
screening.

Registered with :mod:`codev.accounts.duplicates` (a lower step, which cannot read projects): a duplicate
holding money (a project approved or funded, or later) is never merged, nor one whose applications are
still being examined; its draft projects move to the association kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from codev.accounts.duplicates import STOP_WORDS, merge_check, merge_preview, merge_step, similarity, words
from codev.accounts.models import Association, User
from codev.core.i18n import gettext as _
from codev.core.i18n import ngettext
from codev.extensions import db
from codev.projects.models import Project, ProjectStatus

S = ProjectStatus
WITH_MONEY = frozenset({S.APPROVED, S.FUNDED, S.COMPLETED, S.CLOSED, S.LAPSED})
UNDER_WAY = frozenset({S.SUBMITTED, S.RETURNED, S.IN_REVIEW, S.QUALIFIED, S.DEFERRED})
SIMILAR_TITLE = 0.8
SIMILAR_MAX = 50  # projects of the same call, commune and sector read at most


def _by_status(association_id: int) -> dict[str, int]:
    rows = db.session.execute(select(Project.status, func.count(Project.id))
                              .where(Project.association_id == association_id).group_by(Project.status))
    return {str(status): count for status, count in rows}


@merge_check
def no_money_nor_applications_under_way(duplicate: Association, kept: Association) -> str | None:
    """A duplicate with a grant keeps it (money never moves by a merge); one with applications being
    examined waits for their decision or their withdrawal."""
    counts = _by_status(duplicate.id)
    money = sum(n for status, n in counts.items() if status in WITH_MONEY)
    if money:
        return ngettext("%(name)s has %(num)d project approved or funded: an association holding money is "
                        "never merged. Merge the other association into it instead, if it is the duplicate.",
                        "%(name)s has %(num)d projects approved or funded: an association holding money is "
                        "never merged. Merge the other association into it instead, if it is the duplicate.",
                        money, name=duplicate.display_name)
    under_way = sum(n for status, n in counts.items() if status in UNDER_WAY)
    if under_way:
        return ngettext("%(name)s has %(num)d application being examined: decide it, or let the association "
                        "withdraw it, before the merge.",
                        "%(name)s has %(num)d applications being examined: decide them, or let the association "
                        "withdraw them, before the merge.", under_way, name=duplicate.display_name)
    return None


@merge_step
def move_drafts(duplicate: Association, kept: Association, officer: User) -> dict[str, Any]:
    """The duplicate's draft projects now belong to the association kept (their version bumped, so a page
    open on one of them is refused as stale)."""
    ids = list(db.session.scalars(select(Project.id).where(Project.association_id == duplicate.id,
                                                           Project.status == S.DRAFT).order_by(Project.id)))
    if ids:
        db.session.execute(update(Project).where(Project.id.in_(ids))
                           .values(association_id=kept.id, version=Project.version + 1)
                           .execution_options(synchronize_session=False))
    return {"draft_projects": ids}


@merge_preview
def drafts_to_move(duplicate: Association) -> list[tuple[str, str]]:
    """What a merge would move of the duplicate's projects (for the confirm step)."""
    return [(_("Draft projects moved"), str(_by_status(duplicate.id).get(S.DRAFT, 0)))]


# --- similar projects of a call -----------------------------------------------------------------------


def title_key(title: str | None) -> str:
    """A title's words without accents, case, punctuation, articles and prepositions, in their order."""
    return " ".join(w for w in words(title) if w not in STOP_WORDS)


@dataclass(frozen=True)
class SimilarProject:
    id: int
    reference: str | None
    title: str
    status: str
    association: str
    same_association: bool
    ratio: float


def similar_projects(project: Project) -> list[SimilarProject]:
    """Other projects of the call, past their draft, with the same commune and sector and a similar title
    (normalised titles alike by :data:`SIMILAR_TITLE` or more, or the same words): one bounded query."""
    if not project.commune or not project.sector:
        return []
    rows = db.session.execute(
        select(Project.id, Project.reference, Project.title, Project.status, Project.association_id,
               Association.name, Association.acronym)
        .join(Association, Association.id == Project.association_id)
        .where(Project.call_id == project.call_id, Project.commune == project.commune,
               Project.sector == project.sector, Project.id != project.id, Project.status != S.DRAFT)
        .order_by(Project.id).limit(SIMILAR_MAX)
    ).all()
    mine = title_key(project.title)
    found = []
    for row in rows:
        theirs = title_key(row.title)
        ratio = similarity(mine, theirs)
        if ratio >= SIMILAR_TITLE or sorted(mine.split()) == sorted(theirs.split()):
            name = f"{row.name} ({row.acronym})" if row.acronym else row.name
            found.append(SimilarProject(row.id, row.reference, row.title, str(row.status), name,
                                        row.association_id == project.association_id, ratio))
    found.sort(key=lambda p: (-p.ratio, p.id))
    return found


def similar_label(project: SimilarProject) -> str:
    """Why a project is shown beside another, in words."""
    if project.same_association:
        return _("same association, same commune and sector, similar title")
    return _("same commune and sector, similar title")
