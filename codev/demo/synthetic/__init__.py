"""A synthetic programme at scale (``flask --app codev seed-synthetic --projects N``), for benchmarks.

Years of calls (archived, decided, under evaluation, closed, open, draft) and their projects in realistic
proportions: about one association per ten projects, two evaluations per reviewed project, about 15 % of
the projects funded with their counterpart ledger, disbursements, reports and letters, committee
sessions with their decisions and frozen rankings, and an audit event for every step.

Speed is the point (50 000 projects in well under two minutes on SQLite), so nothing here goes through
the services or the ORM one object at a time: every row is written by bulk ``INSERT`` statements
(SQLAlchemy Core, lists of dicts, ``executemany`` in chunks) with ids given here, in one transaction that
the command commits. What the services would check is therefore built in instead, and a test reads the
result back with the app's own rules (``tests/test_synthetic.py``):

- every status is a state of its workflow, reached by a path of rows of its table
  (:func:`walk` refuses a step the table does not have, and the project's history rows *are* that path);
- every financing plan balances and passes :func:`codev.calls.rules.check_plan` (built with the same
  integer helpers of :mod:`codev.core.money`);
- scores are consolidated with :func:`codev.reviews.scoring.consolidate` itself;
- per call, committed = Σ grants − Σ released ≤ envelope (:func:`codev.core.money.commit_envelope`'s
  invariant; the calls' envelopes and committed sums are set once at the end);
- rule 4 holds for every grant: disbursed (and awaiting a second signature) ≤ min(G, ratio × V);
- the ledgers, disbursements and audit log are only ever inserted into (they are append-only).

This is the one module besides the engine that writes statuses: it writes rows already in their final
state, in bulk, because replaying 50 000 lives through ``Workflow.fire`` would take an hour. Letters carry
a small placeholder PDF with their real content fingerprint; ``flask --app codev rerender-letters``
renders them for real. Projects carry no uploaded files (the synthetic calls require none), so no file
is written to the upload folder. Never in production (the command refuses).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from codev.accounts.passwords import hash_password
from codev.calls.models import Call
from codev.core.geography import communes
from codev.core.models import AuditEvent
from codev.core.sectors import SECTORS
from codev.core.timeutil import utcnow
from codev.core.workflow import Workflow
from codev.demo.synthetic.grants import Grants
from codev.demo.synthetic.people import People
from codev.demo.synthetic.projects import Projects
from codev.demo.synthetic.shape import SENTENCES, SYNTHETIC_PASSWORD, CallPlan, Summary, Writer
from codev.extensions import db
from codev.projects.models import ReferenceCounter
from codev.reviews.models import CommitteeSession

__all__ = ["SYNTHETIC_PASSWORD", "Summary", "Synthetic", "seed_synthetic"]


class Synthetic(People, Projects, Grants):
    """One synthetic programme, generated in bulk (see the module docstring)."""

    def __init__(self, projects: int, associations: int | None, seed: int, progress: Callable[[int], None]):
        self.n = max(1, projects)
        self.m = associations if associations else max(3, self.n // 10)
        self.rng = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
        self.seed = seed
        self.progress = progress
        self.now = utcnow().replace(microsecond=0)
        self.today = self.now.date()
        self.w = Writer(db.session.connection())
        self.password_hash = hash_password(SYNTHETIC_PASSWORD)
        self.places = [c for c in communes()]
        self.sectors = [s.code for s in SECTORS]
        self.calls: list[CallPlan] = []
        self.associations: list[tuple[int, int, str, str]] = []  # (id, member id, locale, display name)
        self.refs: dict[int, int] = {}  # year → last number
        self.grants = 0
        self.pending_made = False  # one disbursement at least waits for a second signature
        self.key = 0

    # --- helpers ------------------------------------------------------------------------------

    def uid(self) -> str:
        self.key += 1
        return f"syn{self.seed}-{self.w.next_id[AuditEvent.__table__]}-{self.key}"

    def audit(self, action: str, object_type: str | None, object_id: int | None, at: datetime,
              actor: int | None, before: dict | None = None, after: dict | None = None) -> None:
        self.w.add(AuditEvent, at=at, actor_id=actor, action=action, object_type=object_type,
                   object_id=object_id, before=before, after=after, ip=None)

    def moved(self, workflow: Workflow, moves: dict, obj_type: str, obj_id: int, path: list[str],
              times: list[datetime], actors: list[int | None], extra: dict | None = None) -> None:
        """One audit event per step of ``path`` (each a row of ``workflow``'s table)."""
        for (source, target), at, actor in zip(zip(path, path[1:], strict=False), times, actors, strict=False):
            name = moves.get((source, target))
            if name is None:
                raise ValueError(f"{workflow.name}: no row {source} → {target}")
            self.audit(f"{workflow.name}.{name}", obj_type, obj_id, at, actor, {"status": source},
                       {"status": target, **(extra or {})})

    def officer(self) -> int:
        return self.rng.choice(self.staff.officers)

    def approver(self) -> int:
        return self.rng.choice(self.staff.approvers)

    def later(self, at: datetime, low_days: float, high_days: float) -> datetime:
        """A moment between ``low_days`` and ``high_days`` after ``at``, never in the future."""
        moment = at + timedelta(seconds=self.rng.randint(int(low_days * 86400), int(high_days * 86400)))
        return min(moment, self.now - timedelta(minutes=5))

    def text(self, place: str, sentences: int) -> str:
        return " ".join(self.rng.choice(SENTENCES).format(place=place) for _ in range(sentences))

    # --- the envelopes and the counters -------------------------------------------------------

    def finish(self) -> None:
        """Each call's envelope above what it committed; the sessions' frozen envelope; the reference counters."""
        connection = self.w.connection
        calls = Call.__table__
        for plan in self.calls:
            committed = plan.granted - plan.released
            room = max(50_000_000, committed // 5)
            envelope = committed + room
            if plan.status in ("open", "closed", "draft"):
                envelope = max(envelope, 500_000_000 + 100_000 * plan.projects)
            connection.execute(update(calls).where(calls.c.id == plan.id)
                               .values(envelope_xof=envelope, committed_xof=committed))
            if plan.session_id is not None and plan.session_status == "closed":
                sessions = CommitteeSession.__table__
                connection.execute(update(sessions).where(sessions.c.id == plan.session_id)
                                   .values(remaining_at_close_xof=envelope))
        counters = ReferenceCounter.__table__
        for year, number in self.refs.items():
            changed = connection.execute(update(counters).where(counters.c.year == year)
                                         .values(last_number=number)).rowcount
            if not changed:
                connection.execute(insert(counters).values(year=year, last_number=number))

    def run(self) -> Summary:
        self.refs = {year: number for year, number in self.w.connection.execute(
            select(ReferenceCounter.__table__.c.year, ReferenceCounter.__table__.c.last_number))}
        self.seed_people()
        self.seed_calls()
        self.seed_projects()
        self.finish()
        self.w.flush()
        self.audit("demo.synthetic", None, None, self.now, None, None, {"projects": self.n, "seed": self.seed})
        self.w.flush()
        self.w.reset_sequences()  # after the last rows written with ids of ours
        counts = dict(self.w.counts)
        return Summary(self.n, len(self.associations), len(self.calls), self.grants, sum(counts.values()), counts)



def seed_synthetic(projects: int, associations: int | None = None, seed: int = 1,
                   progress: Callable[[int], None] | None = None) -> Summary:
    """Add a synthetic programme of ``projects`` projects; flushed in the session's transaction, not committed."""
    return Synthetic(projects, associations, seed, progress or (lambda _n: None)).run()


