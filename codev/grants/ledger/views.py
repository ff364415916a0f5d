"""Pages of a grant's money: the ledger, contributions and their decisions, disbursements and signatures.

The grant page includes ``grants/_money.html``, which reads :func:`grant_money` (offered to every
template by the context processor below): the match at a glance, the bar of money in and out, each
tranche's state and what it waits for, and the actions of the person reading.

A form that carries an idempotency key (a declaration, a disbursement, a report), sent again (a double
click, Back, a retry), is answered by :func:`sent_again` before it is validated: "already recorded", with
a link to what was. Two sendings at once are serialised by the grant's lock in the service, and the
second one gets the same answer (:func:`already_recorded`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from codev.accounts.models import MINISTRY_ROLES, Role, User
from codev.core.confirm import ask, confirmed
from codev.core.i18n import gettext as _
from codev.core.i18n import ngettext
from codev.core.money import format_bps, format_minor, format_rate, format_xof
from codev.core.params import page_number, paginate
from codev.core.permissions import current_person, roles
from codev.core.storage import download
from codev.core.templating import home_panel
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import unit_of_work
from codev.extensions import db
from codev.grants import bp, common, confirmations
from codev.grants.access import get_grant_or_404
from codev.grants.award.forms import refusals_beside
from codev.grants.disbursements import due, tranches
from codev.grants.disbursements import payments as disbursements
from codev.grants.ledger import contributions
from codev.grants.ledger import entries as ledger
from codev.grants.ledger.entries import DeclarationState
from codev.grants.life import lapse
from codev.grants.models import (
    ContributionEntry,
    Disbursement,
    DisbursementRequest,
    EntryKind,
    Grant,
    GrantStatus,
    Report,
    RequestStatus,
)
from codev.grants.money_forms import ContributionForm, DisbursementForm, ReasonForm
from codev.grants.reports import services as reports
from codev.projects.models import FUNDING_SOURCE_LABELS, FundingSource, Project

MINISTRY = tuple(sorted(MINISTRY_ROLES))  # officer, approver, admin
# Evaluators may ask, and get the same 404 as anyone the grant is not for.
VIEWERS = (Role.ASSOCIATION, Role.EVALUATOR, *MINISTRY)
BAR_WIDTH = 600
DECLARATION_FIELDS = ("source", "currency", "amount", "value_date", "proof")  # where a refusal can be shown



def _back(grant: Grant):
    return redirect(url_for("grants.detail", grant_id=grant.id) + "#money")


# --- forms sent again -------------------------------------------------------------------------


@dataclass(frozen=True)
class AlreadyRecorded:
    """What a form sent again had recorded the first time: a sentence, and a link to it."""

    sentence: str
    url: str
    link_text: str


def already_recorded(grant: Grant, found: AlreadyRecorded):
    """The answer to a form already recorded: it says so, and links to what was recorded; nothing changes."""
    flash(_("This form was already sent: it is already recorded, nothing new was saved."), "info")
    return render_money_page(grant, "already_recorded.html", 200, found=found)


def sent_again(grant: Grant, lookup: Callable[[Grant, str | None], AlreadyRecorded | None]):
    """Before a form with an idempotency key is validated: the "already recorded" answer if its key was used.

    ``lookup`` finds what the key recorded on the grant (None when nothing): checked first, before the
    form is validated and before the page checks that it may still be sent, because what the form chose
    (a tranche now paid, a report kind already waiting) may no longer be offered, or the grant closed
    since, and the person must not read that nothing was saved. Returns None when the form is new.
    """
    if request.method != "POST":
        return None
    found = lookup(grant, request.form.get("idempotency_key"))
    return None if found is None else already_recorded(grant, found)


def _page(query):
    return paginate(query)


def source_label(source: str) -> str:
    try:
        return str(FUNDING_SOURCE_LABELS[FundingSource(source)])
    except ValueError:
        return source


# --- what the money partial shows ---------------------------------------------------------------


def money_bar(grant: Grant, facts: tranches.MoneyFacts) -> dict:
    """Widths (integers of a 600-unit SVG) of money in against money out, on one scale."""
    scale = max(grant.required_association_xof, grant.amount_xof, facts.v, facts.d, 1)

    def width(amount: int) -> int:
        return max(0, amount) * BAR_WIDTH // scale

    return {"width": BAR_WIDTH, "in": width(facts.v), "in_target": width(grant.required_association_xof),
            "out": width(facts.d), "out_target": width(grant.amount_xof), "limit": width(facts.limit),
            "pending": width(facts.pending)}


def tranche_choices(views: list[tranches.TrancheView]) -> list[tuple[int, str]]:
    """The tranches still to pay, as the disbursement form offers them."""
    return [(v.number, _("Tranche %(n)s — %(amount)s", n=v.number, amount=format_xof(v.amount_xof)))
            for v in views if v.state != tranches.TrancheState.PAID]


def disbursement_form(grant: Grant, views: list[tranches.TrancheView], form: DisbursementForm | None = None):
    """The form with the unpaid tranches to choose from and a fresh idempotency key."""
    if form is None:
        first = next((v for v in views if v.state != tranches.TrancheState.PAID), None)
        form = DisbursementForm(formdata=None, tranche=first.number if first else None,
                                amount=(first.payable_xof or "") if first else "", value_date=utcnow().date())
    form.tranche.choices = tranche_choices(views)
    form.fresh_key()
    return form


def grant_money(grant: Grant, **forms: Any) -> dict:
    """Everything the money partial shows, for the person reading (a fixed number of queries)."""
    user = current_person()
    member = ledger.is_member(user, grant)
    entries = ledger.grant_entries(grant.id)
    book = ledger.read_ledger(entries, grant.in_kind_counts_bps)
    facts = tranches.money_facts([grant])[grant.id]
    views = tranches.tranche_views(grant, facts, member=member)
    grant_reports = reports.grant_reports(grant.id)
    requests = db.session.scalars(
        select(DisbursementRequest).where(DisbursementRequest.grant_id == grant.id,
                                          DisbursementRequest.status == RequestStatus.PENDING)
        .order_by(DisbursementRequest.id)
    ).all()
    requesters = _names({r.requested_by_id for r in requests})
    can_record = disbursements.can_record(user) and grant.status in common.OPEN_STATUSES
    form = disbursement_form(grant, views, forms.get("disbursement_form")) if can_record else None
    return {
        "member": member,
        "ministry": bool(getattr(user, "is_ministry", False)),
        "facts": facts,
        "still_to_bring": max(0, grant.required_association_xof - facts.v),
        "room": max(0, facts.limit - facts.d - facts.pending),
        "deadline_passed": grant.contribution_deadline < utcnow().date(),
        "bar": money_bar(grant, facts),
        "tranches": views,
        "declarations": [(e, book.states[e.id]) for e in reversed(entries) if e.kind == EntryKind.DECLARED],
        "decisions": book.decisions,
        "reversals": book.reversals,
        "pending_xof": book.pending_xof,
        "reports": grant_reports,
        "reports_due": reports.reports_due(grant, facts, grant_reports) if member else [],
        "requests": requests,
        "requesters": requesters,
        "can_declare": ledger.can_declare(user, grant),
        "can_file": reports.can_file(user, grant),
        "can_decide": ledger.can_decide(user, grant) and grant.status in common.OPEN_STATUSES,
        "can_record": can_record,
        "can_sign": disbursements.can_sign(user),
        "can_review": reports.can_review(user),
        "disbursement_form": form,
        "four_eyes": disbursements.four_eyes_hint(grant, views) if form is not None and form.tranche.choices else [],
        "source_label": source_label,
        "kind_label": reports.kind_label,
        "report_status_label": reports.status_label,
    }


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())


@bp.app_context_processor
def _money_helpers() -> dict:
    """``grant_money(grant)`` for the grant page's money partial, wherever it is rendered."""
    return {"grant_money": grant_money, "money_xof": format_xof, "money_minor": format_minor, "money_pct": format_bps}


