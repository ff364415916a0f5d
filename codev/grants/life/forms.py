"""Forms of a grant's later life: its amendments, and the committee's decision from the reserve list."""

from __future__ import annotations

from wtforms import DateField, TextAreaField
from wtforms.validators import InputRequired

from codev.calls.forms import XofField
from codev.core.forms import BaseForm, max_length, no_control_characters, required
from codev.core.i18n import lazy_gettext as _l

REASON_MAX = 2000


def _reason(label):
    return TextAreaField(label, validators=[required(), max_length(REASON_MAX), no_control_characters],
                         description=_l("The new award letter states it, and the association reads it in its email."))


class DeadlineForm(BaseForm):
    """Extend the contribution deadline."""

    deadline = DateField(_l("New contribution deadline"), validators=[InputRequired(message=_l("Enter a date."))],
                         description=_l("Later than the present deadline."))
    reason = _reason(_l("Reason for the extension"))


class AmountForm(BaseForm):
    """Reduce or increase the grant."""

    amount = XofField(_l("New amount of the grant (F CFA)"), validators=[required()])
    reason = _reason(_l("Reason for the amendment"))


class ReserveDecisionForm(BaseForm):
    """The committee's decision to approve the project the reserve list offers."""

    message = TextAreaField(_l("Reasons of the decision"),
                            validators=[required(), max_length(REASON_MAX), no_control_characters],
                            description=_l("The association reads them; the project's history keeps them."))
