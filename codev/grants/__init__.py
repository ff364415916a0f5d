"""Matching grants: approval, award letters, counterpart ledger, tranches and disbursements, reports.

Routes live at ``/grants/…`` and, for the public verification of a letter, ``/verify/<reference>``;
the blueprint has no URL prefix so both sit here.
"""

from flask import Blueprint

bp = Blueprint("grants", __name__)


@bp.context_processor
def _helpers() -> dict:
    """Money, shares and labels for the grants' pages."""
    from codev.calls.models import TrancheCondition
    from codev.core.money import format_bps, format_xof
    from codev.grants.models import LetterStatus

    def condition_label(code: str) -> str:
        try:
            return TrancheCondition(code).label
        except ValueError:
            return code

    def letter_status(code: str) -> str:
        return LetterStatus(code).label

    return {"xof": format_xof, "pct": format_bps, "condition_label": condition_label,
            "letter_status": letter_status}


from codev.grants import workflow  # noqa: E402,F401  (approved → funded joins the project workflow)

# Routes register on import. Each views module is optional while the package is being built by
# several people at once: a missing module leaves its routes out, nothing else.
try:
    from codev.grants import views  # noqa: E402,F401
except ImportError as error:  # pragma: no cover - only while a module does not exist yet
    if error.name != "codev.grants.views":
        raise

# The money: counterpart ledger, tranches and disbursements, reports, lapse (home cards register too).
from codev.grants import money_views, report_views  # noqa: E402,F401
