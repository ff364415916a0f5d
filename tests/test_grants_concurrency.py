"""Rule 3 under concurrency: 20 approvals at once against one envelope never commit more than it holds.

Each thread has its own app context (its own session and connection), as concurrent requests would, on a
file SQLite database and, when configured, on PostgreSQL. The letters' rendering is replaced by a stub:
the renderer is serialised by its lock, which would space the threads out and hide the race this test
is about (the letters themselves are tested in test_grants_letters.py).
"""

from __future__ import annotations

import hashlib
import threading

import pytest
from sqlalchemy import func, select

from codev.accounts.models import User
from codev.calls.models import Call
from codev.core.workflow import TransitionRefused
from codev.extensions import db as _db
from codev.grants.award import approval
from codev.grants.award.approval import GrantError, approve_grant
from codev.grants.models import AwardLetter, Grant
from codev.projects.models import Project, ProjectStatus
from tests.factories import CallFactory, UserFactory
from tests.factories_grants import approved_project, approver

THREADS = 20
GRANT = 4_000_000


@pytest.fixture
def app_config(app_config):
    """A connection per thread: the default pool (5 + 10 overflow) would make the last threads wait."""
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 2, "max_overflow": 5}}


def _stub_letters(grant, project, user, *, version, signatory_name, signatory_title, languages=("fr", "en")):
    pdf = b"%PDF-1.4 stub " + project.reference.encode()
    return [AwardLetter(version=version, language=language, reference=f"{project.reference}-L{version}-{language}",
                        issued_by_id=user.id, signatory_name=signatory_name, signatory_title=signatory_title,
                        pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), content_sha256="0" * 64, status="valid")
            for language in languages]


def _approve_all(app, project_ids: list[int], approver_id: int) -> tuple[list[int], list[str]]:
    barrier = threading.Barrier(len(project_ids))
    granted, refused, lock = [], [], threading.Lock()

    def work(project_id: int) -> None:
        with app.app_context():
            try:
                project = _db.session.get(Project, project_id)
                user = _db.session.get(User, approver_id)
                barrier.wait(timeout=30)
                approve_grant(project, user, GRANT, user.name, "Ordonnatrice")
                _db.session.commit()
                with lock:
                    granted.append(project_id)
            except (GrantError, TransitionRefused) as exc:
                _db.session.rollback()
                with lock:
                    refused.append(str(exc))
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=work, args=(pid,)) for pid in project_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return granted, refused


@pytest.mark.backends
def test_twenty_concurrent_approvals_never_exceed_the_envelope(app, db, backend, monkeypatch):
    monkeypatch.setattr(approval, "build_letters", _stub_letters)
    # Room for 7 grants of 4 000 000 and a rest of 1 000 000 that fits none.
    call = CallFactory(open=True, envelope_xof=7 * GRANT + 1_000_000)
    projects = [approved_project(call=call) for _ in range(THREADS)]
    by = approver()
    UserFactory(officer=True)
    db.session.commit()
    ids, approver_id, call_id = [p.id for p in projects], by.id, call.id
    db.session.remove()

    granted, refused = _approve_all(app, ids, approver_id)

    assert len(granted) + len(refused) == THREADS
    assert len(granted) == 7
    assert all("1 000 000" in message.replace("\u202f", " ").replace("\xa0", " ") or "1,000,000" in message
               for message in refused), refused[:3]
    committed = db.session.scalar(select(Call.committed_xof).where(Call.id == call_id))
    total = db.session.scalar(select(func.coalesce(func.sum(Grant.amount_xof), 0)).where(Grant.call_id == call_id))
    assert committed == total == 7 * GRANT
    funded = db.session.scalar(select(func.count(Project.id)).where(Project.status == ProjectStatus.FUNDED))
    assert funded == 7
