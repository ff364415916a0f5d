"""Notifications: an event that emails a member is also a notification in their list, in their language, with
the email's link; opening it marks it read; nobody else sees or opens it; the navigation counts the unread;
a kind turned off sends no email but still notifies; security emails cannot be turned off."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

import codev
from codev.core.models import OutboxMessage
from codev.core.notifications import LABELS, SECURITY, Notification, NotificationPreference
from codev.projects.services import project_url
from tests import factories
from tests.factories_projects import submitted_project
from tests.factories_reviews import english
from tests.test_reviews_screening import screen


def notes(db, user, kind=None):
    query = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return db.session.scalars(query).all()


def returned(client, users, login_as, member):
    """A project of ``member``'s association returned for changes by an officer (emails the members)."""
    project = submitted_project(member)
    login_as(english(users["officer"]))
    assert screen(client, project, outcome="returned", message="Joignez la lettre du maire.").status_code == 302
    return project


@pytest.mark.backends
@pytest.mark.parametrize("locale", ["en", "fr"])
def test_a_returned_project_notifies_its_member_once_in_their_language(client, db, users, login_as, outbox,
                                                                       locale, backend):
    member = factories.UserFactory(member=True, locale=locale)
    project = returned(client, users, login_as, member)
    (note,) = notes(db, member, "project_returned")
    (mail,) = [m for m in outbox(member.email) if m.subject == note.subject]
    expected = {"en": f"codev: changes asked on your project {project.reference}",
                "fr": f"codev : modifications demandées sur votre projet {project.reference}"}
    assert note.subject == mail.subject
    assert note.subject.startswith(expected[locale].split(project.reference)[0]) and project.reference in note.subject
    with client.application.test_request_context():
        assert note.url == f"/projects/{project.id}" and project_url(project).endswith(note.url)
    assert note.read_at is None


def test_opening_marks_read_and_goes_to_the_page(client, db, users, login_as):
    member = english(factories.UserFactory(member=True))
    project = returned(client, users, login_as, member)
    unread = len([n for n in notes(db, member) if n.read_at is None])
    (note,) = notes(db, member, "project_returned")
    login_as(member)
    page = client.get("/notifications").get_data(as_text=True)
    assert f"<strong>{note.subject}</strong>" in page
    assert f'<span class="nav-count">{unread}</span>' in page
    assert f"Notifications: {unread} unread" in page
    response = client.get(f"/notifications/{note.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/projects/{project.id}")
    db.session.refresh(note)
    assert note.read_at is not None
    page = client.get("/notifications").get_data(as_text=True)
    assert f"<strong>{note.subject}</strong>" not in page and note.subject in page
    counted = f'<span class="nav-count">{unread - 1}</span>' if unread > 1 else 'class="nav-count"'
    assert (counted in page) == (unread > 1)


def test_another_person_cannot_open_or_see_it(client, db, users, login_as):
    member = english(factories.UserFactory(member=True))
    returned(client, users, login_as, member)
    (note,) = notes(db, member, "project_returned")
    for other in (english(factories.UserFactory(member=True)), users["officer"], users["admin"]):
        login_as(other)
        assert client.get(f"/notifications/{note.id}").status_code == 404
        assert note.subject not in client.get("/notifications").get_data(as_text=True)
        client.post("/notifications/read")
    db.session.refresh(note)
    assert note.read_at is None


def test_mark_all_read(client, db, users, login_as):
    member = english(factories.UserFactory(member=True))
    returned(client, users, login_as, member)
    assert any(n.read_at is None for n in notes(db, member))
    login_as(member)
    response = client.post("/notifications/read", follow_redirects=True)
    assert "notifications marked read." in response.get_data(as_text=True) or "notification marked read." in \
        response.get_data(as_text=True)
    db.session.expire_all()
    assert all(n.read_at is not None for n in notes(db, member))
    assert "nav-count" not in client.get("/").get_data(as_text=True)


def test_no_count_for_visitors(client):
    page = client.get("/account/login").get_data(as_text=True)
    assert "nav-count" not in page and "/notifications" not in page


def test_a_kind_turned_off_sends_no_email_but_still_notifies(client, db, users, login_as, outbox):
    member = english(factories.UserFactory(member=True))
    login_as(member)
    form = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'name="email_project_returned"' in form and "checked" in form
    ticked = {name: "y" for name in re.findall(r'name="(email_[a-z_]+)"', form) if name != "email_project_returned"}
    assert client.post("/notifications/preferences", data=ticked).status_code == 302
    choice = db.session.scalar(select(NotificationPreference).where(NotificationPreference.user_id == member.id))
    assert (choice.kind, choice.email) == ("project_returned", False)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert not re.search(r'<input[^>]*checked[^>]*name="email_project_returned"', page)
    assert not re.search(r'<input[^>]*name="email_project_returned"[^>]*checked', page)
    project = returned(client, users, login_as, member)
    assert not [m for m in outbox(member.email) if project.reference in m.subject and "changes asked" in m.subject]
    (note,) = notes(db, member, "project_returned")
    assert note.read_at is None and project.reference in note.subject
    # Another member of the same association, with no preference, is still emailed.


def test_security_kinds_are_not_offered_and_always_sent(client, db, users, login_as, outbox):
    member = english(factories.UserFactory(member=True))
    login_as(member)
    form = client.get("/notifications/preferences").get_data(as_text=True)
    for kind in SECURITY:
        assert f'name="email_{kind}"' not in form
    assert "always sent" in form
    # A forged form naming a security kind changes nothing.
    client.post("/notifications/preferences", data={"email_password_reset": ""})
    assert db.session.scalar(select(NotificationPreference).where(
        NotificationPreference.user_id == member.id, NotificationPreference.kind == "password_reset")) is None
    # Even a stored refusal (as if written by hand) does not stop the reset email.
    db.session.add(NotificationPreference(user_id=member.id, kind="password_reset", email=False))
    db.session.commit()
    client.post("/account/logout")
    client.post("/account/reset", data={"email": member.email})
    (mail,) = [m for m in outbox(member.email) if "/account/reset/" in m.body]
    (note,) = notes(db, member, "password_reset")
    assert note.subject == mail.subject and note.url is None  # the link's token is not kept


def test_a_recipient_who_is_not_a_user_just_gets_the_email(app, db):
    from codev.core.mail import queue_mail

    before = db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1))
    message = queue_mail("contact@asso.example.org", "fr", "project_withdrawn", name="x", title="T",
                         reference="CODEV-2026-0001", association="A", url="http://localhost/projects/1")
    assert isinstance(message, OutboxMessage)
    after = db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1))
    assert before == after


def test_every_email_has_a_label():
    templates = {p.stem for p in (Path(codev.__file__).parent / "templates" / "email").glob("*.txt")}
    assert templates - set(LABELS) == set()


def test_pages_fit_a_phone_markup(client, db, users, login_as):
    member = english(factories.UserFactory(member=True))
    returned(client, users, login_as, member)
    login_as(member)
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count("<table") == 1 and re.search(r'<div class="table-wrap">\s*<table', page)
    assert "Mark all read" in page and "Email preferences" in page
    french = factories.UserFactory(member=True, locale="fr")
    login_as(french)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "Préférences" in page and "Votre projet" in page


def test_the_profile_links_to_the_email_preferences(client, users, login_as):
    login_as(english(users["association"]))
    assert 'href="/notifications/preferences">Which emails I receive</a>' in client.get("/account/profile").get_data(
        as_text=True)
