"""Who reaches which association: members only their own (404 elsewhere), ministry all, evaluators none."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from codev.accounts.models import Invitation
from codev.core.storage import store_upload
from tests import factories
from tests.factories_associations import PDF_BYTES, invitation_with_token, member_of, upload


@pytest.fixture
def two(db, app):
    """Association A with its member, association B (with statutes and an open invitation)."""
    a = factories.AssociationFactory(name="Association A")
    b = factories.AssociationFactory(name="Association B", verified=True)
    member_a = member_of(a)
    member_b = member_of(b)
    with app.test_request_context():
        b.statutes = store_upload(
            FileStorage(io.BytesIO(PDF_BYTES), filename="statuts.pdf"), kind="statutes",
            allowed=("pdf",), max_bytes=10_000, uploaded_by_id=member_b.id,
        )
    invitation, _token = invitation_with_token(association=b, invited_by=member_b)
    db.session.commit()
    return {"a": a, "b": b, "member_a": member_a, "member_b": member_b, "invitation": invitation}


def urls_of(b, invitation):
    return [
        ("GET", f"/associations/{b.id}", None),
        ("GET", f"/associations/{b.id}/edit", None),
        ("POST", f"/associations/{b.id}/edit", {"name": "Piraté", "country": "FR", "city": "X",
                                               "domains": ["water"], "locale": "fr",
                                               "contact_name": "X", "contact_email": "x@example.org"}),
        ("GET", f"/associations/{b.id}/statutes/download", None),
        ("POST", f"/associations/{b.id}/statutes", {"statutes": upload(PDF_BYTES)}),
        ("POST", f"/associations/{b.id}/invitations", {"email": "spy@example.org"}),
        ("POST", f"/associations/{b.id}/invitations/{invitation.id}/revoke", None),
    ]


def test_member_of_a_gets_404_on_every_url_of_b_and_changes_nothing(client, db, two, login_as):
    b, invitation = two["b"], two["invitation"]
    login_as(two["member_a"])
    for method, url, data in urls_of(b, invitation):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data=data or {}, content_type="multipart/form-data")
        assert response.status_code == 404, (method, url, response.status_code)
        assert "Association B" not in response.get_data(as_text=True)
    db.session.refresh(b)
    db.session.refresh(invitation)
    assert b.name == "Association B" and b.city == "Lyon"
    assert invitation.revoked_at is None
    assert db.session.scalar(select(Invitation).where(Invitation.email == "spy@example.org")) is None


def test_member_of_b_reaches_all_of_them(client, db, two, login_as):
    b = two["b"]
    login_as(two["member_b"])
    assert client.get(f"/associations/{b.id}").status_code == 200
    assert client.get(f"/associations/{b.id}/edit").status_code == 200
    with client.get(f"/associations/{b.id}/statutes/download") as response:
        assert response.status_code == 200


@pytest.mark.parametrize("role", ["officer", "approver", "admin"])
def test_ministry_roles_see_every_association(client, two, users, login_as, role):
    login_as(users[role])
    for association in (two["a"], two["b"]):
        page = client.get(f"/associations/{association.id}")
        assert page.status_code == 200
        assert association.name in page.get_data(as_text=True)
    with client.get(f"/associations/{two['b'].id}/statutes/download") as response:
        assert response.status_code == 200


def test_ministry_roles_do_not_act_for_members(client, two, users, login_as):
    """Invitations and statutes belong to the association's members (officers may edit the profile)."""
    b = two["b"]
    login_as(users["officer"])
    assert client.post(f"/associations/{b.id}/invitations", data={"email": "x@example.org"}).status_code == 403
    assert client.post(f"/associations/{b.id}/statutes", data={}).status_code == 403


def test_evaluator_sees_no_association(client, two, users, login_as):
    login_as(users["evaluator"])
    b, invitation = two["b"], two["invitation"]
    for method, url, data in urls_of(b, invitation):
        response = client.open(url, method=method, data=data or {})
        assert response.status_code in (403, 404), (method, url)
    for url in ("/associations/mine", "/associations/directory", "/associations/pending"):
        assert client.get(url).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, two):
    b = two["b"]
    for url in (f"/associations/{b.id}", f"/associations/{b.id}/statutes/download", "/associations/directory"):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login?next=" in response.headers["Location"]
