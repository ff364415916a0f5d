"""Calls for projects: dates, envelope, funding rules, evaluation grid, tranche plan, exchange rates."""

from flask import Blueprint

bp = Blueprint("calls", __name__, url_prefix="/calls")


def _label(enum, value: str) -> str:
    try:
        return enum(value).label
    except ValueError:
        return value


@bp.context_processor
def _helpers() -> dict:
    """Money, shares and enum labels for the calls' own pages."""
    from codev.calls.models import AttachmentKind, TrancheCondition
    from codev.core.money import format_rate

    return {
        "rate_text": format_rate,  # as the reader writes it: "655,957" in French
        "kind_label": lambda value: _label(AttachmentKind, value),
        "condition_label": lambda value: _label(TrancheCondition, value),
    }


# The call's table registers with the engine on import, and so do the routes.
from codev.calls import views, workflow  # noqa: E402,F401
