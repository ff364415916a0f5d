"""What the confirm step (:mod:`codev.core.confirm`) says before each irreversible action of the reviews.

Closing a committee session, the committee's approval or rejection of a project, a project declared
ineligible at screening, an assignment withdrawn from an evaluator, an evaluator's recusal.
"""

from __future__ import annotations

from flask import url_for
from flask_babel import format_date

from codev.core.confirm import Confirmation
from codev.core.i18n import gettext as _
from codev.core.i18n import ngettext
from codev.core.money import format_xof
from codev.core.templating import localized
from codev.projects.models import Project
from codev.reviews.models import Assignment, CommitteeSession, DecisionOutcome


def _project_facts(project: Project) -> list[tuple[str, str]]:
    return [(_("Project"), " · ".join(x for x in (project.reference, project.title) if x)),
            (_("Association"), project.association.display_name)]


def close_session(session: CommitteeSession, decided: int, ranked: int, remaining: int,
                  minutes: str | None) -> Confirmation:
    """Closing a session: its decisions and minutes final, its ranking frozen."""
    return Confirmation(
        title=_("Close the committee session of %(date)s for “%(call)s”", date=format_date(session.held_on, "long"),
                call=localized(session.call, "title")),
        facts=[(_("Decisions recorded"), ngettext("%(num)d decision", "%(num)d decisions", decided)),
               (_("Projects ranked"), ngettext("%(num)d project", "%(num)d projects", ranked)),
               (_("Envelope not yet committed"), format_xof(remaining)),
               (_("Minutes"), minutes or _("No minutes written."))],
        consequences=[_("The ranking is frozen as it stands: it becomes the call's reserve list."),
                      _("The minutes are saved as they are, for the PDF of the minutes.")],
        cannot_undo=_("A closed session is final: no decision can be added or changed, and the minutes cannot be "
                      "edited any more."),
        button=_("Yes, close the session"),
        back=url_for("reviews.committee.session", session_id=session.id, _anchor="minutes-title"))


def decide(session: CommitteeSession, project: Project, outcome: DecisionOutcome, amount: int | None,
           reason: str, conditions: str | None) -> Confirmation:
    """The committee's approval or rejection of a project (a deferral can be decided again)."""
    approving = outcome in (DecisionOutcome.APPROVED, DecisionOutcome.CONDITIONALLY_APPROVED)
    if approving:
        title = _("Approve “%(project)s” of %(association)s for a grant of %(amount)s", project=project.title,
                  association=project.association.display_name, amount=format_xof(amount))
        undo = _("An approval stays recorded: the project goes on to the approval of its grant and the decision "
                 "cannot be changed.")
        button = _("Yes, approve the project")
    else:
        title = _("Reject “%(project)s” of %(association)s", project=project.title,
                  association=project.association.display_name)
        undo = _("A rejection is final: the project cannot come before a committee again.")
        button = _("Yes, reject the project")
    return Confirmation(
        title=title,
        facts=[*_project_facts(project), (_("Decision"), outcome.label),
               (_("Amount proposed"), format_xof(amount) if approving and amount else ""),
               (_("Reasons"), reason), (_("Conditions"), conditions or "")],
        consequences=[_("The association is told by email, with the reasons.")],
        cannot_undo=undo, button=button, danger=not approving,
        back=url_for("reviews.committee.decide", session_id=session.id, project_id=project.id))


def ineligible(project: Project, message: str) -> Confirmation:
    """A project declared ineligible at screening."""
    return Confirmation(
        title=_("Declare “%(project)s” of %(association)s ineligible", project=project.title,
                association=project.association.display_name),
        facts=[*_project_facts(project), (_("Reasons of the ineligibility"), message)],
        consequences=[_("The association is told by email, with the reasons.")],
        cannot_undo=_("An ineligible project is final: it cannot be evaluated, returned or submitted again."),
        button=_("Yes, declare it ineligible"), back=url_for("reviews.screen", project_id=project.id))


def withdraw_assignment(assignment: Assignment, evaluator_name: str) -> Confirmation:
    """An assignment taken back from an evaluator."""
    project = assignment.project
    return Confirmation(
        title=_("Withdraw “%(project)s” from %(name)s", project=project.title, name=evaluator_name),
        facts=[*_project_facts(project), (_("Evaluator"), evaluator_name)],
        consequences=[_("The evaluator no longer sees the project; assign another one if needed.")],
        cannot_undo=_("A withdrawn assignment cannot be reopened, and the evaluator's draft in it goes with it."),
        button=_("Yes, withdraw the assignment"), back=url_for("reviews.project", project_id=project.id))


def recuse(assignment: Assignment, note: str | None) -> Confirmation:
    """An evaluator declares a conflict of interest."""
    project = assignment.project
    return Confirmation(
        title=_("Declare a conflict of interest with “%(project)s”", project=project.title),
        facts=[(_("Project"), " · ".join(x for x in (project.reference, project.title) if x)),
               (_("Note"), note or "")],
        consequences=[_("The project is withdrawn from you and the programme officers are told.")],
        cannot_undo=_("A declaration of a conflict of interest is final: you will not have access to this project "
                      "again."),
        button=_("Yes, I have a conflict of interest"),
        back=url_for("reviews.evaluate", assignment_id=assignment.id))
