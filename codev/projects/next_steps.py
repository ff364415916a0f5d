"""What comes next for a project, and who acts: one table for every status, read by the project page,
the review page and the lists, for the ministry and (in its own terms) for the association.

The words are here, one row per status; the facts and the links of the later steps are theirs: the
reviews (evaluations in, the committee's open session) and the grants (the grant's page, its sign-off)
register a *provider* for the statuses they own, and a *loader* that reads their facts for a whole list
of projects in one query, so a list does not read them row by row. A provider returns the step in the
reader's terms with the link to the reader's own next action, or None to keep the table's words.

Which statuses end a file is the workflow's to say: a status no transition leaves (``PROJECT``) has
nothing next and nobody acting; tests/test_next_steps.py holds the table to the workflow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from codev.accounts.models import Role
from codev.core.i18n import lazy_gettext as _l
from codev.projects.models import Project, ProjectStatus
from codev.projects.workflow import PROJECT

S = ProjectStatus

# Who acts, in words.
WHO = {
    "association": _l("The association"),
    "officer": _l("The programme officer"),
    "approver": _l("The approver"),
    "ministry": _l("The ministry"),
    "evaluators": _l("The evaluators, then the programme officer"),
    "committee": _l("The selection committee, convened by the programme officer"),
    "money": _l("The association and the ministry"),
    "nobody": _l("Nobody: the file stops here"),
    # the association's own terms
    "you": _l("You"),
    "you_and_ministry": _l("You and the ministry"),
    "partners": _l("Partner structures"),
    "the_committee": _l("The selection committee"),
}
# The roles that act in each of the ministry's answers (a reader of one of them acts: "yours").
ACTING_ROLES = {
    "association": set(), "officer": {Role.OFFICER}, "approver": {Role.APPROVER},
    "ministry": {Role.OFFICER, Role.APPROVER}, "evaluators": {Role.OFFICER},
    "committee": {Role.OFFICER, Role.APPROVER}, "money": {Role.OFFICER, Role.APPROVER}, "nobody": set(),
}


@dataclass(frozen=True)
class Row:
    """One status: what comes next for the ministry and for the association, and who acts for each."""

    ministry: object  # lazy string; may name the call: %(call)s
    member: object | None  # None: the application form's own next step (codev.projects.reading.next_step)
    who: str  # a key of WHO (the ministry's reading)
    member_who: str  # a key of WHO (the association's)


TABLE: dict[ProjectStatus, Row] = {
    S.DRAFT: Row(_l("The association is writing its application: nothing to do until it submits it."),
                 None, "association", "you"),
    S.RETURNED: Row(_l("Returned for changes: it waits for the association to make them and submit it again."),
                    None, "association", "you"),
    S.SUBMITTED: Row(_l("Submitted: it waits for its screening (eligible, ineligible or returned for changes)."),
                     _l("The ministry is examining the application. You will receive an email at each step."),
                     "officer", "ministry"),
    S.IN_REVIEW: Row(_l("Eligible: partner structures evaluate it; once the evaluations are in, their result "
                        "qualifies it or not."),
                     _l("Your project is eligible: partner structures are evaluating it. You will be told of "
                        "the result."),
                     "evaluators", "partners"),
    S.QUALIFIED: Row(_l("Qualified: it now waits for a committee session of %(call)s."),
                     _l("Your project is qualified: it waits for the decision of the selection committee."),
                     "committee", "the_committee"),
    S.DEFERRED: Row(_l("Deferred: it comes back before a later committee session of %(call)s, or is funded "
                       "from the reserve list when money returns to the envelope."),
                    _l("The committee deferred its decision: your project will come back before a later "
                       "session."),
                    "committee", "the_committee"),
    S.APPROVED: Row(_l("Approved by the committee: it waits for the approver to sign off the grant, which "
                       "issues the award letter."),
                    _l("The committee approved your project: the ministry is signing off the grant, then you "
                       "will receive the award letter."),
                    "approver", "ministry"),
    S.FUNDED: Row(_l("Funded: the association declares its contribution and the ministry verifies it, pays "
                     "the tranches and reads the reports."),
                  _l("Your grant is awarded: declare your contribution and file your reports; the ministry "
                     "pays the tranches as they fall due."),
                  "money", "you_and_ministry"),
    S.COMPLETED: Row(_l("Completed: the final report is accepted and the tranches paid; the file can be closed."),
                     _l("Your project is completed: the ministry will close its file."),
                     "ministry", "ministry"),
    S.LAPSED: Row(_l("The grant lapsed or was cancelled; what it did not pay returned to the envelope. The "
                     "file can be closed."),
                  _l("The grant lapsed or was cancelled: the ministry will close the file."),
                  "ministry", "ministry"),
    S.INELIGIBLE: Row(_l("Declared ineligible at screening: nothing comes next."),
                      _l("Your project was declared ineligible; the reason is in its history below."),
                      "nobody", "nobody"),
    S.NOT_QUALIFIED: Row(_l("Not qualified by its evaluations: nothing comes next."),
                         _l("Your project was not qualified by its evaluations: nothing comes next."),
                         "nobody", "nobody"),
    S.REJECTED: Row(_l("Rejected by the committee: nothing comes next."),
                    _l("The committee did not retain your project; its reasons are on this page."),
                    "nobody", "nobody"),
    S.CLOSED: Row(_l("The file is closed: nothing comes next."),
                  _l("Your project's file is closed: nothing comes next."),
                  "nobody", "nobody"),
    S.WITHDRAWN: Row(_l("Withdrawn by the association: nothing comes next."),
                     _l("This project was withdrawn."),
                     "nobody", "nobody"),
}


@dataclass(frozen=True)
class NextStep:
    """What comes next, in words; who acts; the reader's own next action as a link, when it is theirs."""

    says: str
    who: str
    yours: bool = False  # the reader is among those who act
    link_label: str | None = None
    link_url: str | None = None


