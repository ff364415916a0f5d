"""Posting an irreversible action as its confirm step does (codev.core.confirm): the same fields and ``confirm``.

Tests that are about something else than the confirm step post the confirmed form directly; the confirm step
itself is tested in tests/test_confirm_actions.py.
"""

from __future__ import annotations

from typing import Any

CONFIRM = {"confirm": "yes"}


def confirmed(data: dict[str, Any] | None = None) -> dict[str, Any]:
    """``data`` with the field the confirmation page's "Yes, …" button adds."""
    return {**(data or {}), **CONFIRM}
