"""Forms of the grants' approval, letters and public verification, and the filters of the list.

:func:`refusals_beside` places a refusal of a grants service on the field of a page that shows it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from codev.calls.forms import XofField
from codev.core.forms import BaseForm, max_length, no_control_characters, required
from codev.core.i18n import lazy_gettext as _l
from codev.core.unit_of_work import DomainError
from codev.grants.models import GRANT_STATUS_LABELS

REASON_MAX = 2000


@contextmanager
def refusals_beside(default: str | None, shown: Collection[str] = (), above: Collection[str] = ()) -> Iterator[Any]:
    """Inside a unit of work, put a refusal where the page shows it: beside its field when the page shows that
    field (``shown``), above the form for the fields listed in ``above`` (hidden ones, lists), else beside
    ``default`` (``None``: above the form)."""
    try:
        yield
    except DomainError as error:
        error.field = None if error.field in above else error.field if error.field in shown else default
        raise


class ApproveForm(BaseForm):
    """The approver's decision: the amount and who signs the letter."""

    amount = XofField(_l("Amount of the grant (F CFA)"), validators=[required()],
                      description=_l("At most the amount requested and what the call's rules allow."))
    signatory_name = StringField(_l("Signatory's name"), validators=[required(), max_length(120),
                                                                      no_control_characters])
    signatory_title = StringField(_l("Signatory's title"), validators=[required(), max_length(200),
                                                                        no_control_characters])


class ReissueForm(BaseForm):
    reason = TextAreaField(_l("Reason for the new version"),
                           validators=[required(), max_length(REASON_MAX), no_control_characters],
                           description=_l("Printed nowhere on the letter; shown on the verification page of "
                                          "the version it replaces."))


class RevokeForm(BaseForm):
    reason = TextAreaField(_l("Reason for the revocation"),
                           validators=[required(), max_length(REASON_MAX), no_control_characters],
                           description=_l("Shown on the public verification page."))
    cancel_grant = BooleanField(
        _l("Cancel the grant too: the project will not go on"),
        description=_l("The grant's unspent money returns to the call's envelope, the project lapses and the "
                       "association is told."))


class VerifyFileForm(BaseForm):
    """Anyone may check that a PDF is the letter the ministry issued."""

    file = FileField(_l("The letter's PDF file"), validators=[FileRequired(message=_l("Choose the PDF file."))])


class GrantFilterForm(BaseForm):
    """Filters of the ministry's list of grants (GET, no CSRF)."""

    class Meta:
        csrf = False

    call = SelectField(_l("Call"), choices=[], validators=[Optional()])
    status = SelectField(_l("Status"), validators=[Optional()],
                         choices=[("", _l("All"))] + [(s.value, label) for s, label in GRANT_STATUS_LABELS.items()])

    def values(self) -> dict:
        """The filters that passed validation (an unknown value is ignored, never a 500)."""
        return {name: field.data for name, field in self._fields.items() if field.data and not field.errors}
