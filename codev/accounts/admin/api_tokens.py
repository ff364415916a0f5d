"""Administration of the partners' API tokens: issue one (shown once), list them, revoke one (asked first)."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, redirect, render_template, url_for
from wtforms import DateField, StringField
from wtforms.validators import InputRequired

from codev.accounts.admin import bp
from codev.accounts.admin.forms import MultiCheckboxField
from codev.accounts.api_tokens import ApiToken, Scope, issue_token, revoke_token, tokens_query
from codev.accounts.models import Role
from codev.core.confirm import Confirmation, ask, confirmed
from codev.core.forms import BaseForm, max_length, no_control_characters, required
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.params import paginate
from codev.core.permissions import current_person, roles
from codev.core.templating import nav_item
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db

nav_item("admin.api_tokens", _l("Partner API tokens"), Role.ADMIN, order=87, group="admin")


class TokenForm(BaseForm):
    partner = StringField(_l("Partner"), validators=[required(), max_length(200), no_control_characters],
                          description=_l("Who will hold the token: the partner and, if useful, its tool or office."))
    scopes = MultiCheckboxField(_l("What it may read"), choices=[], validators=[required()])
    expires_on = DateField(_l("Valid until"), validators=[InputRequired(message=_l("Enter a date."))],
                           description=_l("Two years at most. The partner asks for a new token before then."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scopes.choices = [(scope.value, f"{scope.value} — {scope.label}") for scope in Scope]


class RevokeForm(BaseForm):
    pass


@bp.route("/api-tokens")
@roles(Role.ADMIN)
def api_tokens():
    """The partners' tokens: who holds each, what it may read, until when, when it was last used."""
    return render_template("admin/api_tokens.html", page=paginate(tokens_query()), now=utcnow(),
                           labels={scope.value: scope.label for scope in Scope})


@bp.route("/api-tokens/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def api_token_new():
    """Issue a token to a partner; the token is shown on the next page, once, and never again."""
    form = TokenForm(data={"scopes": [Scope.PUBLIC_READ.value], "expires_on": (utcnow() + timedelta(days=365)).date()})
    if form.validate_on_submit():
        with unit_of_work(form, show=True) as work:
            token, plain = issue_token(current_person(), partner=form.partner.data, scopes=form.scopes.data,
                                       expires_on=form.expires_on.data)
        if work:  # 201: created, and shown on this answer only (a redirect would have to keep the token)
            return render_template("admin/api_token_issued.html", token=token, plain=plain,
                                   labels={scope.value: scope.label for scope in Scope}), 201
    return render_template("admin/api_token_form.html", form=form), 400 if form.errors else 200


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["POST"])
@roles(Role.ADMIN)
def api_token_revoke(token_id: int):
    """Revoke a token at once (asked first: a revoked token cannot be used again)."""
    token = db.session.get(ApiToken, token_id) or abort(404)
    form = RevokeForm()
    if not form.validate_on_submit():
        return redirect(url_for("admin.api_tokens"))
    if not confirmed():
        return ask(Confirmation(
            title=_("Revoke the token of %(partner)s", partner=token.partner),
            facts=[(_("Token"), token.shown_prefix), (_("Scopes"), token.scopes)],
            consequences=[_("Its next request is refused (401); the partner needs a new token to read again.")],
            cannot_undo=_("A revoked token cannot be used again."),
            button=_("Yes, revoke the token"), back=url_for("admin.api_tokens")))
    with unit_of_work(success=_("The token of %(partner)s is revoked.", partner=token.partner)):
        revoke_token(token, current_person())
    return redirect(url_for("admin.api_tokens"))
