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


# Routes register on import, by question: the award (approval, letters, verification); the counterpart
# ledger; the tranches and their payments; the reports. The workflows add approved → funded.
from codev.grants import next_steps, workflows  # noqa: E402,F401
from codev.grants.award import views  # noqa: E402,F401
from codev.grants.disbursements import views as disbursement_views  # noqa: E402,F401
from codev.grants.ledger import views as ledger_views  # noqa: E402,F401
from codev.grants.life import cancellation_views  # noqa: E402,F401
from codev.grants.life import views as life_views  # noqa: E402,F401
from codev.grants.reports import views as report_views  # noqa: E402,F401
