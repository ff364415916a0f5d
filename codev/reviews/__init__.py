"""Screening, assignments, evaluations, qualification, ranking and committee decisions."""

from flask import Blueprint

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


@bp.context_processor
def _helpers() -> dict:
    """Money, shares, labels and scores for the reviews' pages (the project's parts are the projects' own)."""
    from codev.projects.reading import event_label, label_of, rule_name
    from codev.reviews.views_common import template_helpers

    return {"label_of": label_of,
            "event_label": event_label, "rule_name": rule_name, **template_helpers()}


# The reviews' tables (assignments, committee sessions) register with the engine on import; the routes
# register on import, each module named: screening and assignments (the officer), scoring (the
# evaluator), the committee's sessions and decisions; next_steps tells the projects what comes next for a
# project under review or before the committee.
from codev.reviews import (  # noqa: E402,F401
    committee_views,
    next_steps,
    views_evaluator,
    views_officer,
    workflow,
    workflows,
)

workflow.attach_rules()

# An evaluator sees a project through an accepted or submitted assignment: the reviews tell the projects.
from codev.projects.services import allow_evaluators  # noqa: E402
from codev.reviews.assignments import evaluator_may_view  # noqa: E402

allow_evaluators(evaluator_may_view)
