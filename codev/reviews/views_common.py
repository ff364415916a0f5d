"""What the reviews' pages share: roles, the signed-in user, pages of lists, scores in words."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal
from flask_login import current_user
from sqlalchemy import select

from codev.accounts.models import MINISTRY_ROLES
from codev.calls.models import Call
from codev.core.i18n import locale_name
from codev.core.params import paginate
from codev.core.templating import localized
from codev.extensions import db

MINISTRY = tuple(sorted(MINISTRY_ROLES))  # officer, approver, admin


def user():
    return current_user._get_current_object()


def page_of(query):
    return paginate(query)


def call_choices(all_label: str) -> list[tuple[str, str]]:
    calls = db.session.execute(select(Call.id, Call.title, Call.title_en).order_by(Call.id.desc())).all()
    return [("", all_label)] + [(str(c.id), localized(c, "title")) for c in calls]


def score_text(centi: int | None) -> str:
    """Hundredths of a point as the reader writes them: 7350 → "73,50" (fr) / "73.50" (en)."""
    if centi is None:
        return "—"
    return format_decimal(Decimal(centi) / 100, format="0.00", locale=locale_name())


def points_text(numerator: int, denominator: int) -> str:
    """A mean score on a criterion's own scale, to two decimals, half-up (integers only)."""
    from codev.reviews.scoring import div_half_up

    return score_text(div_half_up(numerator * 100, denominator)) if denominator else "—"


def criterion_label(call, code: str | None) -> str:
    """The label of the criterion ``code`` of ``call`` in the reader's language."""
    locale = locale_name()
    return next((c.label(locale) for c in call.criteria if c.code == code), code or "")


def recommendation_label(value: str | None) -> str:
    from codev.reviews.models import RECOMMENDATION_LABELS

    return next((str(label) for key, label in RECOMMENDATION_LABELS.items() if key.value == value), "")


def assignment_label(value: str | None) -> str:
    from codev.reviews.models import ASSIGNMENT_STATUS_LABELS

    return next((str(label) for key, label in ASSIGNMENT_STATUS_LABELS.items() if key.value == value), value or "")


def outcome_label(value: str | None) -> str:
    from codev.reviews.screening import SCREENING_OUTCOME_LABELS

    return next((str(label) for key, label in SCREENING_OUTCOME_LABELS.items() if key.value == value), value or "")


def template_helpers() -> dict:
    from codev.reviews.screening import item_label

    return {"score": score_text, "criterion_label": criterion_label, "recommendation_label": recommendation_label,
            "assignment_label": assignment_label, "outcome_label": outcome_label, "item_label": item_label}