Facts = dict[str, dict]
# (project, reader, the reader is a member of its association, the facts of the page) → the step, or None
Provider = Callable[[Project, Any, bool, Facts], NextStep | None]
PROVIDERS: dict[ProjectStatus, Provider] = {}
# name → (the statuses it serves, a function reading the facts of many projects in one query)
LOADERS: dict[str, tuple[frozenset[ProjectStatus], Callable[[list[Project]], dict]]] = {}


def provider(*statuses: ProjectStatus) -> Callable[[Provider], Provider]:
    """Register the function that gives the step (and its link) of ``statuses``."""

    def register(fn: Provider) -> Provider:
        for status in statuses:
            PROVIDERS[status] = fn
        return fn

    return register


def loader(name: str, *statuses: ProjectStatus) -> Callable:
    """Register the function reading the fact ``name`` of the listed projects in ``statuses``."""

    def register(fn: Callable[[list[Project]], dict]) -> Callable[[list[Project]], dict]:
        LOADERS[name] = (frozenset(statuses), fn)
        return fn

    return register


def is_terminal(status: str) -> bool:
    """No transition of the workflow leaves ``status``."""
    return not any(status in t.sources for t in PROJECT.transitions)


def who_acts(row: Row, reader: Any, member: bool) -> tuple[str, bool]:
    """Who acts, in the reader's terms, and whether the reader is among them."""
    if member:
        return str(WHO[row.member_who]), row.member_who in ("you", "you_and_ministry")
    yours = reader.role in ACTING_ROLES[row.who]
    return str(WHO["you"] if yours and row.who in ("officer", "approver") else WHO[row.who]), yours


def table_step(project: Project, reader: Any, member: bool) -> NextStep:
    """The table's words for the project's status, in the reader's terms (no link)."""
    from codev.core.templating import localized

    row = TABLE[ProjectStatus(project.status)]
    who, yours = who_acts(row, reader, member)
    if member and row.member is None:
        from codev.projects.reading import next_step as application_step

        return NextStep(application_step(project), who, yours)
    words = str(row.member if member else row.ministry)
    if "%(call)s" in words:
        words = words % {"call": localized(project.call, "title")}
    return NextStep(words, who, yours)


def member_words(project: Project) -> str | None:
    """What comes next in the association's terms, when its application is no longer being written."""
    row = TABLE.get(ProjectStatus(project.status))
    return None if row is None or row.member is None else str(row.member)


def load_facts(projects: Iterable[Project], every: bool = False) -> Facts:
    """Every registered fact of ``projects``, one query per fact at most. A list reads ``every`` fact, one
    query each, whichever statuses its page holds (so its count of statements does not depend on them);
    a single project only those its status needs."""
    projects = list(projects)
    facts: Facts = {}
    for name, (statuses, read) in LOADERS.items():
        concerned = [p for p in projects if p.status in statuses]
        facts[name] = read(concerned) if concerned or (every and projects) else {}
    return facts


def next_step(project: Project, reader: Any, facts: Facts | None = None) -> NextStep | None:
    """What comes next for ``project`` as ``reader`` reads it; None for those who only evaluate it."""
    from codev.projects.services import is_member

    member = is_member(reader, project)
    if not member and not getattr(reader, "is_ministry", False):
        return None
    facts = load_facts([project]) if facts is None else facts
    fn = PROVIDERS.get(ProjectStatus(project.status))
    step = fn(project, reader, member, facts) if fn else None
    return step or table_step(project, reader, member)


def next_steps(projects: Iterable[Project], reader: Any) -> dict[int, NextStep | None]:
    """The next step of each project of a list, its facts read once for the whole list."""
    projects = list(projects)
    facts = load_facts(projects, every=True)
    return {project.id: next_step(project, reader, facts) for project in projects}


def with_link(step: NextStep, label: str, url: str) -> NextStep:
    """``step`` with the reader's next action as a link."""
    return NextStep(step.says, step.who, True, label, url)
