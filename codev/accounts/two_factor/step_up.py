"""Step-up: the second factor asked again, on the confirmation page of approving a grant, signing a
disbursement a second time, or before changing someone's role — for each action, never remembered."""

from __future__ import annotations

from flask import request

from codev.accounts.models import User
from codev.accounts.two_factor import services
from codev.accounts.two_factor.forms import StepUpForm
from codev.accounts.two_factor.models import has_two_factor
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.unit_of_work import unit_of_work

FIELD = "step_up_code"


def form(error: str | None = None) -> StepUpForm:
    """The code field to show (with ``error`` beside it, the code never kept)."""
    shown = StepUpForm(formdata=None)
    if error:
        shown.step_up_code.errors = [error]
    return shown


def refusal(user: User) -> str | None:
    """Why this post's step-up code is refused, in words, or None when it is good (and now spent)."""
    if not has_two_factor(user):
        return _("This action asks for your second factor: set up two-factor sign-in on your profile first.")
    code = request.form.get(FIELD, "")
    if not code.strip():
        return _("Type the code your authenticator app shows now to confirm.")
    with unit_of_work():  # the attempt's audit event is kept, whatever the action does next
        check = services.check_code(user, code[:40], request.remote_addr)
        if check.ok:
            audit.record("two_factor.step_up", user, actor=user, after={"endpoint": request.endpoint})
    return None if check.ok else check.problem
