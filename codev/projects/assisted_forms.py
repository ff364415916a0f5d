"""Forms of staff-assisted applications: the association filed on its behalf, its project, the scan, the hand-over."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, RadioField, SelectField

from codev.accounts.assisted import CHANNEL_LABELS, Channel
from codev.accounts.associations.forms import ProfileForm
from codev.core.forms import BaseForm, email_address, max_length, required
from codev.core.i18n import lazy_gettext as _l
from codev.projects.forms import StartForm


class FileAssociationForm(ProfileForm):
    """The association's profile as on its paper file, how it reached the ministry, and the duplicate check."""

    channel = RadioField(_l("How the application reached the ministry"), default=Channel.PAPER.value,
                         validators=[required()])
    not_duplicate = BooleanField(_l("I have compared them: none of these associations is the one I am filing."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = [(c.value, CHANNEL_LABELS[c]) for c in Channel]


class StartOnBehalfForm(StartForm):
    """The call the paper application answers, and the project's title."""

    call_id = SelectField(_l("Call for projects"), coerce=str, validators=[required()])

    def __init__(self, *args, calls=(), locale: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.call_id.choices = [("", _l("— Choose an open call —"))] + [
            (str(call.id), call.title_for(locale)) for call in calls]


class ScanForm(BaseForm):
    scan = FileField(_l("Scan of the signed application"), validators=[FileRequired(message=_l("Choose a file."))],
                     description=_l("PDF, JPEG or PNG: every page the association signed."))


class HandoverForm(BaseForm):
    email = EmailField(_l("Email of the association's contact"),
                       validators=[required(), email_address(), max_length(254)],
                       description=_l("The link to take the account is sent there, in the association's language."))
