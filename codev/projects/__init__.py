"""The association's application: guided form, budget, financing plan, attachments, submission."""

from flask import Blueprint

bp = Blueprint("projects", __name__, url_prefix="/projects")


@bp.context_processor
def _helpers() -> dict:
    """Money, shares and labels for the projects' own pages."""
    from codev.projects.reading import event_label, label_of, rule_name

    return {"label_of": label_of,
            "event_label": event_label, "rule_name": rule_name}


from codev.projects import views, views_steps  # noqa: E402,F401  (routes register on import)
