"""The one workflow engine's own rules, on a tiny table of its own: roles, guards, messages, checks,
effects, history, audit, the system actor and attached rules (the programme's tables are pinned in
tests/test_workflow_engine.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from codev.core.models import AuditEvent
from codev.core.workflow import (
    MESSAGE_OPTIONAL,
    MESSAGE_REQUIRED,
    SYSTEM,
    SYSTEM_ROLE,
    TransitionRefused,
    Workflow,
    row,
)

# --- the engine, on a table of its own ------------------------------------------------------------


class Colour(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"

    @property
    def label(self) -> str:
        return {"red": "Red", "amber": "Amber", "green": "Green"}[self.value]


@dataclass
class Lamp:
    """A tiny object with a status (the audit log reads ``__tablename__`` and ``id``)."""

    __tablename__ = "lamps"
    id: int = 7
    status: str = Colour.RED
    ready: bool = True
    owner_id: int | None = None
    log: list[str] = field(default_factory=list)


@dataclass
class Person:
    role: str
    id: int | None = None
    is_authenticated: bool = True


def lamp_ready(lamp: Lamp) -> list[str]:
    return [] if lamp.ready else ["The lamp is not ready.", "Plug it in."]


def table(**options: Any) -> Workflow:
    history = options.pop("history", None)
    return Workflow(
        name="lamp", states=Colour, initial=frozenset({Colour.RED}),
        transitions=(
            row("warm", {Colour.RED}, Colour.AMBER, {"officer", SYSTEM_ROLE}, "Warm up",
                checks=(lamp_ready,), effects=(lambda lamp: lamp.log.append("warmed"),)),
            row("go", {Colour.AMBER}, Colour.GREEN, {"officer"}, "Go", message=MESSAGE_REQUIRED,
                guard=lambda lamp, user: lamp.owner_id in (None, user.id)),
            row("stop", {Colour.AMBER, Colour.GREEN}, Colour.RED, {"approver"}, "Stop", message=MESSAGE_OPTIONAL),
        ),
        history=history,
        audit_extra=lambda lamp: {"ready": lamp.ready},
        **options,
    )


def events(db, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.object_type == "lamps").order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


@pytest.fixture
def english(app):
    """The engine's own words, in English (the programme speaks French by default)."""
    with force_locale("en"):
        yield


@pytest.fixture
def officer(users, english):
    return users["officer"]


def test_fire_runs_the_effects_sets_the_status_and_writes_the_audit_event(db, officer):
    lamp, lamps = Lamp(), table()
    assert lamps.fire(lamp, Colour.AMBER, officer).name == "warm"
    assert lamp.status == Colour.AMBER and lamp.log == ["warmed"]
    [event] = events(db)
    assert event.action == "lamp.warm" and event.object_id == 7 and event.actor_id == officer.id
    assert event.before == {"status": "red"} and event.after == {"status": "amber", "ready": True}


def test_a_role_the_row_does_not_name_is_refused(db, users, english):
    lamp = Lamp()
    with pytest.raises(TransitionRefused) as refused:
        table().fire(lamp, Colour.AMBER, users["approver"])
    assert str(refused.value) == "You are not allowed to make this change."
    assert lamp.status == Colour.RED and lamp.log == [] and events(db) == []
    assert table().available(lamp, users["approver"]) == []
    assert [t.name for t in table().available(lamp, users["officer"])] == ["warm"]
    assert table().can(lamp, Colour.AMBER, Person("officer", is_authenticated=False))[0] is False


def test_the_guard_refuses_a_person_the_role_alone_would_let_in(db, officer):
    lamp = Lamp(status=Colour.AMBER, owner_id=officer.id + 1)
    allowed, reason = table().can(lamp, Colour.GREEN, officer)
    assert not allowed and reason == "You are not allowed to make this change."
    with pytest.raises(TransitionRefused):
        table().fire(lamp, Colour.GREEN, officer, "Because.")
    lamp.owner_id = officer.id
    table().fire(lamp, Colour.GREEN, officer, "Because.")
    assert lamp.status == Colour.GREEN


def test_a_move_the_table_does_not_have_is_refused(db, officer):
    lamp = Lamp()
    with pytest.raises(TransitionRefused) as refused:
        table().fire(lamp, Colour.GREEN, officer, "Skip amber.")
    assert str(refused.value) == "From “Red” it cannot become “Green”."
    assert table().problems_for(lamp, Colour.GREEN) == ["This change is not possible in the present state."]
    assert lamp.status == Colour.RED and events(db) == []


