"""Grant pages: the list and the grant page, approval, letters (download, re-issue, revocation), public
verification of a letter, and the home cards.

Money pages of a grant (ledger, tranches, reports) are in the other views modules of this package; the
grant page includes their partial ``grants/_money.html`` when it exists.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from codev.accounts.models import MINISTRY_ROLES, Role
from codev.accounts.two_factor import step_up
from codev.calls.models import Call
from codev.core import throttle
from codev.core.confirm import ask, confirmed
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.money import format_xof
from codev.core.params import paginate
from codev.core.permissions import current_person, public, roles
from codev.core.templating import home_panel, localized, nav_item
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db
from codev.grants import bp, confirmations
from codev.grants.access import (
    can_reissue,
    can_revoke,
    get_grant_or_404,
    get_letter_or_404,
    is_grant_member,
)
from codev.grants.award import approval, letters
from codev.grants.award.forms import (
    ApproveForm,
    GrantFilterForm,
    ReissueForm,
    RevokeForm,
    VerifyFileForm,
    refusals_beside,
)
from codev.grants.award.verification import check_file, claim_check, public_facts
from codev.grants.common import OPEN_STATUSES
from codev.grants.life import cancellation
from codev.grants.models import AwardLetter, Grant, GrantStatus, LetterStatus
from codev.projects.models import Project
from codev.projects.services import get_project_or_404

MINISTRY = tuple(sorted(MINISTRY_ROLES))  # officer, approver, admin
# Evaluators may ask but can_view_grant() answers 404: they may not learn that a grant exists.
VIEWERS = (Role.ASSOCIATION, Role.EVALUATOR, *MINISTRY)

nav_item("grants.index", _l("Grants"), *MINISTRY, order=45, group="money")



# --- the ministry's list and the grant page ----------------------------------------------------------


@bp.route("/grants/")
@roles(*MINISTRY)
def index():
    """Every grant, with filters (call, status) and pages; projects awaiting a grant on top."""
    form = GrantFilterForm(formdata=request.args)
    calls = db.session.execute(select(Call.id, Call.title, Call.title_en).order_by(Call.id.desc())).all()
    form.call.choices = [("", _("All"))] + [(str(c.id), localized(c, "title")) for c in calls]
    form.validate()
    filters = form.values()
    query = (select(Grant)
             .options(joinedload(Grant.project).joinedload(Project.association).lazyload("*"),
                      joinedload(Grant.call).lazyload("*"), lazyload(Grant.tranches))
             .order_by(Grant.approved_at.desc(), Grant.id.desc()))
    if filters.get("call"):
        query = query.where(Grant.call_id == int(filters["call"]))
    if filters.get("status"):
        query = query.where(Grant.status == filters["status"])
    page = paginate(query)
    awaiting, awaiting_count = approval.awaiting_approval(limit=20)
    return render_template("grants/index.html", form=form, page=page, awaiting=awaiting,
                           awaiting_count=awaiting_count)


def render_detail(grant: Grant, status: int = 200, **forms):
    """The grant page, with any refused form shown where it was typed."""
    user = current_person()
    visible = [letter for letter in letters.letters_of(grant) if user.is_ministry or (
        letter.language == grant.project.association.locale)]
    context = {
        "grant": grant,
        "letters": visible,
        "has_valid": any(letter.status == LetterStatus.VALID for letter in visible),
        "is_member": is_grant_member(user, grant),
        "can_reissue": can_reissue(user),
        "can_revoke": can_revoke(user),
        "can_cancel": cancellation.can_cancel(user) and grant.status in OPEN_STATUSES,
        "reissue_form": forms.get("reissue_form") or ReissueForm(formdata=None),
        "revoke_form": forms.get("revoke_form") or RevokeForm(formdata=None),
        "close_form": forms.get("close_form"),  # read by grants/_life.html (codev.grants.life.cancellation_views)
    }
    return render_template("grants/detail.html", **context), status


@bp.route("/grants/<int:grant_id>")
@roles(*VIEWERS)
def detail(grant_id: int):
    """The grant page: amount, status, letters, the rules snapshot (and the money parts)."""
    return render_detail(get_grant_or_404(grant_id, current_person()))


# --- approval ------------------------------------------------------------------------------------------


@bp.route("/grants/approve/<int:project_id>", methods=["GET", "POST"])
@roles(Role.APPROVER)
def approve(project_id: int):
    """Approve the grant of a project the committee approved: amount, signatory; letters issued at once."""
    project = get_project_or_404(project_id, current_person())
    if not approval.approvable(project):
        if confirmed() and (done := approval.grant_of(project)) is not None:  # the confirmation sent twice
            flash(_("This grant was already approved; nothing more was done."), "info")
            return redirect(url_for("grants.detail", grant_id=done.id))
        abort(404)
    facts = approval.approval_facts(project)
    form = ApproveForm(data={"amount": facts.proposed, "signatory_name": current_person().name,
                             "signatory_title": current_person().title or ""})
    if form.validate_on_submit():
        typed = (form.amount.amount, form.signatory_name.data, form.signatory_title.data)
        # The confirm step, for an approval the rules allow; it asks for the second factor again (step-up),
        # and comes back while the code is wrong.
        refused = step_up.refusal(current_person()) if confirmed() else None
        if not confirmed() or refused:
            with unit_of_work(form) as check, refusals_beside("amount", shown=("amount", "signatory_name")):
                facts = approval.check_approval(project, current_person(), *typed)
            if check:
                signatory = " — ".join(x for x in typed[1:] if x)
                return ask(confirmations.approve(project, facts, form.amount.amount, signatory),
                           step_up=step_up.form(refused), status=400 if refused else 200)
            return render_approve(project, approval.approval_facts(project), form, 400)
        with unit_of_work(form) as work, refusals_beside("amount", shown=("amount", "signatory_name")):
            grant = approval.approve_grant(project, current_person(), *typed)
            work.success = _("The grant of %(a)s is approved; the award letter %(ref)s is issued and the association "
                             "told.", a=format_xof(grant.amount_xof), ref=letters.letter_reference(
                                 project.reference or "", 1, project.association.locale))
        if work:
            return redirect(url_for("grants.detail", grant_id=grant.id))
        facts = approval.approval_facts(project)  # the envelope may have moved meanwhile
    return render_approve(project, facts, form, 400 if request.method == "POST" else 200)


def render_approve(project: Project, facts: approval.ApprovalFacts, form: ApproveForm, status: int):
    return render_template("grants/approve.html", project=project, facts=facts, form=form,
                           tranches=approval.split_tranches(
                               form.amount.amount or facts.proposed,
                               [(t.share_bps, t.condition) for t in project.call.tranches])), status


# --- letters -----------------------------------------------------------------------------------------


@bp.route("/grants/<int:grant_id>/letters/<int:letter_id>")
@roles(*VIEWERS)
def letter(grant_id: int, letter_id: int):
    """Download the stored PDF of a letter (the bytes issued, never a new rendering)."""
    grant = get_grant_or_404(grant_id, current_person())
    item = get_letter_or_404(grant, letter_id, current_person())
    response = make_response(item.pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{item.reference}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/grants/<int:grant_id>/reissue", methods=["POST"])
@roles(Role.APPROVER, Role.OFFICER)
def reissue(grant_id: int):
    """Issue version n+1 of the letters (both languages); the current ones become superseded."""
    grant = get_grant_or_404(grant_id, current_person())
    form = ReissueForm()
    if not form.validate_on_submit():
        return render_detail(grant, 400, reissue_form=form)
    with unit_of_work() as work:
        new = letters.reissue_letters(grant, current_person(), form.reason.data)
        work.success = _("Version %(v)s of the letter is issued; the previous one is superseded.", v=new[0].version)
    return redirect(url_for("grants.detail", grant_id=grant_id))


@bp.route("/grants/<int:grant_id>/revoke", methods=["POST"])
@roles(Role.APPROVER)
def revoke(grant_id: int):
    """Revoke the grant's valid letters, with the reason the verification page will show (and, if asked,
    cancel the grant with the same reason: :func:`codev.grants.life.cancellation.cancel_grant`)."""
    grant = get_grant_or_404(grant_id, current_person())
    form = RevokeForm()
    if not form.validate_on_submit():
        return render_detail(grant, 400, revoke_form=form)
    if not confirmed():
        if form.cancel_grant.data and cancellation.can_cancel(current_person()):
            facts = cancellation.cancellation_facts(grant)
            if (problem := cancellation.cancellation_problem(grant, facts)) is None:
                return ask(confirmations.cancel(grant, facts.returned, facts.disbursed, form.reason.data,
                                                back=url_for("grants.detail", grant_id=grant.id, _anchor="letters")))
            form.form_errors.append(problem)
            return render_detail(grant, 400, revoke_form=form)
        valid = [letter.reference for letter in letters.letters_of(grant) if letter.status == LetterStatus.VALID]
        if valid:
            return ask(confirmations.revoke(grant, valid, form.reason.data))
    with unit_of_work(form) as work:
        if form.cancel_grant.data:
            done = cancellation.cancel_grant(grant, current_person(), form.reason.data)
            work.success = _("The grant is cancelled: %(amount)s return to the call's envelope, its letters are "
                             "revoked and the association has been told.", amount=format_xof(done.returned))
        else:
            letters.revoke_letters(grant, current_person(), form.reason.data)
            work.success = _("The letter is revoked; its verification page says so.")
    if not work:
        return render_detail(grant, 400, revoke_form=form)
    return redirect(url_for("grants.detail", grant_id=grant_id))


# --- public verification --------------------------------------------------------------------------------


def _letter_or_plain_404(reference: str) -> AwardLetter:
    item = letters.find_letter(reference)
    if item is None:
        abort(404)  # the plain "page not found": nothing about what exists
    return item


def render_verify(item: AwardLetter, form: VerifyFileForm, result=None, status: int = 200):
    grant = item.grant  # whether the grant itself was cancelled or lapsed, and when (no personal data)
    ended = {"status": GrantStatus(grant.status), "cancelled_at": grant.cancelled_at, "lapsed_at": grant.lapsed_at}
    return render_template("grants/verify.html", letter=public_facts(item), form=form, result=result,
                           issued=item, grant_end=ended), status


@bp.route("/verify/<reference>")
@public
def verify(reference: str):
    """The public page of a letter: its status (valid, superseded, revoked), key facts and fingerprints."""
    item = _letter_or_plain_404(reference)
    return render_verify(item, VerifyFileForm(formdata=None))


@bp.route("/verify/<reference>", methods=["POST"])
@public
def verify_file(reference: str):
    """Compare an uploaded PDF's SHA-256 with the stored letter's."""
    item = _letter_or_plain_404(reference)
    form = VerifyFileForm()
    if not form.validate_on_submit():
        return render_verify(item, form, status=400)
    if not (claim := claim_check(request.remote_addr)):
        form.file.errors.append(throttle.wait_message(claim))
        page, status = render_verify(item, form, status=429)
        return page, status, throttle.retry_after_header(claim)
    result = check_file(item, form.file.data.stream)
    if result.too_large:
        form.file.errors.append(_("This file is far larger than a letter: it cannot be the letter."))
    return render_verify(item, form, result=result, status=400 if result.too_large else 200)


# --- home cards ---------------------------------------------------------------------------------------


@home_panel(Role.ASSOCIATION)
def member_letters_panel():
    """The association's grants, each with its valid letter in the association's language."""
    if current_user.association_id is None:
        return None
    rows = approval.association_grants(current_user.association_id, limit=5)
    if not rows:
        return None
    items = [{"grant_id": grant.id, "title": grant.project.title, "amount": format_xof(grant.amount_xof),
              "letter": letter} for grant, letter in rows]
    return "grants/_panel_member.html", {"items": items}


@home_panel(Role.APPROVER)
def approver_panel():
    """Projects the committee approved that wait for the approver's grant."""
    awaiting, count = approval.awaiting_approval(limit=5)
    return "grants/_panel_approver.html", {"awaiting": awaiting, "count": count}



@bp.app_template_global("grant_of")
def grant_of(project_id: int) -> Grant | None:
    """The grant of a project, for the links on the project page (one indexed query)."""
    return db.session.scalar(select(Grant).where(Grant.project_id == project_id))
