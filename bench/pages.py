"""The pages each role uses, and their server time and SQL statements through the Flask test client.

Every page is asked for as its person would: signed in through the session cookie (the visitor not at
all). The ids in the addresses are read from the database (a funded project, its grant, the session
under way with its big ranking, a closed one, a submitted project to screen…), so the same list runs on
any synthetic programme. A page whose route does not exist in this version of the app is reported as
absent, not measured.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

from sqlalchemy import event, func, select, text


@dataclass
class Page:
    role: str
    name: str
    url: str


@dataclass
class Measure:
    page: Page
    status: int = 0
    runs: list[float] = field(default_factory=list)  # seconds
    statements: int = 0
    statements_varied: bool = False
    html_bytes: int = 0
    absent: bool = False

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.runs) * 1000 if self.runs else 0.0

    @property
    def p95_ms(self) -> float:
        if not self.runs:
            return 0.0
        ordered = sorted(self.runs)
        return ordered[min(len(ordered) - 1, max(0, round(0.95 * (len(ordered) - 1))))] * 1000


def _one(db, sql: str, **params):
    return db.session.execute(text(sql), params).scalar()


def world(db) -> dict:
    """The ids the pages need, read from the synthetic programme."""
    w = {}
    w["officer"] = _one(db, "SELECT id FROM users WHERE role = 'officer' ORDER BY id LIMIT 1")
    w["approver"] = _one(db, "SELECT id FROM users WHERE role = 'approver' ORDER BY id LIMIT 1")
    w["admin"] = _one(db, "SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1")
    w["grant"] = _one(db, "SELECT g.id FROM grants g WHERE g.status = 'active' ORDER BY g.id LIMIT 1")
    w["project"] = _one(db, "SELECT project_id FROM grants WHERE id = :g", g=w["grant"])
    w["grant_call"] = _one(db, "SELECT call_id FROM grants WHERE id = :g", g=w["grant"])
    w["association"] = _one(db, "SELECT association_id FROM projects WHERE id = :p", p=w["project"])
    w["member"] = _one(db, "SELECT id FROM users WHERE association_id = :a ORDER BY id LIMIT 1", a=w["association"])
    w["assignment"] = _one(db, "SELECT id FROM assignments WHERE status = 'accepted' ORDER BY id LIMIT 1")
    w["evaluator"] = _one(db, "SELECT evaluator_id FROM assignments WHERE id = :a", a=w["assignment"])
    w["open_session"] = _one(db, "SELECT id FROM committee_sessions WHERE status = 'open' ORDER BY id LIMIT 1")
    w["closed_session"] = _one(db, "SELECT id FROM committee_sessions WHERE status = 'closed' "
                                   "ORDER BY id DESC LIMIT 1")
    w["evaluating_call"] = _one(db, "SELECT call_id FROM committee_sessions WHERE id = :s", s=w["open_session"])
    w["open_call"] = _one(db, "SELECT id FROM calls WHERE status = 'open' ORDER BY id LIMIT 1")
    w["submitted"] = _one(db, "SELECT id FROM projects WHERE status = 'submitted' ORDER BY id LIMIT 1")
    w["approved"] = _one(db, "SELECT p.id FROM projects p WHERE p.status = 'approved' AND NOT EXISTS "
                             "(SELECT 1 FROM grants g WHERE g.project_id = p.id) ORDER BY p.id LIMIT 1")
    w["letter"] = _one(db, "SELECT reference FROM award_letters WHERE status = 'valid' ORDER BY id LIMIT 1")
    w["ranked"] = _one(db, "SELECT COUNT(*) FROM projects WHERE call_id = :c AND status IN ('qualified', 'deferred')",
                       c=w["evaluating_call"])
    return w


def pages(w: dict) -> list[Page]:
    """Every page of every role, with and without filters, first and deep pages."""
    p = []

    def add(role: str, name: str, url: str) -> None:
        p.append(Page(role, name, url))

    add("visitor", "landing", "/")
    add("visitor", "open calls", "/calls/")
    add("visitor", "an open call", f"/calls/{w['open_call']}")
    add("visitor", "verification", f"/verify/{w['letter']}")
    add("visitor", "register", "/register")
    add("visitor", "register, page 20", "/register?page=20")
    add("visitor", "register, page 100", "/register?page=100")
    add("visitor", "register, region+sector", "/register?region=TG-P&sector=water")
    add("visitor", "register, call", f"/register?call={w['grant_call']}")
    add("visitor", "register, status", "/register?status=completed")
    add("visitor", "register, a project", f"/register/{w['project']}")
    add("association", "home", "/")
    add("association", "my projects", "/projects/mine")
    add("association", "project", f"/projects/{w['project']}")
    add("association", "grant", f"/grants/{w['grant']}")
    add("evaluator", "home", "/")
    add("evaluator", "my assignments", "/reviews/mine")
    add("evaluator", "scoring page", f"/reviews/assignments/{w['assignment']}")
    add("officer", "home", "/")
    add("officer", "projects", "/projects/")
    add("officer", "projects, status filter", "/projects/?status=in_review")
    add("officer", "projects, region+sector", "/projects/?region=TG-P&sector=water")
    add("officer", "projects, page 40", "/projects/?page=40")
    add("officer", "project", f"/projects/{w['project']}")
    add("officer", "grants", "/grants/")
    add("officer", "grants, active", "/grants/?status=active")
    add("officer", "grants, page 20", "/grants/?page=20")
    add("officer", "grant", f"/grants/{w['grant']}")
    add("officer", "ledger", f"/grants/{w['grant']}/ledger")
    add("officer", "tranches due", "/grants/tranches/due")
    add("officer", "tranches due, page 5", "/grants/tranches/due?page=5")
    add("officer", "contributions to verify", "/grants/contributions/to-verify")
    add("officer", "reports to read", "/grants/reports/to-read")
    add("officer", "screening list", "/reviews/screening")
    add("officer", "screening a project", f"/reviews/projects/{w['submitted']}/screen")
    add("officer", "in review", "/reviews/in-review")
    add("officer", "assignments of a call", f"/reviews/calls/{w['evaluating_call']}/assign")
    add("officer", "committee sessions", "/reviews/committee/")
    add("officer", "session + ranking", f"/reviews/committee/{w['open_session']}")
    add("officer", "closed session", f"/reviews/committee/{w['closed_session']}")
    add("officer", "directory", "/associations/directory")
    add("officer", "directory, country", "/associations/directory?country=FR")
    add("officer", "directory, page 20", "/associations/directory?page=20")
    add("officer", "associations to verify", "/associations/pending")
    add("officer", "calls", "/calls/manage")
    add("officer", "call", f"/calls/{w['evaluating_call']}/manage")
    add("officer", "dashboard", "/oversight/dashboard")
    add("officer", "dashboard, region", "/oversight/dashboard?region=TG-P")
    add("officer", "dashboard, call", f"/oversight/dashboard?call={w['grant_call']}")
    add("officer", "dashboard, sector", "/oversight/dashboard?sector=water")
    add("officer", "dashboard, year", "/oversight/dashboard?year=2024")
    add("officer", "dashboard, all four", f"/oversight/dashboard?region=TG-P&sector=water&year=2024"
                                          f"&call={w['grant_call']}")
    add("officer", "maps", "/oversight/maps")
    add("officer", "exports", "/oversight/exports")
    add("approver", "home", "/")
    add("approver", "reserve list", "/grants/reserve")
    add("approver", "approval page", f"/grants/approve/{w['approved']}")
    add("approver", "signatures awaited", "/grants/disbursement-requests")
    add("admin", "home", "/")
    add("admin", "audit log", "/oversight/audit")
    add("admin", "audit log, page 200", "/oversight/audit?page=200")
    add("admin", "users", "/admin/users")
    return p


def exists(app, url: str) -> bool:
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(url.split("?")[0], method="GET")
    except Exception:  # noqa: BLE001 (NotFound, RequestRedirect…: not a page of this version)
        return False
    return True


# The pages whose figures the oversight cache keeps (codev.oversight.cache) and the kept pages (the officer's
# project list, codev.core.kept_pages): measured a second time with both off, as the first request after any
# write finds them ("cold").
FIGURE_PAGES = ("/oversight/dashboard", "/oversight/maps", "/register?", "/projects/?")


def figures_page(page: Page) -> bool:
    return page.url in ("/register", "/projects/") or page.url.startswith(FIGURE_PAGES)


def measure_pages(app, db, *, min_runs: int = 5, max_runs: int = 30, budget_s: float = 3.0,
                  progress=None, facts: dict | None = None, only=None, suffix: str = "") -> list[Measure]:
    """p50/p95 of each page's server time and its SQL statements (counted on the last run); ``only`` the
    pages it accepts, each named with ``suffix``."""
    with app.app_context():
        w = world(db)
        if facts is not None:
            facts["ranked"] = w["ranked"]
        users = {"officer": w["officer"], "approver": w["approver"], "admin": w["admin"], "association": w["member"],
                 "evaluator": w["evaluator"]}
        versions = {user_id: _one(db, "SELECT session_version FROM users WHERE id = :u", u=user_id)
                    for user_id in users.values()}
        db.session.remove()
    results = []
    clients = {}
    for role, user_id in users.items():
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = f"{user_id}:{versions[user_id]}"
            session["_fresh"] = True
        clients[role] = client
    clients["visitor"] = app.test_client()
    for page in pages(w):
        if only is not None and not only(page):
            continue
        page = Page(page.role, page.name + suffix, page.url)
        result = Measure(page)
        results.append(result)
        if not exists(app, page.url):
            result.absent = True
            continue
        client = clients[page.role]
        response = client.get(page.url)  # warm-up: first-request work is not what is measured
        result.status = response.status_code
        counts = []

        def count(*_args, counts=counts):
            counts[-1] += 1

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            started = time.perf_counter()
            while len(result.runs) < max_runs and (len(result.runs) < min_runs
                                                    or time.perf_counter() - started < budget_s):
                counts.append(0)
                t0 = time.perf_counter()
                response = client.get(page.url)
                result.runs.append(time.perf_counter() - t0)
                result.status = response.status_code
                result.html_bytes = len(response.get_data())
        finally:
            event.remove(engine, "before_cursor_execute", count)
        result.statements = counts[-1]
        result.statements_varied = len(set(counts)) > 1
        if progress:
            progress(result)
    return results


def count_rows(db) -> dict[str, int]:
    from codev.grants.models import Grant
    from codev.projects.models import Project

    return {"projects": db.session.scalar(select(func.count(Project.id))),
            "grants": db.session.scalar(select(func.count(Grant.id)))}
