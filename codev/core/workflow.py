"""The one workflow engine: every status of the programme changes here, read from a table.

A :class:`Workflow` is data: its states, the states an object is created in, and its transitions —
each a :class:`Transition` naming where from, where to, the roles that may fire it, the checks it runs
(each returns the problems in words, empty when all is well) and the effects that follow. Each step of
the programme declares its tables in one place in its own package (``projects/workflow.py``,
``calls/workflow.py``, ``grants/workflows.py``, ``reviews/workflows.py``, ``accounts/workflows.py``);
:meth:`Workflow.fire` is the only code in the programme that assigns a status. It checks the table,
the roles, the message and the checks; runs the effects; sets the status; writes the object's history
(when the workflow keeps one besides the audit log) and the audit event; and flushes. The caller's
unit of work commits.

Jobs that run without a person (the lapse of grants at night) fire as :data:`SYSTEM`, whose role is
:data:`SYSTEM_ROLE`; only transitions that list that role accept it.

A later step of the programme may attach its own checks and effects to a row of an earlier step's
table — explicitly, by name, when the app is built (:meth:`Workflow.attach`) — so that the table stays
in one place while each rule stays in the step that owns it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.unit_of_work import DomainError
from codev.extensions import db

MESSAGE_NONE, MESSAGE_OPTIONAL, MESSAGE_REQUIRED = "none", "optional", "required"
SYSTEM_ROLE = "system"

Check = Callable[[Any], list[str]]
Effect = Callable[[Any], None]


class TransitionRefused(DomainError):
    """A refused transition; ``problems`` lists each failed check in words."""


class _System:
    """The actor of scheduled jobs: no person, the system role."""

    id = None
    role = SYSTEM_ROLE
    is_authenticated = True
    association_id = None
    name = "codev"


SYSTEM = _System()


@dataclass(frozen=True)
class Transition:
    name: str  # the action written to the history and the audit log
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    label: Any = None  # lazy string: the button
    refused: Any = _l("This change is not possible yet:")  # lazy string: heads the list of problems
    message: str = MESSAGE_NONE  # whether the person must (or may) say why
    checks: tuple[Check, ...] = ()
    effects: tuple[Effect, ...] = ()
    guard: Callable[[Any, Any], bool] | None = None  # (obj, user) → whether this person may, beyond the role

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", frozenset(str(s) for s in self.sources))
        object.__setattr__(self, "roles", frozenset(str(r) for r in self.roles))


def row(name: str, sources: Iterable[Any], target: Any, roles: Iterable[Any], label: Any = None,
        **options: Any) -> Transition:
    """A :class:`Transition`, written as one line of a table."""
    return Transition(name, frozenset(sources), str(target), frozenset(roles), label, **options)


@dataclass
class Workflow:
    """One object's life: its states, where it is born, its transitions, and what keeps its history."""

    name: str  # the audit prefix: "project", "grant", "letter"…
    states: type  # the StrEnum of statuses; its members' ``label`` names them for people
    initial: frozenset[str]  # the states an object may be created in
    transitions: tuple[Transition, ...]
    attribute: str = "status"
    history: Callable[..., Any] | None = None  # (obj, transition, source, user, message) → a history row
    audit_extra: Callable[[Any], dict] | None = None  # more of the object to put in the audit event
    stamp: Callable[[Any], None] | None = None  # e.g. updated_at = now
    stale: Any = _l("Someone else changed this meanwhile. Reload the page and try again.")
    _attached: dict[str, tuple[tuple[Check, ...], tuple[Effect, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.initial = frozenset(str(s) for s in self.initial)
        seen: set[tuple[str, str]] = set()
        for transition in self.transitions:
            for source in transition.sources:
                if (source, transition.target) in seen:
                    raise ValueError(f"{self.name}: {source} → {transition.target} is in the table twice")
                seen.add((source, transition.target))
        names = {str(s) for s in self.states}
        used = set(self.initial) | {t.target for t in self.transitions}
        used |= {s for t in self.transitions for s in t.sources}
        if used - names:
            raise ValueError(f"{self.name}: unknown states {sorted(used - names)}")

    # --- reading the table ---------------------------------------------------------------------

    def by_name(self, name: str) -> Transition:
        found = next((t for t in self.transitions if t.name == name), None)
        if found is None:
            raise KeyError(f"{self.name}: no row is called {name!r}")
        return found

    def find(self, source: Any, target: Any) -> Transition | None:
        source, target = str(source), str(target)
        return next((t for t in self.transitions if source in t.sources and t.target == target), None)

    def reachable(self) -> set[str]:
        """Every state an object can be in: the initial ones and every transition's target."""
        return set(self.initial) | {t.target for t in self.transitions}

    def attach(self, name: str, *, checks: tuple[Check, ...] = (), effects: tuple[Effect, ...] = ()) -> None:
        """A later step of the programme adds its own checks and effects to the row ``name``."""
        self.by_name(name)  # refuses an unknown row
        old_checks, old_effects = self._attached.get(name, ((), ()))
        self._attached[name] = (
            old_checks + tuple(c for c in checks if c not in old_checks),
            old_effects + tuple(e for e in effects if e not in old_effects),
        )

    def complete(self, transition: Transition) -> Transition:
        """The row with what later steps attached to it."""
        checks, effects = self._attached.get(transition.name, ((), ()))
        if not checks and not effects:
            return transition
        return replace(transition, checks=transition.checks + checks, effects=transition.effects + effects)

    def status_of(self, obj: Any) -> str:
        return str(getattr(obj, self.attribute))

    def label_of(self, state: Any) -> str:
        try:
            return str(self.states(str(state)).label)
        except (ValueError, AttributeError):
            return str(state)

    # --- who may do what -------------------------------------------------------------------------

    def may_fire(self, transition: Transition, obj: Any, user: Any) -> bool:
        """Whether ``user`` holds a role (and passes the guard) that lets them fire ``transition``."""
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if str(getattr(user, "role", "")) not in transition.roles:
            return False
        return transition.guard is None or bool(transition.guard(obj, user))

    def available(self, obj: Any, user: Any) -> list[Transition]:
        """The transitions ``user`` may try from the object's current status (checks not run)."""
        status = self.status_of(obj)
        return [t for t in self.transitions if status in t.sources and self.may_fire(t, obj, user)]

    def problems_for(self, obj: Any, target: Any) -> list[str]:
        """What stands in the way of moving ``obj`` to ``target`` (empty when nothing does)."""
        transition = self.find(self.status_of(obj), target)
        if transition is None:
            return [_("This change is not possible in the present state.")]
        transition = self.complete(transition)
        return [problem for check in transition.checks for problem in check(obj)]

    def refusal(self, obj: Any, target: Any, user: Any) -> tuple[str | None, list[str]]:
        """(the reason ``user`` may not move ``obj`` to ``target``, the failed checks) — (None, []) if they may."""
        source = self.status_of(obj)
        transition = self.find(source, target)
        if transition is None:
            return _("From “%(state)s” it cannot become “%(target)s”.",
                     state=self.label_of(source), target=self.label_of(target)), []
        if not self.may_fire(transition, obj, user):
            return _("You are not allowed to make this change."), []
        transition = self.complete(transition)
        problems = [problem for check in transition.checks for problem in check(obj)]
        if problems:
            return str(transition.refused), problems
        return None, []

    def can(self, obj: Any, target: Any, user: Any) -> tuple[bool, str]:
        """``(allowed, reason)``: whether ``user`` may move ``obj`` to ``target`` now, and if not why."""
        reason, problems = self.refusal(obj, target, user)
        if reason is None:
            return True, ""
        return False, " ".join([reason, *problems])

    # --- the one place a status changes ------------------------------------------------------------

    def fire(self, obj: Any, target: Any, user: Any, message: str | None = None, *,
             audit_after: dict | None = None) -> Any:
        """Move ``obj`` to ``target`` if the table allows it; returns the history row (or the transition).

        Raises :class:`TransitionRefused` (every problem listed) when the move is not allowed. Writes
        the history entry and the audit event and flushes; the caller's unit of work commits.
        """
        source = self.status_of(obj)
        reason, problems = self.refusal(obj, target, user)
        if reason is not None:
            raise TransitionRefused(reason, problems)
        transition = self.complete(self.find(source, target))
        message = (message or "").strip() or None
        if transition.message == MESSAGE_REQUIRED and not message:
            raise TransitionRefused(_("Write a message explaining the change."), field="message")
        for effect in transition.effects:
            effect(obj)
        setattr(obj, self.attribute, self.states(transition.target))
        if self.stamp is not None:
            self.stamp(obj)
        entry = None
        if self.history is not None:
            entry = self.history(obj, transition, source, user, message)
        after = {"status": transition.target, **(self.audit_extra(obj) if self.audit_extra else {})}
        if message and transition.message != MESSAGE_NONE:
            after["message"] = message
        after.update(audit_after or {})
        audit.record(f"{self.name}.{transition.name}", obj, actor=user if getattr(user, "id", None) else None,
                     before={"status": source}, after=after)
        try:
            db.session.flush()
        except StaleDataError as exc:  # another person changed the object between loading and now
            raise TransitionRefused(str(self.stale)) from exc
        return entry if entry is not None else transition


# Every workflow of the programme, registered by its step when the app is built (see ``register``).
WORKFLOWS: dict[str, Workflow] = {}


def register(*workflows: Workflow) -> None:
    """Make the workflows known to the engine (the pages that list them, the class tests)."""
    for workflow in workflows:
        existing = WORKFLOWS.get(workflow.name)
        if existing is not None and existing is not workflow:
            raise ValueError(f"two workflows are called {workflow.name}")
        WORKFLOWS[workflow.name] = workflow