def render_money_page(grant: Grant, template: str, status: int = 200, **context: Any):
    return render_template(f"grants/{template}", grant=grant, **context), status


# --- the ledger -------------------------------------------------------------------------------


@bp.route("/grants/<int:grant_id>/ledger", endpoint="ledger")
@roles(*VIEWERS)
def ledger_page(grant_id: int):
    """Every entry of the counterpart ledger and every disbursement, in order."""
    grant = get_grant_or_404(grant_id, current_person())
    entries = ledger.grant_entries(grant.id)
    book = ledger.read_ledger(entries, grant.in_kind_counts_bps)
    payments = db.session.scalars(
        select(Disbursement).where(Disbursement.grant_id == grant.id).order_by(Disbursement.id)
    ).all()
    names = _names({p.recorded_by_id for p in payments} | {p.approved_by_id for p in payments if p.approved_by_id})
    return render_template("grants/ledger.html", grant=grant, entries=entries, book=book, payments=payments,
                           names=names, source_label=source_label, sums=ledger.verified_sums([grant])[grant.id])


def what_was_declared(grant: Grant, entry: ContributionEntry) -> AlreadyRecorded:
    """A declaration form's first sending, in words, with a link to the declaration's page."""
    state = ledger.read_ledger(ledger.grant_entries(grant.id), grant.in_kind_counts_bps).states[entry.id]
    return AlreadyRecorded(
        _("The contribution of %(amount)s (%(source)s, value date %(value_date)s) was declared on %(date)s. "
          "Its state: %(state)s.", amount=format_xof(entry.amount_xof), source=source_label(entry.source),
          value_date=format_date(entry.value_date, "long"), date=format_datetime(entry.created_at, "medium"),
          state=state.label),
        url_for("grants.contribution", grant_id=grant.id, entry_id=entry.id),
        _("See the declaration"))


