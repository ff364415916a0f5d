"""Screening, assignments, evaluations, qualification, ranking and committee decisions."""

from importlib import import_module
from pkgutil import iter_modules

from flask import Blueprint

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


@bp.context_processor
def _helpers() -> dict:
    """Money, shares, labels and scores for the reviews' pages (the project's parts are the projects' own)."""
    from codev.projects.reading import event_label, label_of, rule_name
    from codev.reviews.views_common import template_helpers

    return {"label_of": label_of,
            "event_label": event_label, "rule_name": rule_name, **template_helpers()}


# The workflow rows and the routes register on import.
from codev.reviews import views_evaluator, views_officer, workflow  # noqa: E402,F401

# The committee's modules (codev/reviews/committee*.py) register their routes on import too.
for _module in iter_modules(__path__):
    if _module.name.startswith("committee"):
        import_module(f"{__name__}.{_module.name}")
