"""The grants' tables, read by the one engine (:mod:`codev.core.workflow`): the grant, its award letters,
its reports and the disbursements that wait for a second signature.

The project's own rows (approved → funded → completed, funded → lapsed → closed) are in the project
table (:mod:`codev.projects.workflow`); the services here fire both.

- **Grant**: ``awarded → active`` at the first disbursement, ``active → completed`` when the final
  report is accepted and every tranche is paid; ``awarded → lapsed`` when the match never came (the
  nightly job, or an officer's button); ``awarded | active → cancelled`` by an approver, with the
  reason.
- **Letter**: ``valid → superseded`` by a new version (re-issue, amendment), ``valid → revoked`` with
  the reason (by an approver; a cancellation revokes them too).
- **Report**: ``submitted → accepted | returned`` by an officer.
- **Disbursement request**: ``pending → approved | refused`` by an approver other than the requester.
"""

from __future__ import annotations

from codev.accounts.models import Role
from codev.core.i18n import lazy_gettext as _l
from codev.core.workflow import MESSAGE_REQUIRED, SYSTEM_ROLE, Workflow, register, row
from codev.grants.models import GrantStatus, LetterStatus, ReportStatus, RequestStatus

G, L, R, Q = GrantStatus, LetterStatus, ReportStatus, RequestStatus
OFFICER, APPROVER = Role.OFFICER, Role.APPROVER

GRANT = Workflow(
    name="grant", states=GrantStatus, initial=frozenset({G.AWARDED}),
    transitions=(
        row("active", {G.AWARDED}, G.ACTIVE, {OFFICER, APPROVER}, _l("First tranche paid")),
        row("completed", {G.ACTIVE}, G.COMPLETED, {OFFICER, APPROVER}, _l("Complete the grant")),
        row("lapsed", {G.AWARDED}, G.LAPSED, {SYSTEM_ROLE, OFFICER}, _l("Lapse the grant")),
        row("cancelled", {G.AWARDED, G.ACTIVE}, G.CANCELLED, {APPROVER}, _l("Cancel the grant"),
            message=MESSAGE_REQUIRED),
    ),
)

LETTER = Workflow(
    name="letter", states=LetterStatus, initial=frozenset({L.VALID}),
    transitions=(
        row("superseded", {L.VALID}, L.SUPERSEDED, {OFFICER, APPROVER}, _l("Issue a new version"),
            message=MESSAGE_REQUIRED),
        row("revoked", {L.VALID}, L.REVOKED, {APPROVER}, _l("Revoke the letter"), message=MESSAGE_REQUIRED),
    ),
)

REPORT = Workflow(
    name="report", states=ReportStatus, initial=frozenset({R.SUBMITTED}),
    transitions=(
        row("accepted", {R.SUBMITTED}, R.ACCEPTED, {OFFICER}, _l("Accept the report")),
        row("returned", {R.SUBMITTED}, R.RETURNED, {OFFICER}, _l("Return the report"), message=MESSAGE_REQUIRED),
    ),
)

DISBURSEMENT_REQUEST = Workflow(
    name="disbursement", states=RequestStatus, initial=frozenset({Q.PENDING}),
    transitions=(
        row("approved", {Q.PENDING}, Q.APPROVED, {APPROVER}, _l("Sign and pay"),
            guard=lambda request, user: request.requested_by_id != user.id),
        row("refused", {Q.PENDING}, Q.REFUSED, {APPROVER}, _l("Refuse"), message=MESSAGE_REQUIRED,
            guard=lambda request, user: request.requested_by_id != user.id),
    ),
)

register(GRANT, LETTER, REPORT, DISBURSEMENT_REQUEST)