def declaration_sent_before(grant: Grant, key: str | None) -> AlreadyRecorded | None:
    """The "already recorded" of a declaration form whose key was used on this grant (for :func:`sent_again`)."""
    entry = common.keyed_record(ContributionEntry, grant, key)
    return what_was_declared(grant, entry) if entry is not None else None


@bp.route("/grants/<int:grant_id>/contributions/new", methods=["GET", "POST"])
@roles(Role.ASSOCIATION)
def contribution_new(grant_id: int):
    """The association declares a contribution with its proof (once per form: see :func:`sent_again`)."""
    grant = get_grant_or_404(grant_id, current_person())
    if again := sent_again(grant, declaration_sent_before):
        return again
    if not ledger.can_declare(current_person(), grant):
        abort(404)
    form = ContributionForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work, refusals_beside("proof", shown=DECLARATION_FIELDS,
                                                         above=("idempotency_key",)):
            done = contributions.declare_from_form(
                grant, current_person(), source=form.source.data, currency=form.currency.data,
                amount_minor=form.amount_minor, value_date=form.value_date.data, proof=form.proof.data,
                idempotency_key=form.idempotency_key.data or "")
            if not done.duplicate:
                work.success = _("Your contribution of %(amount)s is declared; the ministry will verify it.",
                                 amount=format_xof(done.record.amount_xof))
        if work and done.duplicate:  # sent twice at once: the other sending recorded it while this one waited
            return already_recorded(grant, what_was_declared(grant, done.record))
        if work:
            return _back(grant)
    form.fresh_key()
    status = 400 if request.method == "POST" else 200
    return render_money_page(grant, "ledger_declare.html", status, form=form)


def _declaration_or_404(grant: Grant, entry_id: int) -> ContributionEntry:
    entry = db.session.get(ContributionEntry, entry_id)
    if entry is None or entry.grant_id != grant.id or entry.kind != EntryKind.DECLARED:
        abort(404)
    return entry


def render_entry(grant: Grant, entry_id: int, status: int = 200, **forms: Any):
    entry = _declaration_or_404(grant, entry_id)
    book = ledger.read_ledger(ledger.grant_entries(grant.id), grant.in_kind_counts_bps)
    return render_money_page(
        grant, "ledger_entry.html", status, entry=entry, state=book.states[entry.id], rate_text=format_rate,
        decision=book.decisions.get(entry.id), reversal=book.reversals.get(entry.id), source_label=source_label,
        can_decide=ledger.can_decide(current_person(), grant) and grant.status in common.OPEN_STATUSES,
        reject_form=forms.get("reject_form") or ReasonForm(formdata=None, prefix="reject"),
        reverse_form=forms.get("reverse_form") or ReasonForm(formdata=None, prefix="reverse"),
        names=_names({e.created_by_id for e in (book.decisions.get(entry.id), book.reversals.get(entry.id)) if e}),
    )


@bp.route("/grants/<int:grant_id>/contributions/<int:entry_id>")
@roles(*VIEWERS)
def contribution(grant_id: int, entry_id: int):
    """One declaration: its figures, proof, state, and for officers the decisions."""
    return render_entry(get_grant_or_404(grant_id, current_person()), entry_id)


@bp.route("/grants/<int:grant_id>/contributions/<int:entry_id>/proof")
@roles(*VIEWERS)
def contribution_proof(grant_id: int, entry_id: int):
    """Download the proof of a declaration (only those who may see the grant)."""
    entry = _declaration_or_404(get_grant_or_404(grant_id, current_person()), entry_id)
    if entry.proof is None:
        abort(404)
    return download(entry.proof)


