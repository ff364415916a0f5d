"""Browser: a member sees an unread notification counted in the navigation, opens it and lands on its page;
the notifications and preferences pages fit a 360-pixel phone without JavaScript."""

from __future__ import annotations

import pytest

from tests.browser_support import MARKS, chromium, click, demo_server, sign_in

pytestmark = MARKS

WIDTH = 360
MEMBER = "maryland@codev.demo"  # the demo's English-speaking member


def prepare() -> dict:
    """Every demo notification of the member read, then one new email (through the one mail function)."""
    from sqlalchemy import select, update

    from codev.accounts.models import User
    from codev.core.mail import queue_mail
    from codev.core.notifications import Notification
    from codev.extensions import db
    from codev.projects.models import Project
    from codev.projects.services import project_url

    member = db.session.scalar(select(User).where(User.email == MEMBER))
    db.session.execute(update(Notification).where(Notification.user_id == member.id).values(read_at=db.func.now()))
    project = db.session.scalar(select(Project).where(Project.association_id == member.association_id)
                                .order_by(Project.id).limit(1))
    queue_mail(member.email, member.locale, "project_returned", name=member.name, title=project.title,
               reference=project.reference, association=project.association.display_name,
               message="Joignez la lettre du maire.", url=project_url(project))
    note = db.session.scalar(select(Notification).where(Notification.user_id == member.id,
                                                        Notification.read_at.is_(None)))
    return {"note_id": note.id, "subject": note.subject, "project_id": project.id}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live-notifications"), prepare) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


OVERFLOW = """() => {
  const tables = [...document.querySelectorAll('main table')];
  return {
    page: document.documentElement.scrollWidth,
    unwrapped: tables.filter(t => !t.closest('.table-wrap')).length,
    wider: tables.map(t => t.closest('.table-wrap') || t)
                 .filter(box => box.getBoundingClientRect().right > window.innerWidth + 0.5).length,
  };
}"""


def fits(page) -> None:
    found = page.evaluate(OVERFLOW)
    assert found["page"] <= WIDTH and found["unwrapped"] == 0 and found["wider"] == 0, found


def test_a_member_sees_an_unread_notification_and_opens_it(browser, live):
    context = browser.new_context(viewport={"width": WIDTH, "height": 780}, locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live.url, MEMBER)
        link = page.locator("nav.menu a[href='/notifications']")
        assert link.locator(".nav-count").inner_text() == "1"
        assert link.get_attribute("aria-label") == "Notifications: 1 unread"
        click(page, link)
        fits(page)
        unread = page.locator("main table tbody tr.unread")
        assert unread.count() == 1 and unread.locator("strong").inner_text() == live.subject
        click(page, unread.locator(f"a[href='/notifications/{live.note_id}']"))
        assert page.url == f"{live.url}/projects/{live.project_id}"
        assert page.locator("nav.menu a[href='/notifications'] .nav-count").count() == 0
        page.goto(live.url + "/notifications")
        assert page.locator("main table tbody tr.unread").count() == 0
        assert page.locator("main table tbody tr", has_text=live.subject).count() == 1
        page.goto(live.url + "/notifications/preferences")
        fits(page)
        assert page.locator("input[name=email_project_returned]").is_checked()
        assert page.locator("input[name=email_password_reset]").count() == 0
    finally:
        context.close()
    with live.db.app_context():
        from codev.core.notifications import Notification
        from codev.extensions import db

        assert db.session.get(Notification, live.note_id).read_at is not None
