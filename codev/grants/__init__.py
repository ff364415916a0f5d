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
    from codev.grants.models import LetterStatus

    def condition_label(code: str) -> str:
        try:
            return TrancheCondition(code).label
        except ValueError:
            return code

    def letter_status(code: str) -> str:
        return LetterStatus(code).label

    return {"condition_label": condition_label,
            "letter_status": letter_status}


# Routes register on import: approval, letters and verification; then the money (counterpart ledger,
# tranches and disbursements, reports, lapse), whose home cards register too.
# The workflow module adds approved → funded to the project workflow.
from codev.grants import (  # noqa: E402,F401
    disbursement_views,
    money_views,
    report_views,
    views,
    workflow,
)