def _decide(grant_id: int, entry_id: int, action: str):
    grant = get_grant_or_404(grant_id, current_person())
    entry = _declaration_or_404(grant, entry_id)
    form = None if action == "verify" else ReasonForm(prefix=action)
    if form is not None and not form.validate_on_submit():
        return render_entry(grant, entry_id, 400, **{f"{action}_form": form})
    if form is not None and not confirmed():  # a rejection or a reversal stays in the ledger
        state = ledger.read_ledger(ledger.grant_entries(grant.id), grant.in_kind_counts_bps).states[entry.id]
        if state == (DeclarationState.DECLARED if action == "reject" else DeclarationState.VERIFIED):
            return ask(confirmations.contribution(grant, entry, action, form.reason.data))
    success = {"verify": _("The contribution is verified; the association has been told."),
               "reject": _("The declaration is rejected; the association has been told why."),
               "reverse": _("The contribution is reversed; the association has been told why.")}[action]
    with unit_of_work(success=success) as work:
        if action == "verify":
            contributions.verify_contribution(grant, entry_id, current_person())
        elif action == "reject":
            contributions.reject_contribution(grant, entry_id, current_person(), form.reason.data)
        else:
            contributions.reverse_contribution(grant, entry_id, current_person(), form.reason.data)
    if work:
        return _back(grant)
    return redirect(url_for("grants.contribution", grant_id=grant.id, entry_id=entry_id))


@bp.route("/grants/<int:grant_id>/contributions/<int:entry_id>/verify", methods=["POST"])
@roles(Role.OFFICER)
def contribution_verify(grant_id: int, entry_id: int):
    """An officer verifies a declaration."""
    return _decide(grant_id, entry_id, "verify")


@bp.route("/grants/<int:grant_id>/contributions/<int:entry_id>/reject", methods=["POST"])
@roles(Role.OFFICER)
def contribution_reject(grant_id: int, entry_id: int):
    """An officer rejects a declaration with a reason."""
    return _decide(grant_id, entry_id, "reject")


@bp.route("/grants/<int:grant_id>/contributions/<int:entry_id>/reverse", methods=["POST"])
@roles(Role.OFFICER)
def contribution_reverse(grant_id: int, entry_id: int):
    """An officer reverses a verified contribution with a reason."""
    return _decide(grant_id, entry_id, "reverse")


# --- the officers' lists ----------------------------------------------------------------------


@bp.route("/grants/contributions/to-verify")
@roles(*MINISTRY)
def contributions_to_verify():
    """Declarations waiting for an officer, oldest first."""
    page = _page(ledger.to_verify_query().options(joinedload(ContributionEntry.created_by)))
    grants = _grants_with_projects({e.grant_id for e in page.items})
    return render_template("grants/ledger_to_verify.html", page=page, grants=grants, source_label=source_label)


def _grants_with_projects(ids: set[int]) -> dict[int, Grant]:
    if not ids:
        return {}
    found = db.session.scalars(
        select(Grant).where(Grant.id.in_(ids)).options(joinedload(Grant.project).joinedload(Project.association))
    ).all()
    return {g.id: g for g in found}


def due_rows(pairs: list[tuple[int, int]]) -> list[tuple[Grant, tranches.TrancheView]]:
    """The (grant, tranche) rows of one page: those grants only, with what the list shows of their project."""
    if not pairs:
        return []
    found = db.session.scalars(
        select(Grant).where(Grant.id.in_({grant_id for grant_id, _n in pairs}))
        .options(joinedload(Grant.project).load_only(Project.id, Project.title, Project.reference,
                                                     Project.association_id)
                 .joinedload(Project.association).lazyload("*"))
    ).unique().all()
    grants = {g.id: g for g in found}
    facts = tranches.money_facts(found)
    views = {g.id: {v.number: v for v in tranches.tranche_views(g, facts[g.id])} for g in found}
    return [(grants[grant_id], views[grant_id][number]) for grant_id, number in pairs]


