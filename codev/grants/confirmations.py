"""What the confirm step (:mod:`codev.core.confirm`) says before each irreversible action on a grant.

Each builder restates the action with its real figures and says what stays done; the views ask it while
the post lacks ``confirm`` (approval, revocation, cancellation, disbursement, second signature, refusal
of a disbursement, rejection and reversal of a contribution, a project's file closed, grants lapsed).
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import format_date

from codev.core.confirm import Confirmation
from codev.core.i18n import gettext as _
from codev.core.i18n import ngettext
from codev.core.money import format_bps, format_xof
from codev.core.templating import localized
from codev.grants.award import approval
from codev.grants.models import ContributionEntry, DisbursementRequest, Grant
from codev.projects.models import Project

GRANT_PAGE = "grants.detail"


def _project_facts(project: Project) -> list[tuple[str, str]]:
    return [(_("Project"), " · ".join(x for x in (project.reference, project.title) if x)),
            (_("Association"), project.association.display_name)]


def _grant_facts(grant: Grant) -> list[tuple[str, str]]:
    return [*_project_facts(grant.project), (_("Grant"), format_xof(grant.amount_xof))]


def approve(project: Project, facts: approval.ApprovalFacts, amount: int, signatory: str) -> Confirmation:
    """Approving a grant: the amount, to whom, for what, the envelope left after it, the tranches."""
    plan = approval.split_tranches(amount, [(t.share_bps, t.condition) for t in project.call.tranches])
    return Confirmation(
        title=_("Approve a grant of %(amount)s to %(association)s for “%(project)s”", amount=format_xof(amount),
                association=project.association.display_name, project=project.title),
        facts=[*_project_facts(project), (_("Call for projects"), localized(project.call, "title")),
               (_("Grant"), format_xof(amount)),
               (_("Envelope not yet committed, after this approval"), format_xof(facts.remaining - amount)),
               (_("Tranches"), "\n".join(_("Tranche %(n)s: %(share)s, %(amount)s", n=number, share=format_bps(share),
                                           amount=format_xof(part)) for number, share, part, _c in plan)),
               (_("Signatory"), signatory)],
        consequences=[_("The amount is committed to the call's envelope and the project becomes “funded”."),
                      _("The award letter is issued in French and English and the association is told by email.")],
        cannot_undo=_("An approved grant is not withdrawn: only a cancellation, with its reason, can end it later, "
                      "and the letter issued stays on record."),
        button=_("Yes, approve the grant"), back=url_for("grants.approve", project_id=project.id), danger=False)


def cancel(grant: Grant, returned: int, disbursed: int, reason: str, *, back: str | None = None) -> Confirmation:
    """Cancelling a grant: what returns to the envelope, what stays paid, the letters revoked."""
    return Confirmation(
        title=_("Cancel the grant of %(amount)s to %(association)s", amount=format_xof(grant.amount_xof),
                association=grant.project.association.display_name),
        facts=[*_grant_facts(grant), (_("Returns to the call's envelope"), format_xof(returned)),
               (_("Already disbursed, stays disbursed"), format_xof(disbursed)), (_("Reason"), reason)],
        consequences=[_("Every valid award letter is revoked; its verification page says so, with the reason."),
                      _("The project lapses and the association is told by email.")],
        cannot_undo=_("A cancelled grant cannot be reopened: a new grant would need a new committee decision and "
                      "a new approval."),
        button=_("Yes, cancel the grant"), back=back or url_for("grants.cancel", grant_id=grant.id))


def revoke(grant: Grant, references: list[str], reason: str) -> Confirmation:
    """Revoking the valid letters of a grant (the grant itself goes on)."""
    return Confirmation(
        title=_("Revoke the award letter %(references)s", references=", ".join(references)),
        facts=[*_grant_facts(grant), (_("Reason"), reason)],
        consequences=[_("The public verification page will say the letter is revoked, with this reason."),
                      _("The association is told by email.")],
        cannot_undo=_("A revoked letter stays revoked: it cannot be made valid again; only a new version can be "
                      "issued."),
        button=_("Yes, revoke the letter"), back=url_for(GRANT_PAGE, grant_id=grant.id, _anchor="letters"))


def disbursement(grant: Grant, form: Any, needs_second_signature: str | None) -> Confirmation:
    """Recording a disbursement (or, above the four-eyes threshold, asking for the second signature)."""
    facts = [*_grant_facts(grant), (_("Tranche"), str(form.tranche.data)),
             (_("Amount paid"), format_xof(form.amount.amount)),
             (_("Value date"), format_date(form.value_date.data, "medium") if form.value_date.data else ""),
             (_("Bank reference"), form.bank_reference.data)]
    if needs_second_signature:
        return Confirmation(
            title=_("Ask for a second signature on a disbursement of %(amount)s on tranche %(n)s",
                    amount=format_xof(form.amount.amount), n=form.tranche.data),
            facts=facts, consequences=[_("A second signature is needed: %(reason)s.", reason=needs_second_signature),
                                       _("The approvers are told by email; nothing is paid until one signs.")],
            cannot_undo=_("The request stays on record: an approver signs or refuses it, it cannot be deleted."),
            button=_("Yes, ask for the second signature"), danger=False,
            back=url_for("grants.disbursement_new", grant_id=grant.id))
    return Confirmation(
        title=_("Record a disbursement of %(amount)s on tranche %(n)s to %(association)s",
                amount=format_xof(form.amount.amount), n=form.tranche.data,
                association=grant.project.association.display_name),
        facts=facts, consequences=[_("The association is told by email."),
                                   _("The money paid counts against the grant and its tranche from now on.")],
        cannot_undo=_("The ledger is append-only: a recorded disbursement cannot be edited or deleted."),
        button=_("Yes, record the disbursement"), back=url_for("grants.disbursement_new", grant_id=grant.id))


def _request_facts(grant: Grant, req: DisbursementRequest) -> list[tuple[str, str]]:
    return [*_grant_facts(grant), (_("Tranche"), str(req.tranche_number)), (_("Amount"), format_xof(req.amount_xof)),
            (_("Value date"), format_date(req.value_date, "medium")), (_("Bank reference"), req.bank_reference)]


def sign_request(grant: Grant, req: DisbursementRequest) -> Confirmation:
    """The second signature: the disbursement is recorded."""
    return Confirmation(
        title=_("Sign and pay a disbursement of %(amount)s on tranche %(n)s", amount=format_xof(req.amount_xof),
                n=req.tranche_number),
        facts=_request_facts(grant, req),
        consequences=[_("The disbursement is recorded in the ledger and the association is told by email.")],
        cannot_undo=_("The ledger is append-only: a recorded disbursement cannot be edited or deleted."),
        button=_("Yes, sign and pay"), danger=False,
        back=url_for("grants.disbursement_request", grant_id=grant.id, request_id=req.id))


def refuse_request(grant: Grant, req: DisbursementRequest, note: str) -> Confirmation:
    """Refusing a disbursement request: nothing is paid."""
    return Confirmation(
        title=_("Refuse the disbursement of %(amount)s on tranche %(n)s", amount=format_xof(req.amount_xof),
                n=req.tranche_number),
        facts=[*_request_facts(grant, req), (_("Why it is refused"), note)],
        consequences=[_("Nothing is paid; the officer who asked is told by email.")],
        cannot_undo=_("A refused request cannot be signed afterwards: the officer must record the payment again."),
        button=_("Yes, refuse the disbursement"),
        back=url_for("grants.disbursement_request", grant_id=grant.id, request_id=req.id))


def contribution(grant: Grant, entry: ContributionEntry, action: str, reason: str) -> Confirmation:
    """Rejecting a declared contribution, or reversing a verified one (the ledger is append-only)."""
    facts = [*_grant_facts(grant), (_("Contribution"), format_xof(entry.amount_xof)),
             (_("Value date"), format_date(entry.value_date, "medium")), (_("Reason"), reason)]
    back = url_for("grants.contribution", grant_id=grant.id, entry_id=entry.id)
    if action == "reject":
        return Confirmation(
            title=_("Reject the contribution of %(amount)s", amount=format_xof(entry.amount_xof)), facts=facts,
            consequences=[_("It will not count towards the match; the association is told, with the reason.")],
            cannot_undo=_("A rejected declaration stays rejected: the association must declare the money again."),
            button=_("Yes, reject the contribution"), back=back)
    return Confirmation(
        title=_("Reverse the verified contribution of %(amount)s", amount=format_xof(entry.amount_xof)), facts=facts,
        consequences=[_("A reversing entry is written in the ledger: the money no longer counts towards the match.")],
        cannot_undo=_("The ledger is append-only: the reversal stays in it; the association must declare the money "
                      "again."),
        button=_("Yes, reverse the contribution"), back=back)


def close_project(grant: Grant, message: str | None) -> Confirmation:
    """Closing a project's file (its grant completed, lapsed or cancelled)."""
    return Confirmation(
        title=_("Close the file of “%(project)s”", project=grant.project.title),
        facts=[*_grant_facts(grant), (_("Message"), message or "")],
        cannot_undo=_("A closed file is final: the project cannot be reopened, amended or funded again."),
        button=_("Yes, close the file"), back=url_for(GRANT_PAGE, grant_id=grant.id))


def close_lapsed(count: int, grants: list[Grant], back: str) -> Confirmation:
    """Lapsing the grants whose match never came (the first ones named, all counted)."""
    return Confirmation(
        title=ngettext("Lapse %(num)d grant whose contribution never came",
                       "Lapse %(num)d grants whose contribution never came", count),
        facts=[(_("Grants"), "\n".join(f"{g.project.reference} · {g.project.title} · {format_xof(g.amount_xof)}"
                                        for g in grants))],
        consequences=[_("Their money returns to the calls' envelopes; each project lapses and its association is "
                        "told by email.")],
        cannot_undo=_("A lapsed grant cannot be reopened."),
        button=_("Yes, lapse the grants"), back=back)
