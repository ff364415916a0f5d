"""What the browser tests share: Debian's Chromium driven by Playwright, and the demo programme served
on 127.0.0.1 by a real server in a thread (``live.db`` is a second app on the same SQLite file, to read
what the database holds afterwards)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

from codev import create_app
from codev.extensions import db

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make system-deps)"),
]


def config(folder) -> dict:
    return {
        "ENV_NAME": "test", "SECRET_KEY": "browser-test-key", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'live.sqlite3'}", "UPLOAD_FOLDER": str(folder / "up"),
    }


@contextmanager
def demo_server(folder, prepare: Callable[[], dict] | None = None, port: int = 0) -> Iterator[SimpleNamespace]:
    """Serve the demo programme (on ``port``, else any free one); ``prepare`` (run in the app, after the
    demo) may add facts to ``live``."""
    app = create_app(config(folder))
    with app.app_context():
        db.create_all()
        from codev.demo import seed_demo

        seed_demo()
        facts = prepare() if prepare else {}
        db.session.commit()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    LIVE[url] = create_app(config(folder))
    try:
        yield SimpleNamespace(url=url, db=LIVE[url], **facts)
    finally:
        LIVE.pop(url, None)
        server.shutdown()
        thread.join(timeout=5)


LIVE: dict = {}  # base URL of a demo server → a second app on its database (to make second-factor codes)


def totp_code(base, email, secret: str | None = None) -> str:
    """A code of the authenticator app of ``email`` (the demo's documented key unless told) that the server at
    ``base`` accepts now (tests/two_factor_support.py moves the remembered step back when a window is spent)."""
    from codev.accounts.models import User
    from codev.demo import DEMO_TOTP_SECRET
    from tests.two_factor_support import fresh_code

    with LIVE[base].app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        code = fresh_code(user, secret or DEMO_TOTP_SECRET)
        db.session.remove()
        return code


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page, base, email, password: str | None = None):
    from codev.demo import DEMO_PASSWORD

    page.goto(f"{base}/account/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password or DEMO_PASSWORD)
    page.click("button[type=submit].button-primary")
    page.wait_for_load_state()
    if page.url.split("?")[0].endswith("/account/login/code"):  # an account with a second factor: its code
        page.fill("input[name=code]", totp_code(base, email))
        page.click("button[type=submit].button-primary")
        page.wait_for_load_state()


def fill_step_up(page, base, email):
    """Type the second factor's code the confirm step of an approval or a second signature asks for."""
    page.fill("input[name=step_up_code]", totp_code(base, email))


def click(page, locator):
    """Click a link or button that loads a page, and wait for that page."""
    with page.expect_navigation():
        locator.click()
    page.wait_for_load_state()


# The walk of every page a role reaches (tests/test_browser_tables.py in Chromium, tests/test_language_pages.py
# with the test client): the home page, each entry of the navigation, every page the home page links to and
# the first three detail pages each list links to.
DEMO_ACCOUNTS = [
    None, "association@codev.demo", "hamburg@codev.demo", "evaluateur@codev.demo", "reviewer@codev.demo",
    "agent@codev.demo", "ordonnateur@codev.demo", "admin@codev.demo",
]
DETAIL = re.compile(r"^/(projects|grants|associations|calls|reviews/projects|reviews/committee|admin/structures)/\d+$")
MAX_PAGES = 28
NOT_WALKED = ("/account/logout", "/account/login", "/static/")


def walk(visit: Callable[[str], list[str] | None], first: list[str], limit: int = MAX_PAGES,
         details: int = 3, follow: re.Pattern = DETAIL) -> list[str]:
    """Visit pages from ``first`` on: ``visit(path)`` opens one and returns the paths its main content links
    to (None when it was not a page: a download); of each later page, the first ``details`` links that
    ``follow`` matches (detail pages) are followed. Returns the paths visited, in order."""
    to_visit, seen = list(first), []
    while to_visit and len(seen) < limit:
        path = to_visit.pop(0).split("#")[0]
        if not path.startswith("/") or path in seen or path.startswith(NOT_WALKED):
            continue
        seen.append(path)
        links = visit(path)
        if links is None:
            continue
        fresh = [p.split("#")[0] for p in links if p and p.startswith("/") and p.split("#")[0] not in seen]
        to_visit.extend(fresh if len(seen) == 1 else [p for p in fresh if follow.match(p)][:details])
    return seen