@bp.route("/grants/tranches/due")
@roles(*MINISTRY)
def tranches_due():
    """Tranches whose conditions are met and that wait to be paid (counted and paged in SQL, one statement)."""
    per_page = current_app.config["PAGE_SIZE"]
    pairs, total, number = due.due_page(page_number(), per_page)
    return render_template("grants/tranches_due.html", rows=due_rows(pairs), total=total,
                           page_number=number, pages=max(1, -(-total // per_page)))


@bp.route("/grants/disbursement-requests")
@roles(*MINISTRY)
def requests_pending():
    """Disbursements waiting for a second signature."""
    page = _page(select(DisbursementRequest).where(DisbursementRequest.status == RequestStatus.PENDING)
                 .order_by(DisbursementRequest.requested_at, DisbursementRequest.id))
    grants = _grants_with_projects({r.grant_id for r in page.items})
    names = _names({r.requested_by_id for r in page.items})
    return render_template("grants/disbursement_requests.html", page=page, grants=grants, names=names)


LAPSE_NAMED = 20  # grants named on the confirm step of close-lapsed (all are counted)


@bp.route("/grants/close-lapsed", methods=["POST"])
@roles(Role.OFFICER)
def close_lapsed():
    """Lapse the awarded grants whose contribution never arrived; their money returns to the envelopes."""
    if not confirmed() and (ids := lapse.lapsable_ids()):
        named = db.session.scalars(select(Grant).where(Grant.id.in_(ids[:LAPSE_NAMED]))
                                   .options(joinedload(Grant.project))).all()
        return ask(confirmations.close_lapsed(len(ids), list(named), url_for("core.home")))
    with unit_of_work() as work:
        lapsed = lapse.close_lapsed(current_person())
        if lapsed:
            work.success = ngettext("%(num)d grant lapsed; %(amount)s returned to the envelope.",
                                    "%(num)d grants lapsed; %(amount)s returned to the envelopes.",
                                    len(lapsed), amount=format_xof(sum(g.released_xof for g in lapsed)))
        else:
            work.success, work.category = _("No grant has to lapse today."), "info"
    return redirect(url_for("core.home"))


# --- home cards ---------------------------------------------------------------------------------


@home_panel(Role.OFFICER)
def officer_money_panel():
    """Contributions to verify, tranches due, reports to read, grants to lapse."""
    return "grants/ledger_panel_officer.html", {
        "to_verify": ledger.count_to_verify(), "due": due.count_due(),
        "to_read": reports.count_to_read(), "lapsable": lapse.count_lapsable(),
        "requests": _count_pending(),
    }


@home_panel(Role.APPROVER)
def approver_money_panel():
    """Disbursement requests awaiting a second signature."""
    return "grants/disbursement_panel_approver.html", {"count": _count_pending()}


def _count_pending() -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count(DisbursementRequest.id))
                             .where(DisbursementRequest.status == RequestStatus.PENDING)) or 0


@home_panel(Role.ASSOCIATION)
def member_money_panel():
    """The association's grants with their money's next step in words."""
    if current_user.association_id is None:
        return None
    grants = list(db.session.scalars(
        select(Grant).join(Project, Project.id == Grant.project_id)
        .where(Project.association_id == current_user.association_id, Grant.status.in_(common.OPEN_STATUSES))
        .options(joinedload(Grant.project)).order_by(Grant.id.desc()).limit(5)
    ).unique())
    if not grants:
        return None
    facts = tranches.money_facts(grants)
    report_rows = db.session.scalars(select(Report).where(Report.grant_id.in_([g.id for g in grants])))
    by_grant: dict[int, list] = {g.id: [] for g in grants}
    for report in report_rows:
        by_grant[report.grant_id].append(report)
    steps = {g.id: member_next_step(g, facts[g.id], by_grant[g.id]) for g in grants}
    return "grants/ledger_panel_member.html", {"grants": grants, "steps": steps}


def member_next_step(grant: Grant, facts: tranches.MoneyFacts, grant_reports: list) -> str:
    """What the association should do next about its grant's money, in words."""
    missing = grant.required_association_xof - facts.v
    if missing > 0:
        return _("Declare your contribution of %(amount)s before %(date)s.", amount=format_xof(missing),
                 date=format_date(grant.contribution_deadline, "long"))
    due = reports.reports_due(grant, facts, grant_reports)
    if due:
        return _("File the %(kind)s: tranche %(n)s waits for it.", kind=reports.kind_label(due[0].kind).lower(),
                 n=due[0].tranche_number)
    if grant.status == GrantStatus.AWARDED:
        return _("Your contribution is verified: the first tranche can be paid.")
    return _("Nothing to do for now: the ministry pays the tranches as their conditions are met.")
