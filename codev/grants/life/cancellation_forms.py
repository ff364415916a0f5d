"""Forms of the end of a grant's life: its cancellation (an approver, with the reason) and the closing of
its project's file (an officer or an approver, with an optional message)."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import Optional

from codev.core.forms import BaseForm, max_length, no_control_characters, required
from codev.core.i18n import lazy_gettext as _l

REASON_MAX = 2000


class CancelForm(BaseForm):
    reason = TextAreaField(
        _l("Why the grant is cancelled"),
        validators=[required(), max_length(REASON_MAX), no_control_characters],
        description=_l("For example: the association has abandoned the project. The association reads it, and "
                       "so does anyone who checks the letter on its public verification page."))


class CloseProjectForm(BaseForm):
    message = TextAreaField(
        _l("Message (optional)"), validators=[Optional(), max_length(REASON_MAX), no_control_characters],
        description=_l("Kept in the project's history, which the association reads."))
