"""The reserve list: money that returns to a call's envelope is offered to the next qualified project.

The closed committee session's frozen ranking (``ReserveEntry``) is read in rank order; the first
project still qualified or deferred, without a grant, whose amount fits in what the envelope now has
left is offered to the approvers.
"""

from __future__ import annotations

from typing import Any


def money_returned(call_id: int, amount: int, actor: Any) -> None:
    """Money went back to the call's envelope (lapse, cancellation, reduction): audit it, tell approvers.

    Called after ``release_envelope`` succeeded, inside the caller's unit of work; flushes, never commits.
    """
    return None
