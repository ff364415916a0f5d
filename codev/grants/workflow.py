"""The grants' row of the project workflow: approved → funded, fired by the approver's approval.

The approval itself (amount, envelope, rules snapshot, letters) is :func:`codev.grants.approval.approve_grant`;
this row only says who may move the project and from where.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from codev.accounts.models import Role
from codev.projects.models import ProjectStatus
from codev.projects.workflow import Transition, register

FUNDED = Transition(
    "funded",
    frozenset({ProjectStatus.APPROVED}),
    ProjectStatus.FUNDED,
    frozenset({Role.APPROVER}),
    _l("Approve the grant"),
    _l("The grant cannot be approved:"),
)

register(FUNDED)
