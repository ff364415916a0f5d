"""The reviews' rows of the project workflow: screening outcomes and qualification.

- ``submitted → in_review``: the officer screened the project eligible (the checklist is kept in a
  :class:`~codev.reviews.models.Screening` row by :func:`codev.reviews.screening.screen_project`).
- ``submitted → ineligible``: the officer screened it ineligible; the reasons are required.
- ``in_review → qualified`` / ``not_qualified``: fired by the consolidation once enough evaluations
  are in; the check refuses them unless the consolidated result says so, so nobody can fire them by
  hand without the result. (``submitted → returned`` is the projects' own row.)
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from codev.accounts.models import Role
from codev.projects.models import Project, ProjectStatus
from codev.projects.workflow import MESSAGE_REQUIRED, Transition, register

S = ProjectStatus
OFFICER = frozenset({Role.OFFICER})


def _result_says(project: Project, qualified: bool) -> list[str]:
    from codev.reviews.scoring import project_result

    result = project_result(project)
    if result.qualified is None:
        return [_("The project has %(n)s submitted evaluation(s); the call asks for %(min)s.",
                  n=result.evaluations_count, min=project.call.min_evaluators)]
    if result.qualified is not qualified:
        return [_("The consolidated result of the evaluations says otherwise.")]
    return []


def result_qualifies(project: Project) -> list[str]:
    return _result_says(project, True)


def result_does_not_qualify(project: Project) -> list[str]:
    return _result_says(project, False)


ELIGIBLE = Transition(
    "screened_eligible", frozenset({S.SUBMITTED}), S.IN_REVIEW, OFFICER, _l("Declare eligible"),
)
INELIGIBLE = Transition(
    "screened_ineligible", frozenset({S.SUBMITTED}), S.INELIGIBLE, OFFICER, _l("Declare ineligible"),
    message=MESSAGE_REQUIRED,
)
QUALIFIED = Transition(
    "qualified", frozenset({S.IN_REVIEW}), S.QUALIFIED, OFFICER, _l("Qualify"),
    _l("The project cannot be qualified:"), checks=(result_qualifies,),
)
NOT_QUALIFIED = Transition(
    "not_qualified", frozenset({S.IN_REVIEW}), S.NOT_QUALIFIED, OFFICER, _l("Do not qualify"),
    _l("The project cannot be declared not qualified:"), checks=(result_does_not_qualify,),
)

register(ELIGIBLE, INELIGIBLE, QUALIFIED, NOT_QUALIFIED)