def test_a_required_message_must_be_written(db, officer):
    lamp = Lamp(status=Colour.AMBER)
    for message in (None, "", "   "):
        with pytest.raises(TransitionRefused) as refused:
            table().fire(lamp, Colour.GREEN, officer, message)
        assert refused.value.field == "message"
        assert str(refused.value) == "Write a message explaining the change."
    assert lamp.status == Colour.AMBER and events(db) == []
    table().fire(lamp, Colour.GREEN, officer, "  All clear.  ")
    [event] = events(db)
    assert event.after["message"] == "All clear."


def test_a_failing_check_lists_its_problems_and_changes_nothing(db, officer):
    lamp = Lamp(ready=False)
    assert table().problems_for(lamp, Colour.AMBER) == ["The lamp is not ready.", "Plug it in."]
    allowed, reason = table().can(lamp, Colour.AMBER, officer)
    assert not allowed and reason == "This change is not possible yet: The lamp is not ready. Plug it in."
    with pytest.raises(TransitionRefused) as refused:
        table().fire(lamp, Colour.AMBER, officer)
    assert refused.value.problems == ["The lamp is not ready.", "Plug it in."]
    assert refused.value.sentences()[0] == "This change is not possible yet:"
    assert lamp.status == Colour.RED and lamp.log == [] and events(db) == []


def test_the_history_hook_is_called_and_its_row_returned(db, users, english):
    calls = []

    def history(obj, transition, source, user, message):
        calls.append((obj, transition.name, source, user, message))
        return "the history row"

    lamp, approver = Lamp(status=Colour.GREEN), users["approver"]
    assert table(history=history).fire(lamp, Colour.RED, approver, "Night.") == "the history row"
    assert calls == [(lamp, "stop", "green", approver, "Night.")]
    [event] = events(db, "lamp.stop")
    assert event.after == {"status": "red", "ready": True, "message": "Night."}


def test_stamp_and_extra_audit_facts(db, officer):
    lamp = Lamp()
    table(stamp=lambda lamp: lamp.log.append("stamped")).fire(lamp, Colour.AMBER, officer,
                                                               audit_after={"why": "test"})
    assert lamp.log == ["warmed", "stamped"]
    assert events(db)[0].after == {"status": "amber", "ready": True, "why": "test"}


def test_the_system_fires_only_the_rows_that_name_its_role(db, english):
    lamp = Lamp()
    table().fire(lamp, Colour.AMBER, SYSTEM)
    assert lamp.status == Colour.AMBER
    assert events(db)[0].actor_id is None
    with pytest.raises(TransitionRefused):
        table().fire(lamp, Colour.GREEN, SYSTEM, "At night.")


def test_attach_adds_a_later_steps_checks_and_effects_to_a_row(db, officer):
    lamps, seen = table(), []

    def not_at_night(lamp: Lamp) -> list[str]:
        return ["Not at night."] if "night" in lamp.log else []

    lamps.attach("warm", checks=(not_at_night,), effects=(lambda lamp: seen.append(lamp.id),))
    lamps.attach("warm", checks=(not_at_night,))  # the same check is attached once
    assert lamps.complete(lamps.by_name("warm")).checks == (lamp_ready, not_at_night)
    night = Lamp(log=["night"])
    assert lamps.problems_for(night, Colour.AMBER) == ["Not at night."]
    with pytest.raises(TransitionRefused):
        lamps.fire(night, Colour.AMBER, officer)
    lamp = Lamp()
    lamps.fire(lamp, Colour.AMBER, officer)
    assert lamp.log == ["warmed"] and seen == [7]
    assert table().problems_for(night, Colour.AMBER) == []  # another table is untouched
    with pytest.raises(KeyError, match="no row is called .fly."):
        lamps.attach("fly", checks=(not_at_night,))


def test_a_table_with_a_move_twice_or_an_unknown_state_is_refused():
    twice = (row("warm", {Colour.RED}, Colour.AMBER, {"officer"}),
             row("heat", {Colour.RED, Colour.GREEN}, Colour.AMBER, {"approver"}))
    with pytest.raises(ValueError, match="red → amber is in the table twice"):
        Workflow(name="lamp", states=Colour, initial=frozenset({Colour.RED}), transitions=twice)
    with pytest.raises(ValueError, match="unknown states"):
        Workflow(name="lamp", states=Colour, initial=frozenset({Colour.RED}),
                 transitions=(row("blue", {Colour.RED}, "blue", {"officer"}),))
