"""The association's application: guided form, budget, financing plan, attachments, submission."""

from flask import Blueprint

bp = Blueprint("projects", __name__, url_prefix="/projects")


@bp.context_processor
def _helpers() -> dict:
    """Money, shares and labels for the projects' own pages."""
    from codev.projects.reading import event_label, label_of, rule_name

    return {"label_of": label_of,
            "event_label": event_label, "rule_name": rule_name}


# The project's table registers with the engine on import, and so do the routes and what a merge of
# duplicate associations checks and moves of projects. The calls' list shows
# how many projects each call has received: the projects count them.
from codev.calls.services import count_projects_with  # noqa: E402
from codev.projects import duplicates, views, views_assisted, views_steps, workflow  # noqa: E402,F401
from codev.projects.reading import projects_per_call  # noqa: E402

count_projects_with(projects_per_call)
