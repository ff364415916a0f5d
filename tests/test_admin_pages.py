"""Administration pages: who may open them, the users list and its filters, bounded queries,
home cards and navigation, the audit log."""

from __future__ import annotations

import pytest

from codev.accounts.models import Role
from tests import factories
from tests.factories_admin import english
from tests.sql_count import statements_of

USER_MANAGEMENT = [
    ("GET", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("POST", "/admin/users/new"),
    ("GET", "/admin/users/{id}/edit"),
    ("POST", "/admin/users/{id}/edit"),
    ("POST", "/admin/users/{id}/password-link"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/structures/new"),
    ("POST", "/admin/structures/new"),
    ("GET", "/admin/structures/{sid}/edit"),
    ("POST", "/admin/structures/{sid}/edit"),
]


@pytest.mark.parametrize("role", ["association", "evaluator", "officer", "approver"])
def test_other_roles_get_403_on_admin_management(client, db, users, login_as, role, outbox):
    structure = factories.PartnerStructureFactory()
    target = users["officer"]
    login_as(users[role])
    for method, url in USER_MANAGEMENT:
        url = url.format(id=target.id, sid=structure.id)
        response = client.open(url, method=method, data={"name": "Changed", "role": "admin"})
        assert response.status_code == 403, (method, url)
    db.session.refresh(target)
    assert target.name != "Changed" and target.role == Role.OFFICER
    assert outbox() == []


@pytest.mark.parametrize("role", ["association", "evaluator"])
def test_association_and_evaluator_cannot_read_structures(client, db, users, login_as, role):
    structure = factories.PartnerStructureFactory()
    login_as(users[role])
    assert client.get("/admin/structures").status_code == 403
    assert client.get(f"/admin/structures/{structure.id}").status_code == 403


@pytest.mark.parametrize("role", ["officer", "approver", "admin"])
def test_ministry_roles_read_structures(client, db, users, login_as, role):
    structure = factories.PartnerStructureFactory(name="Agence de développement")
    login_as(users[role])
    assert "Agence de développement" in client.get("/admin/structures").get_data(as_text=True)
    assert client.get(f"/admin/structures/{structure.id}").status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    for url in ("/admin/users", "/admin/structures", "/admin/audit"):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login?next=" in response.headers["Location"]


@pytest.fixture
def admin(users, login_as):
    return login_as(english(users["admin"]))


def test_users_list_filters_by_role_status_and_text(client, db, admin):
    factories.UserFactory(name="Edem Agbeko", email="edem@ngo.example.org", evaluator=True)
    factories.UserFactory(name="Sena Gone", email="sena@example.org", active=False)
    db.session.commit()
    page = client.get("/admin/users?role=evaluator").get_data(as_text=True)
    assert "Edem Agbeko" in page and "Sena Gone" not in page and "officer@ministry" not in page
    page = client.get("/admin/users?active=0").get_data(as_text=True)
    assert "Sena Gone" in page and "Edem Agbeko" not in page
    page = client.get("/admin/users?q=NGO.EXAMPLE").get_data(as_text=True)
    assert "Edem Agbeko" in page and "Sena Gone" not in page
    page = client.get("/admin/users?q=agbeko").get_data(as_text=True)
    assert "edem@ngo.example.org" in page
    page = client.get("/admin/users?q=%25").get_data(as_text=True)  # a literal %, not a wildcard
    assert "No user matches these filters." in page
    # Unknown filter values are ignored rather than failing.
    assert client.get("/admin/users?role=king&active=maybe&page=-3").status_code == 200


def test_users_list_shows_counts_per_role(client, db, admin):
    for _ in range(3):
        factories.UserFactory(approver=True)
    db.session.commit()
    page = client.get("/admin/users").get_data(as_text=True)
    assert '<span class="stat">4</span> Approver' in page
    assert '<span class="stat">1</span> Administrator' in page


def test_users_list_paginates(app, client, db, admin):
    app.config["PAGE_SIZE"] = 5
    for n in range(8):
        factories.UserFactory(name=f"Zz person {n:02d}")
    db.session.commit()
    first = client.get("/admin/users?q=zz").get_data(as_text=True)
    second = client.get("/admin/users?q=zz&page=2").get_data(as_text=True)
    assert "Zz person 00" in first and "Zz person 05" not in first and "Page 1 of 2" in first
    assert "Zz person 05" in second and "Zz person 00" not in second


def make_rows(db, actor, n):
    """``n`` more users with every kind of link (structure, association), and ``n`` audit events."""
    from codev.core import audit

    for i in range(n):
        kind = i % 3
        if kind == 0:
            user = factories.UserFactory(evaluator=True)
        elif kind == 1:
            user = factories.UserFactory(member=True)
        else:
            user = factories.UserFactory()
        audit.record("test.event", user, actor=actor if i % 2 else user, after={"n": i})
    db.session.commit()


def count_queries(app, db, client, url):
    client.get(url)  # warm up (first-request work is not what we measure)
    db.session.expunge_all()  # the test's session outlives requests: nothing may come from it
    with statements_of(db.engine) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("url", ["/admin/users", "/admin/structures", "/oversight/audit"])
def test_lists_issue_the_same_number_of_queries_for_5_and_40_rows(app, client, db, admin, url):
    make_rows(db, admin, 5)
    few = count_queries(app, db, client, url)
    make_rows(db, admin, 35)
    many = count_queries(app, db, client, url)
    assert few == many, (few, many)


def test_admin_home_shows_counts_linking_to_filtered_lists(client, db, admin):
    factories.AssociationFactory()
    factories.AssociationFactory()
    factories.AssociationFactory(verified=True)
    factories.PartnerStructureFactory(active=False)
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/admin/users?role=evaluator"><strong>1</strong>' in page
    assert '<a href="/admin/users?role=admin"><strong>1</strong>' in page
    # users fixture: the evaluator's structure is active, the one above is not
    assert '<span class="stat">1</span> active partner structure<' in page
    assert "/admin/structures?active=1" in page
    # the member's association (verified) and the one above do not wait; two do
    assert '<span class="stat">2</span> associations awaiting verification' in page


def test_navigation_per_role(client, db, users, login_as):
    login_as(english(users["admin"]))
    page = client.get("/").get_data(as_text=True)
    assert 'href="/admin/users"' in page and 'href="/admin/structures"' in page
    for role in ("officer", "approver"):
        login_as(english(users[role]))
        page = client.get("/").get_data(as_text=True)
        assert 'href="/admin/structures"' in page and 'href="/admin/users"' not in page
    for role in ("association", "evaluator"):
        login_as(english(users[role]))
        page = client.get("/").get_data(as_text=True)
        assert 'href="/admin/structures"' not in page and 'href="/admin/users"' not in page


def test_audit_log_lists_events_with_actor_and_filters(client, db, admin, users):
    officer = users["officer"]
    client.post(f"/admin/users/{officer.id}/edit", data={
        "name": "Renamed Officer", "role": "officer", "locale": "fr", "active": "y",
    })
    client.post("/admin/structures/new", data={
        "name": "Structure audited", "kind": "state", "regions": ["TG-C"], "sectors": ["energy"],
        "active": "y",
    })
    page = client.get("/oversight/audit").get_data(as_text=True)
    assert "user.update" in page and "structure.create" in page
    assert admin.name in page
    assert "Renamed Officer" in page  # in the after-values
    # the old address of the admin's log lands on the one viewer, its filters kept
    moved = client.get("/admin/audit?action=structure.&actor=x@y")
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith("/oversight/audit?action=structure.&person=x@y")
    page = client.get("/admin/audit?action=structure.", follow_redirects=True).get_data(as_text=True)
    assert "structure.create" in page and "user.update" not in page
    page = client.get("/admin/audit?actor=OFFICER@ministry", follow_redirects=True).get_data(as_text=True)
    assert "No event matches these filters." in page
    page = client.get(f"/admin/audit?actor={admin.email}", follow_redirects=True).get_data(as_text=True)
    assert "user.update" in page


def test_pending_associations_card_links_to_the_first_page_the_admin_may_open(
    client, db, admin, monkeypatch
):
    from codev.accounts.admin import views

    pages = (("associations.nowhere", {}), ("admin.users", {"role": "association"}))
    monkeypatch.setattr(views, "PENDING_ASSOCIATIONS_PAGES", pages)
    page = client.get("/").get_data(as_text=True)
    card = page[page.index("<h2>Associations</h2>"):]
    assert card.index('href="/admin/users?role=association"') < card.index("awaiting verification")
