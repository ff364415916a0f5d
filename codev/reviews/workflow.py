"""The reviews' rules on the project table's rows (the rows themselves are in ``codev.projects.workflow``).

``in_review → qualified`` / ``not_qualified`` are fired by the consolidation once enough evaluations
are in; the checks attached here refuse them unless the consolidated result says so, so nobody can fire
them by hand without the result.
"""

from __future__ import annotations

from codev.core.i18n import gettext as _
from codev.core.i18n import ngettext
from codev.projects.models import Project
from codev.projects.workflow import PROJECT
from codev.reviews.scoring import project_result


def _result_says(project: Project, qualified: bool) -> list[str]:
    result = project_result(project)
    if result.qualified is None:
        return [ngettext("The project has %(num)d submitted evaluation; the call asks for %(min)s.",
                         "The project has %(num)d submitted evaluations; the call asks for %(min)s.",
                         result.evaluations_count, min=project.call.min_evaluators)]
    if result.qualified is not qualified:
        return [_("The consolidated result of the evaluations says otherwise.")]
    return []


def result_qualifies(project: Project) -> list[str]:
    return _result_says(project, True)


def result_does_not_qualify(project: Project) -> list[str]:
    return _result_says(project, False)


def attach_rules() -> None:
    """Attach the reviews' checks to their rows of the project table (called once, by ``codev.reviews``)."""
    PROJECT.attach("qualified", checks=(result_qualifies,))
    PROJECT.attach("not_qualified", checks=(result_does_not_qualify,))
