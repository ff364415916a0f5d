"""Invitations: a member invites by email, the invited person joins; used, expired, revoked links."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select

from codev.accounts.models import Invitation, Role, User
from codev.core.models import AuditEvent
from codev.core.timeutil import utcnow
from tests import factories
from tests.factories_associations import PASSWORD, invitation_with_token, member_of

EN = {"Accept-Language": "en"}


def invite(client, association, email):
    return client.post(f"/associations/{association.id}/invitations", data={"email": email}, headers=EN)


def link_in(message) -> str:
    match = re.search(r"http://localhost(/associations/invitation/[A-Za-z0-9_\-]+)", message.body)
    assert match, message.body
    return match.group(1)


def accept(client, path, **overrides):
    data = {"full_name": "Kofi Agbo", "password": PASSWORD, "confirm": PASSWORD, "locale": "en"}
    data.update(overrides)
    return client.post(path, data=data, headers=EN)


def test_invitation_end_to_end(app, client, db, login_as, outbox):
    association = factories.AssociationFactory(verified=True, locale="en", name="Togo Club Boston")
    inviter = login_as(member_of(association, name="Ama"))

    response = invite(client, association, "  Kofi@Example.ORG ")
    assert response.status_code == 302
    invitation = db.session.scalar(select(Invitation))
    assert invitation.email == "kofi@example.org" and invitation.invited_by_id == inviter.id
    max_age = app.config["INVITATION_MAX_AGE"]
    assert abs((invitation.expires_at - utcnow()) - timedelta(seconds=max_age)) < timedelta(minutes=1)

    [mail] = outbox("kofi@example.org")
    assert mail.locale == "en"  # the association's language
    assert "Togo Club Boston" in mail.subject
    path = link_in(mail)
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 40
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(db.session.scalars(select(AuditEvent.after)).all())

    page = client.get(f"/associations/{association.id}").get_data(as_text=True)
    assert "kofi@example.org" in page  # listed as pending

    client.post("/account/logout")
    form = client.get(path, headers=EN)
    assert form.status_code == 200
    assert "Togo Club Boston" in form.get_data(as_text=True)

    response = accept(client, path)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/associations/{association.id}")
    user = db.session.scalar(select(User).where(User.email == "kofi@example.org"))
    assert user.role == Role.ASSOCIATION and user.association_id == association.id
    assert user.name == "Kofi Agbo" and user.locale == "en"
    db.session.refresh(invitation)
    assert invitation.accepted_at is not None
    with client.session_transaction() as session:
        assert session["_user_id"] == user.get_id()
    page = client.get(f"/associations/{association.id}").get_data(as_text=True)
    assert "Kofi Agbo" in page and "Welcome!" in page

    # The link works once.
    client.post("/account/logout")
    again = client.get(path, headers=EN)
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    assert accept(client, path, full_name="Intrus").status_code == 410
    assert db.session.scalar(select(User).where(User.name == "Intrus")) is None


def test_expired_and_revoked_and_unknown_links_are_refused_clearly(client, db):
    expired, expired_token = invitation_with_token("expired-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaa", expired=True)
    revoked, revoked_token = invitation_with_token("revoked-token-bbbbbbbbbbbbbbbbbbbbbbbbbbbb", revoked=True)
    db.session.commit()
    response = client.get(f"/associations/invitation/{expired_token}", headers=EN)
    assert response.status_code == 410 and "This invitation has expired" in response.get_data(as_text=True)
    response = accept(client, f"/associations/invitation/{expired_token}")
    assert response.status_code == 410
    response = client.get(f"/associations/invitation/{revoked_token}", headers=EN)
    assert response.status_code == 410 and "withdrawn" in response.get_data(as_text=True)
    response = client.get("/associations/invitation/" + "x" * 500, headers=EN)
    assert response.status_code == 404 and "not valid" in response.get_data(as_text=True)
    emails = set(db.session.scalars(select(User.email)))
    assert expired.email not in emails and revoked.email not in emails


def test_refused_acceptance_keeps_the_name_and_creates_nothing(client, db):
    invitation, token = invitation_with_token()
    db.session.commit()
    path = f"/associations/invitation/{token}"
    response = accept(client, path, password="court", confirm="court")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="Kofi Agbo"' in page and 'id="password-error"' in page
    response = accept(client, path, confirm="une autre phrase longue")
    assert response.status_code == 400 and "The two passwords are different." in response.get_data(as_text=True)
    response = accept(client, path, password=invitation.email, confirm=invitation.email)
    assert response.status_code == 400 and "must not be your email" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == invitation.email)) is None
    db.session.refresh(invitation)
    assert invitation.accepted_at is None


def test_signed_in_person_cannot_accept(client, db, users, login_as):
    invitation, token = invitation_with_token()
    login_as(users["officer"])
    response = client.get(f"/associations/invitation/{token}")
    assert response.status_code == 409
    db.session.refresh(invitation)
    assert invitation.accepted_at is None


def test_invite_refuses_existing_account_and_open_invitation(client, db, users, login_as, outbox):
    association = factories.AssociationFactory()
    member = login_as(member_of(association))
    response = invite(client, association, users["officer"].email.upper())
    assert response.status_code == 400
    assert "Un compte utilise déjà cette adresse e-mail" in response.get_data(as_text=True)
    assert invite(client, association, "new@example.org").status_code == 302
    response = invite(client, association, "NEW@example.org")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Une invitation est déjà en attente" in page and 'value="NEW@example.org"' in page
    response = invite(client, association, "pas une adresse")
    assert response.status_code == 400 and 'id="email-error"' in response.get_data(as_text=True)
    assert len(db.session.scalars(select(Invitation)).all()) == 1
    assert len(outbox("new@example.org")) == 1
    assert member.association_id == association.id


def test_accepting_after_the_email_got_an_account_is_refused(client, db):
    invitation, token = invitation_with_token()
    factories.UserFactory(email=invitation.email)
    db.session.commit()
    response = accept(client, f"/associations/invitation/{token}")
    assert response.status_code == 409
    assert "An account already uses this email address" in response.get_data(as_text=True)
    db.session.refresh(invitation)
    assert invitation.accepted_at is None


def test_revoke_invitation(client, db, login_as):
    association = factories.AssociationFactory()
    member = login_as(member_of(association))
    invitation, token = invitation_with_token(association=association, invited_by=member)
    db.session.commit()
    url = f"/associations/{association.id}/invitations/{invitation.id}/revoke"
    assert client.get(url).status_code == 405  # state changes are POST only
    response = client.post(url)
    assert response.status_code == 302
    db.session.refresh(invitation)
    assert invitation.revoked_at is not None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "invitation.revoke")) is not None
    # Revoking twice says so and changes nothing.
    revoked_at = invitation.revoked_at
    client.post(url)
    db.session.refresh(invitation)
    assert invitation.revoked_at == revoked_at
    client.post("/account/logout")
    assert client.get(f"/associations/invitation/{token}").status_code == 410


def test_revoke_invitation_of_another_association_is_404(client, db, login_as):
    mine = factories.AssociationFactory()
    other = factories.AssociationFactory()
    invitation, _token = invitation_with_token(association=other)
    login_as(member_of(mine))
    # Even through my own association's URL, another association's invitation is not found.
    assert client.post(f"/associations/{mine.id}/invitations/{invitation.id}/revoke").status_code == 404
    db.session.refresh(invitation)
    assert invitation.revoked_at is None
