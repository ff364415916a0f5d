"""The audit log viewer: who may read it, each filter, an object's whole history, pages, newest first, the CSV
(streamed, formula-looking cells made inert)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from codev.core.models import AuditEvent
from codev.core.timeutil import utcnow
from codev.extensions import db as _db
from tests.factories import UserFactory
from tests.factories_ledger import make_grant


def event(action, obj_type=None, obj_id=None, actor=None, at=None, after=None):
    e = AuditEvent(action=action, object_type=obj_type, object_id=obj_id, actor_id=actor.id if actor else None,
                   at=at or utcnow(), after=after, ip="192.0.2.7")
    _db.session.add(e)
    return e


@pytest.fixture
def log(db, users):
    alice = UserFactory(officer=True, name="Alice Akpéné", email="alice@ministere.example.tg")
    bob = UserFactory(approver=True, name="Bob Koffi", email="bob@ministere.example.tg")
    grant = make_grant()
    project = grant.project
    other = make_grant()
    day = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    event("project.submitted", "projects", project.id, alice, day)
    event("grant.approved", "grants", grant.id, bob, day + timedelta(days=1))
    event("contribution.declared", "contribution_entries", 9001, alice, day + timedelta(days=2))
    event("grant.approved", "grants", other.id, bob, day + timedelta(days=3))
    event("project.submitted", "projects", other.project_id, alice, day + timedelta(days=4),
          after={"note": "=HYPERLINK(\"http://evil.example\")"})
    db.session.flush()
    from codev.grants.models import ContributionEntry

    entry = ContributionEntry(grant_id=grant.id, kind="declared", source="association_cash", currency="XOF",
                              amount_minor=1000, rate_millionths=1_000_000, amount_xof=1000,
                              value_date=day.date(), created_by_id=alice.id)
    db.session.add(entry)
    db.session.flush()
    event("contribution.verified", "contribution_entries", entry.id, alice, day + timedelta(days=5))
    db.session.commit()
    return {"alice": alice, "bob": bob, "grant": grant, "project": project, "other": other, "entry": entry}


def actions(page: str) -> list[str]:
    return re.findall(r"<td[^>]*><code>([^<]+)</code></td>", page)


@pytest.mark.parametrize("who, status", [("admin", 200), ("officer", 200), ("approver", 403), ("evaluator", 403),
                                         ("association", 403)])
def test_who_may_read_the_log(client, users, login_as, who, status):
    login_as(users[who])
    assert client.get("/oversight/audit").status_code == status
    assert client.get("/oversight/audit.csv").status_code == status


def get(client, **args) -> str:
    return client.get("/oversight/audit", query_string=args).get_data(as_text=True)


@pytest.mark.backends
def test_filters(client, log, users, login_as, backend):
    login_as(users["officer"])
    everything = actions(get(client))
    assert everything[:6] == ["contribution.verified", "project.submitted", "grant.approved", "contribution.declared",
                              "grant.approved", "project.submitted"]  # newest first
    assert set(actions(get(client, person="bob@"))) == {"grant.approved"}
    assert len(actions(get(client, person="akpéné"))) == 4  # a part of the name, any case
    assert actions(get(client, object_type="grants", object_id=str(log["grant"].id))) == ["grant.approved"]
    assert actions(get(client, action="contribution.")) == ["contribution.verified", "contribution.declared"]
    assert actions(get(client, start="2026-03-11", end="2026-03-12")) == ["contribution.declared", "grant.approved"]
    assert actions(get(client, object_type="projects")) == ["project.submitted", "project.submitted"]


@pytest.mark.backends
def test_an_objects_whole_history(client, log, users, login_as, backend):
    """A project's history holds its grant's events and its grant's ledger entries; not another project's."""
    login_as(users["admin"])
    project = log["project"]
    page = get(client, object_type="projects", object_id=str(project.id), related="y")
    assert actions(page) == ["contribution.verified", "grant.approved", "project.submitted"]
    grant = get(client, object_type="grants", object_id=str(log["grant"].id), related="y")
    assert actions(grant) == ["contribution.verified", "grant.approved"]
    alone = get(client, object_type="projects", object_id=str(project.id))
    assert actions(alone) == ["project.submitted"]


def test_odd_filters_are_errors_and_filter_nothing(client, log, users, login_as):
    login_as(users["officer"])
    page = get(client, object_id="12abc", start="yesterday", object_type="<script>")
    assert len(actions(page)) == 6 and "<script>" not in page


def test_pages_newest_first(client, db, users, login_as, app):
    login_as(users["officer"])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(app.config["PAGE_SIZE"] + 3):
        event(f"test.n{i:03d}", "users", users["officer"].id, users["officer"], start + timedelta(minutes=i))
    db.session.commit()
    first = actions(get(client, action="test."))
    last = actions(get(client, action="test.", page="2"))
    assert first[0] == f"test.n{app.config['PAGE_SIZE'] + 2:03d}" and last[-1] == "test.n000"
    assert len(first) == app.config["PAGE_SIZE"] and len(last) == 3


def test_csv_holds_the_filtered_events_with_inert_cells(client, log, users, login_as):
    login_as(users["officer"])
    response = client.get("/oversight/audit.csv", query_string={"person": "alice"})
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 1 + 4
    assert {r[2] for r in rows[1:]} == {"project.submitted", "contribution.declared", "contribution.verified"}
    assert all(r[3] == "alice@ministere.example.tg" for r in rows[1:])
    after = [r[9] for r in rows[1:] if r[9]]
    assert after and all(not cell.startswith("=") for cell in after)
    formula = next(r for r in rows[1:] if "HYPERLINK" in r[9])
    assert formula[9].startswith("{")  # a JSON object: not a formula


def test_csv_neutralises_a_cell_that_starts_like_a_formula(client, db, users, login_as):
    login_as(users["admin"])
    event("=cmd|' /C calc'!A0", None, None, users["admin"])
    db.session.commit()
    body = client.get("/oversight/audit.csv").get_data(as_text=True)
    assert "'=cmd" in body


def test_project_and_grant_pages_link_to_their_history(client, log, users, login_as):
    login_as(users["officer"])
    project, grant = log["project"], log["grant"]
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert f"/oversight/audit?object_type=projects&amp;object_id={project.id}&amp;related=y" in page
    page = client.get(f"/grants/{grant.id}").get_data(as_text=True)
    assert f"/oversight/audit?object_type=grants&amp;object_id={grant.id}&amp;related=y" in page
    login_as(users["approver"])  # who may not read the log sees no link
    assert "/oversight/audit?" not in client.get(f"/grants/{grant.id}").get_data(as_text=True)
    assert 'href="/oversight/audit"' not in client.get("/oversight/dashboard").get_data(as_text=True)
