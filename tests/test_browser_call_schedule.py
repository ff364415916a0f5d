"""Browser path of calls that open by themselves (``flask open-close-calls``), on a phone without JavaScript:
the officer sets two drafts to open by themselves today, one complete and the demo's draft still without its
tranches; the scheduled command runs; the complete one is open for the association to read, the other is still
a draft, its page saying an officer opens it, and the officers have an email saying what it lacks.

The demo programme served on 127.0.0.1 as in tests/test_browser_reviews.py; ``live.db`` reads the database.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from codev.calls.models import Call, CallStatus
from codev.core.models import AuditEvent, OutboxMessage
from codev.core.timeutil import utcnow
from codev.extensions import db
from tests.browser_support import MARKS, chromium, click, demo_server, sign_in

pytestmark = MARKS

WIDTH = 360
COMPLETE_TITLE = "Appel à projets de coréalisation — assainissement (ouverture programmée)"


def complete_draft() -> dict:
    """A second draft, complete (grid, tranches, dates), opening in a month unless the officer says otherwise."""
    from codev.accounts.models import Role, User
    from codev.calls import services
    from codev.demo.calls import _open_call_data

    officer = db.session.scalars(select(User).where(User.role == Role.OFFICER)).first()
    data = _open_call_data(utcnow() + timedelta(days=30), utcnow() + timedelta(days=120))
    data.title, data.title_en = COMPLETE_TITLE, "Co-development call — sanitation (scheduled opening)"
    complete = services.create_call(data, officer)
    draft = db.session.scalars(select(Call).where(Call.status == CallStatus.DRAFT, Call.id != complete.id)).one()
    return {"complete": complete.id, "incomplete": draft.id}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live-schedule"), prepare=complete_draft) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def schedule_today(page, base, call_id):
    """The officer's edit form: opens by itself, today at midnight (already past), then saved."""
    page.goto(f"{base}/calls/{call_id}/edit")
    page.check("input[name=opens_automatically]")
    page.fill("input[name=opens_date]", utcnow().date().isoformat())
    page.fill("input[name=opens_time]", "00:00")
    click(page, page.locator("main form button[type=submit]").last)
    assert page.url.endswith(f"/calls/{call_id}/manage"), page.locator("main").inner_text()[:2000]
    assert "De lui-même à sa date d’ouverture, si l’appel est complet à cette date" in page.locator("main").inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH


def phone(browser, base, email):
    context = browser.new_context(viewport={"width": WIDTH, "height": 780}, locale="fr-FR", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, base, email)
    return context, page


def test_the_officer_schedules_two_drafts_and_the_command_opens_the_complete_one(browser, live):
    context, page = phone(browser, live.url, "agent@codev.demo")
    try:
        schedule_today(page, live.url, live.complete)
        schedule_today(page, live.url, live.incomplete)
    finally:
        context.close()

    with live.db.app_context():  # what cron runs
        result = live.db.test_cli_runner().invoke(args=["open-close-calls"])
        assert result.exit_code == 0, result.output
        assert "1 call opened, 1 left in draft (incomplete)" in result.output
        db.session.remove()
        assert db.session.get(Call, live.complete).status == CallStatus.OPEN
        incomplete = db.session.get(Call, live.incomplete)
        assert incomplete.status == CallStatus.DRAFT and incomplete.opens_automatically is False
        audit = {(e.action, e.object_id) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "calls", AuditEvent.actor_id.is_(None)))}
        assert {("call.not_opened", live.incomplete)} <= audit
        mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        opened = [m for m in mails if COMPLETE_TITLE in m.subject + m.body]
        assert opened and all("@" in m.recipient for m in opened)  # the associations following the programme
        lacks = [m for m in mails if m.recipient == "agent@codev.demo" and incomplete.title in m.subject + m.body]
        assert lacks and "tranche" in lacks[-1].body.lower()  # what it lacks, in the officer's French

    context, page = phone(browser, live.url, "association@codev.demo")
    try:
        page.goto(f"{live.url}/calls/")
        assert COMPLETE_TITLE in page.locator("main").inner_text()
        click(page, page.get_by_role("link", name=COMPLETE_TITLE).first)
        assert page.url.endswith(f"/calls/{live.complete}")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH
    finally:
        context.close()

    context, page = phone(browser, live.url, "agent@codev.demo")
    try:
        page.goto(f"{live.url}/calls/{live.incomplete}/manage")
        assert "Par un agent" in page.locator("main").inner_text()
    finally:
        context.close()
