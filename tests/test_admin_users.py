"""Administration of users: creation with an emailed password link, edits, roles, sessions, audit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from codev.accounts.admin import services
from codev.accounts.models import Role, User
from codev.core.models import AuditEvent
from tests import factories
from tests.factories_admin import english, signed_in_client
from tests.two_factor_support import step_up


@pytest.fixture
def admin(users, login_as):
    return login_as(english(users["admin"]))


def count_users(db, email):
    return db.session.scalar(select(func.count(User.id)).where(func.lower(User.email) == email.lower()))


def new_user_form(**overrides):
    data = {"name": "Afi Koudjo", "email": "afi.koudjo@example.org", "role": "officer",
            "locale": "fr", "title": "", "partner_structure_id": "", "association_id": ""}
    data.update(overrides)
    return data


def test_admin_creates_an_evaluator_who_sets_a_password_and_signs_in(app, client, db, admin, outbox):
    structure = factories.PartnerStructureFactory(name="Direction de l'eau")
    db.session.commit()
    response = client.post("/admin/users/new", data=new_user_form(
        name="Kodjo Amegah", email="Kodjo.Amegah@Example.org", role="evaluator", locale="en",
        title="Ingénieur", partner_structure_id=str(structure.id),
    ))
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "kodjo.amegah@example.org"))
    assert user.role == Role.EVALUATOR and user.partner_structure_id == structure.id
    assert user.locale == "en" and user.title == "Ingénieur" and user.password_hash is None
    assert client.get(response.headers["Location"]).status_code == 200

    [message] = outbox("kodjo.amegah@example.org")
    assert message.locale == "en"
    assert "Direction de l'eau" in message.body
    link = re.search(r"http://localhost/account/reset/\S+", message.body).group(0)

    visitor = app.test_client()
    path = link.removeprefix("http://localhost")
    assert visitor.get(path).status_code == 200
    response = visitor.post(path, data={"password": "un long mot de passe", "confirm": "un long mot de passe"})
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    response = visitor.post("/account/login", data={"email": "kodjo.amegah@example.org",
                                                    "password": "un long mot de passe"})
    assert response.status_code == 302
    assert "Kodjo Amegah" in visitor.get("/").get_data(as_text=True)
    # The link worked once.
    assert visitor.get(path).status_code == 302

    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == user.id)).all()
    assert {"user.create", "user.password_link"} <= set(actions)


def test_french_user_gets_the_email_in_french(client, db, admin, outbox):
    client.post("/admin/users/new", data=new_user_form(locale="fr"))
    [message] = outbox("afi.koudjo@example.org")
    assert message.locale == "fr"
    assert "/account/reset/" in message.body


def test_duplicate_email_in_another_case_is_a_field_error(client, db, admin, users, outbox):
    response = client.post("/admin/users/new", data=new_user_form(
        name="Someone Else", email="OFFICER@Ministry.Example.TG", title="Chef de division",
    ))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "A user with this email address already exists." in page
    assert 'value="Someone Else"' in page and 'value="OFFICER@Ministry.Example.TG"' in page
    assert 'value="Chef de division"' in page
    assert count_users(db, "officer@ministry.example.tg") == 1
    assert db.session.scalar(select(func.count(User.id)).where(User.name == "Someone Else")) == 0
    assert outbox("officer@ministry.example.tg") == []


def test_evaluator_without_structure_is_refused(client, db, admin, outbox):
    response = client.post("/admin/users/new", data=new_user_form(role="evaluator"))
    assert response.status_code == 400
    assert "An evaluator belongs to a partner structure: choose it." in response.get_data(as_text=True)
    assert count_users(db, "afi.koudjo@example.org") == 0
    assert outbox() == []


def test_association_member_without_association_is_refused(client, db, admin):
    response = client.post("/admin/users/new", data=new_user_form(role="association"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "An association member belongs to an association: choose it." in page
    assert count_users(db, "afi.koudjo@example.org") == 0


def test_association_member_is_linked_to_the_chosen_association(client, db, admin):
    association = factories.AssociationFactory()
    db.session.commit()
    response = client.post("/admin/users/new", data=new_user_form(
        role="association", association_id=str(association.id),
        partner_structure_id=str(factories.PartnerStructureFactory().id),
    ))
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "afi.koudjo@example.org"))
    # Only the link the role uses is kept.
    assert user.association_id == association.id and user.partner_structure_id is None


def test_invalid_email_and_unknown_choices_are_refused(client, db, admin):
    response = client.post("/admin/users/new", data=new_user_form(
        email="not-an-email", role="superuser", partner_structure_id="abc"
    ))
    assert response.status_code == 400
    assert "Enter a valid email address" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 5


def test_create_form_prefilled_from_a_structure(client, db, admin):
    structure = factories.PartnerStructureFactory()
    db.session.commit()
    page = client.get(f"/admin/users/new?role=evaluator&structure={structure.id}").get_data(as_text=True)
    assert '<option selected value="evaluator">' in page
    assert f'<option selected value="{structure.id}">' in page


def edit_form(user, **overrides):
    data = {"name": user.name, "role": user.role, "locale": user.locale, "title": user.title or "",
            "partner_structure_id": user.partner_structure_id or "",
            "association_id": user.association_id or "", "active": "y" if user.active else ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def test_role_change_ends_the_sessions_of_the_target(app, client, db, admin, users):
    officer = users["officer"]
    browser = signed_in_client(app, officer)
    assert browser.get("/account/profile").status_code == 200
    response = client.post(f"/admin/users/{officer.id}/edit", data=step_up(admin, edit_form(officer, role="approver")))
    assert response.status_code == 302
    db.session.refresh(officer)
    assert officer.role == Role.APPROVER
    response = browser.get("/account/profile")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.update", AuditEvent.object_id == officer.id)
    ).one()
    assert event.before == {"role": "officer"} and event.after == {"role": "approver"}
    assert event.actor_id == admin.id


def test_deactivation_ends_the_sessions_of_the_target(app, client, db, admin, users):
    evaluator = users["evaluator"]
    browser = signed_in_client(app, evaluator)
    response = client.post(f"/admin/users/{evaluator.id}/edit", data=edit_form(evaluator, active=""))
    assert response.status_code == 302
    db.session.refresh(evaluator)
    assert evaluator.active is False
    assert browser.get("/account/profile").headers["Location"].startswith("/account/login")


def test_a_name_change_keeps_the_target_signed_in(app, client, db, admin, users):
    officer = users["officer"]
    browser = signed_in_client(app, officer)
    client.post(f"/admin/users/{officer.id}/edit", data=edit_form(officer, name="Ama Lawson"))
    db.session.refresh(officer)
    assert officer.name == "Ama Lawson"
    assert browser.get("/account/profile").status_code == 200


def test_admin_cannot_deactivate_themselves(client, db, admin):
    response = client.post(f"/admin/users/{admin.id}/edit", data=edit_form(admin, active="", name="New"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "You cannot deactivate your own account." in page
    assert 'value="New"' in page
    db.session.refresh(admin)
    assert admin.active is True and admin.name != "New"


def test_admin_cannot_remove_their_own_admin_role(client, db, admin):
    response = client.post(f"/admin/users/{admin.id}/edit", data=step_up(admin, edit_form(admin, role="officer")))
    assert response.status_code == 400
    assert "You cannot remove your own administrator role." in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.role == Role.ADMIN


def test_last_active_admin_cannot_be_demoted_or_deactivated(db, users):
    admin = users["admin"]
    with pytest.raises(services.AdminError, match="dernier administrateur actif"):
        services.update_account(admin, None, role="officer")
    with pytest.raises(services.AdminError, match="dernier administrateur actif"):
        services.update_account(admin, None, active=False)
    db.session.rollback()
    db.session.refresh(admin)
    assert admin.role == Role.ADMIN and admin.active


def test_another_admin_can_be_demoted_when_one_remains(client, db, admin):
    other = factories.UserFactory(admin=True)
    db.session.commit()
    response = client.post(f"/admin/users/{other.id}/edit", data=step_up(admin, edit_form(other, role="officer")))
    assert response.status_code == 302
    db.session.refresh(other)
    assert other.role == Role.OFFICER


def test_evaluator_turned_officer_loses_the_structure_link(client, db, admin, users):
    evaluator = users["evaluator"]
    client.post(f"/admin/users/{evaluator.id}/edit", data=step_up(admin, edit_form(evaluator, role="officer")))
    db.session.refresh(evaluator)
    assert evaluator.role == Role.OFFICER and evaluator.partner_structure_id is None


def test_password_link_is_sent_on_post_only(client, db, admin, users, outbox):
    officer = users["officer"]
    assert client.get(f"/admin/users/{officer.id}/password-link").status_code == 405
    response = client.post(f"/admin/users/{officer.id}/password-link")
    assert response.status_code == 302
    [message] = outbox(officer.email)
    assert message.locale == officer.locale and "/account/reset/" in message.body
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"A link to choose a new password was sent to {officer.email}." in followed


def test_no_password_link_for_a_deactivated_account(client, db, admin, outbox):
    gone = factories.UserFactory(active=False)
    db.session.commit()
    response = client.post(f"/admin/users/{gone.id}/password-link", follow_redirects=True)
    assert "This account is deactivated" in response.get_data(as_text=True)
    assert outbox(gone.email) == []


def test_missing_user_is_404(client, admin):
    assert client.get("/admin/users/9999/edit").status_code == 404
    assert client.post("/admin/users/9999/password-link").status_code == 404
