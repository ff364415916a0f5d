"""Verification by officers: verify, reject with a reason, refused from the wrong state; emails, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from codev.accounts.models import AssociationStatus, User
from codev.core.models import AuditEvent
from tests import factories
from tests.confirm_support import confirmed
from tests.factories_associations import member_of

REASON = "Les statuts fournis ne sont pas signés ; merci de joindre la version signée."


def audit_rows(db, action, association):
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == association.id)
    ).all()


@pytest.fixture
def pending(db):
    association = factories.AssociationFactory(name="Amicale de Genève", contact_email="bureau@amicale.example.org")
    member_of(association, email="fr.member@example.org", locale="fr")
    member_of(association, email="en.member@example.org", locale="en")
    member_of(association, email="gone@example.org", active=False)
    db.session.commit()
    return association


def test_officer_sees_the_decision_forms_on_a_pending_association(client, users, pending, login_as):
    login_as(users["officer"])
    page = client.get(f"/associations/{pending.id}").get_data(as_text=True)
    assert f"/associations/{pending.id}/verify" in page
    assert f"/associations/{pending.id}/reject" in page
    assert 'name="reason"' in page


def test_other_ministry_roles_see_no_decision_forms(client, users, pending, login_as):
    for role in ("approver", "admin"):
        login_as(users[role])
        page = client.get(f"/associations/{pending.id}").get_data(as_text=True)
        assert "Amicale de Genève" in page
        assert f"/associations/{pending.id}/verify" not in page


def test_verify(client, db, users, pending, login_as, outbox):
    officer = login_as(users["officer"])
    response = client.post(f"/associations/{pending.id}/verify")
    assert response.status_code == 302
    db.session.refresh(pending)
    assert pending.status == AssociationStatus.VERIFIED
    assert pending.verified_by_id == officer.id and pending.verified_at is not None
    assert pending.status_reason is None
    [row] = audit_rows(db, "association.verify", pending)
    assert row.actor_id == officer.id
    assert row.before["status"] == "pending" and row.after["status"] == "verified"
    [fr_mail] = outbox("fr.member@example.org")
    [en_mail] = outbox("en.member@example.org")
    assert fr_mail.locale == "fr" and en_mail.locale == "en"
    assert "is verified" in en_mail.subject and "Amicale de Genève" in en_mail.subject
    assert outbox("gone@example.org") == []
    [contact_mail] = outbox("bureau@amicale.example.org")  # the contact is not a member
    assert contact_mail.locale == pending.locale


def test_reject_with_reason(client, db, users, pending, login_as, outbox):
    officer = login_as(users["officer"])
    response = client.post(f"/associations/{pending.id}/reject", data=confirmed({"reason": f"  {REASON}  "}))
    assert response.status_code == 302
    db.session.refresh(pending)
    assert pending.status == AssociationStatus.REJECTED
    assert pending.status_reason == REASON
    assert pending.verified_by_id == officer.id
    [row] = audit_rows(db, "association.reject", pending)
    # The reason is the message of the workflow's row (required) and the association's status_reason.
    assert row.after == {"status": "rejected", "status_reason": REASON, "message": REASON}
    [en_mail] = outbox("en.member@example.org")
    assert en_mail.locale == "en" and "could not be verified" in en_mail.subject
    assert REASON in en_mail.body
    assert REASON in outbox("fr.member@example.org")[0].body
    # The members read the reason on their page.
    login_as(db.session.scalar(select(User).where(User.email == "en.member@example.org")))
    page = client.get(f"/associations/{pending.id}").get_data(as_text=True)
    assert "Rejected" in page and "merci de joindre la version signée" in page


@pytest.mark.parametrize("reason", ["", "   ", "abcd", "x" * 2001])
def test_reject_needs_a_reason_of_5_to_2000_characters(client, db, users, pending, login_as, outbox, reason):
    login_as(users["officer"])
    response = client.post(f"/associations/{pending.id}/reject", data=confirmed({"reason": reason}),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="reason-error"' in page
    db.session.refresh(pending)
    assert pending.status == AssociationStatus.PENDING
    assert audit_rows(db, "association.reject", pending) == []
    assert outbox("fr.member@example.org") == []


@pytest.mark.parametrize("trait", ["verified", "rejected"])
@pytest.mark.parametrize("action", ["verify", "reject"])
def test_decisions_refused_unless_pending(client, db, users, login_as, outbox, trait, action):
    association = factories.AssociationFactory(**{trait: True})
    member_of(association)
    before = (association.status, association.status_reason, association.verified_at)
    officer = login_as(users["officer"])
    officer.locale = "en"
    db.session.commit()
    response = client.post(f"/associations/{association.id}/{action}", data={"reason": REASON},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "is not awaiting verification" in response.get_data(as_text=True)
    db.session.refresh(association)
    assert (association.status, association.status_reason, association.verified_at) == before
    assert audit_rows(db, f"association.{action}", association) == []
    assert outbox() == []


@pytest.mark.parametrize("role", ["association", "evaluator", "approver", "admin"])
def test_only_officers_decide(client, db, users, pending, login_as, role):
    login_as(users[role])
    assert client.post(f"/associations/{pending.id}/verify").status_code == 403
    assert client.post(f"/associations/{pending.id}/reject", data=confirmed({"reason": REASON})).status_code == 403
    db.session.refresh(pending)
    assert pending.status == AssociationStatus.PENDING


def test_own_member_cannot_verify_own_association(client, db, pending, login_as):
    login_as(pending.members[0])
    assert client.post(f"/associations/{pending.id}/verify").status_code == 403
    db.session.refresh(pending)
    assert pending.status == AssociationStatus.PENDING


def test_verify_is_post_only(client, users, pending, login_as):
    login_as(users["officer"])
    assert client.get(f"/associations/{pending.id}/verify").status_code == 405
