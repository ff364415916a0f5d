"""Self-service sign-up of an association and its first member: success, refusals, statutes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from codev.accounts.models import Association, AssociationStatus, Role, User
from codev.core.models import Attachment, AuditEvent
from codev.core.storage import storage
from tests import factories
from tests.factories_associations import FAKE_PDF, PASSWORD, PDF_BYTES, signup_data, upload

EN = {"Accept-Language": "en"}


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def post_signup(client, data, **kwargs):
    return client.post(
        "/associations/signup", data=data, content_type="multipart/form-data", headers=EN, **kwargs
    )


def test_signup_page_shows_the_form(client):
    response = client.get("/associations/signup", headers=EN)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Register an association" in page
    assert 'name="domains"' in page and 'type="file"' in page
    assert 'enctype="multipart/form-data"' in page


def test_signup_creates_pending_association_and_signed_in_member(app, client, db, users, outbox):
    users["officer"].locale = "en"
    second_officer = factories.UserFactory(officer=True, email="officer2@ministry.example.tg", locale="fr")
    factories.UserFactory(officer=True, email="gone@ministry.example.tg", active=False)
    db.session.commit()

    data = signup_data(email="  Kafui@Example.ORG ", locale="en", statutes=upload(PDF_BYTES))
    response = post_signup(client, data)

    association = db.session.scalar(select(Association).where(Association.acronym == "ATL"))
    assert association is not None
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/associations/{association.id}")
    assert association.status == AssociationStatus.PENDING
    assert association.country == "FR" and association.city == "Lyon"
    assert association.embassy == "paris"  # left empty: taken from the country
    assert association.founded_year == 2012 and association.members_count == 45
    assert association.website == "https://www.atl-lyon.example.org"
    assert association.home_region == "TG-P" and association.locale == "en"
    assert sorted(association.domain_codes) == ["health", "water"]
    assert association.contact_email == "kafui@example.org"
    assert association.statutes is not None and association.statutes.content_type == "application/pdf"

    member = db.session.scalar(select(User).where(User.email == "kafui@example.org"))
    assert member.role == Role.ASSOCIATION and member.association_id == association.id
    assert member.locale == "en" and member.name == "Kafui Adjo"
    assert member.password_hash.startswith("pbkdf2:sha256")
    assert association.statutes.uploaded_by_id == member.id

    # Signed in: the association page opens, in the member's language, with the flash.
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Association des Togolais de Lyon" in page
    assert "Your association is registered" in page
    with client.session_transaction() as session:
        assert session["lang"] == "en"
        assert session["_user_id"] == member.get_id()

    welcome = outbox("kafui@example.org")
    assert len(welcome) == 1 and welcome[0].locale == "en"
    assert "Association des Togolais de Lyon" in welcome[0].subject
    assert f"/associations/{association.id}" in welcome[0].body
    to_officer = outbox(users["officer"].email)
    assert len(to_officer) == 1 and to_officer[0].locale == "en"
    assert "new association to verify" in to_officer[0].subject
    assert [m.locale for m in outbox(second_officer.email)] == ["fr"]
    assert outbox("gone@ministry.example.tg") == []
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "association.register",
                                 AuditEvent.object_id == association.id)
    ) is not None


def test_signup_keeps_the_chosen_embassy(client, db):
    response = post_signup(client, signup_data(country="DE", embassy="paris"))
    assert response.status_code == 302
    association = db.session.scalar(select(Association))
    assert association.country == "DE" and association.embassy == "paris"


def test_128_character_password_is_accepted(client, db):
    password = "Ab1-" * 32
    response = post_signup(client, signup_data(password=password, confirm=password))
    assert response.status_code == 302
    assert count(db, User) == 1


def assert_nothing_saved(db, users_before=0):
    assert count(db, Association) == 0
    assert count(db, User) == users_before
    assert count(db, Attachment) == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "x" * 5000}, "name", "At most 200 characters."),
        ({"city": "   "}, "city", "This field is required."),
        ({"country": ""}, "country", "This field is required."),
        ({"country": "XX"}, "country", None),
        ({"domains": []}, "domains", "Tick at least one domain."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address"),
        ({"confirm": "une autre phrase longue"}, "confirm", "The two passwords are different."),
        ({"password": "abcdefghi", "confirm": "abcdefghi"}, "password", "at least 10 characters"),
        ({"password": "x" * 129, "confirm": "x" * 129}, "password", "at most 128 characters"),
        ({"founded_year": "1850"}, "founded_year", "A year between 1900 and"),
        ({"founded_year": "3000"}, "founded_year", "A year between 1900 and"),
        ({"founded_year": "deux mille"}, "founded_year", None),
        ({"members_count": "0"}, "members_count", "At least 1."),
        ({"website": "javascript:alert(1)//x.org"}, "website", "Enter a web address"),
        ({"contact_phone": "<b>call</b>"}, "contact_phone", "Only digits"),
        ({"description": "x" * 5001}, "description", "At most 5000 characters."),
        ({"accept": ""}, "accept", "Tick this box"),
    ],
)
def test_refused_input_rerenders_with_the_message_and_saves_nothing(client, db, overrides, field, message):
    data = signup_data(**overrides)
    if overrides.get("accept") == "":
        del data["accept"]
    response = post_signup(client, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page  # the message sits next to its field
    if message:
        assert message in page
    assert "nothing has been saved yet" in page
    assert_nothing_saved(db)
    # What the person typed is still there (the passwords are not).
    assert 'value="Lyon"' in page or field == "city"
    assert 'value="kafui@example.org"' in page or field == "email"
    assert PASSWORD not in page


def test_empty_form_is_refused_without_error(client, db):
    response = post_signup(client, {})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for field in ("name", "country", "city", "domains", "full_name", "email", "password", "accept"):
        assert f'id="{field}-error"' in page, field
    assert_nothing_saved(db)


def test_duplicate_email_differing_only_in_case_is_refused(client, db, users):
    response = post_signup(client, signup_data(email="MEMBER@Asso.Example.org"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "An account already uses this email address" in page
    assert 'value="Association des Togolais de Lyon"' in page
    assert count(db, Association) == 1  # only the fixture's
    assert count(db, User) == len(users)


def test_oversized_statutes_refused_and_nothing_saved(app, client, db):
    # Kept small: a body over 500 kB makes the test client spool it to a file it never closes.
    app.config["STATUTES_MAX_BYTES"] = 100 * 1024
    big = PDF_BYTES + b"0" * (100 * 1024)
    response = post_signup(client, signup_data(statutes=upload(big)))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The file is too large" in page
    assert "choose the statutes file again" in page
    assert 'value="Association des Togolais de Lyon"' in page
    assert_nothing_saved(db)


def test_fake_renamed_statutes_refused_with_a_clear_message(app, client, db):
    response = post_signup(client, signup_data(statutes=upload(FAKE_PDF, "statuts.pdf")))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="statutes-error"' in page
    assert "This file is not an accepted document. Accepted formats: PDF, JPEG, PNG, DOCX." in page
    assert "choose the statutes file again" in page
    for typed in ('value="ATL"', 'value="W691234567"', "Nous finançons des forages à Kpalimé.",
                  'value="Kafui Adjo"', 'value="kafui@example.org"'):
        assert typed in page, typed
    assert 'value="water" checked' in page or 'checked id="domains-0"' in page
    assert_nothing_saved(db)
    assert not list(storage().keys())


def test_signed_in_user_is_sent_away_from_signup(client, users, login_as):
    login_as(users["association"])
    response = client.get("/associations/signup")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")
    response = client.post("/associations/signup", data=signup_data())
    assert response.status_code == 302


def test_failure_after_the_file_was_stored_removes_it(app, client, db, monkeypatch):
    """An account created meanwhile with the same email: the stored statutes do not stay behind."""
    from codev.accounts.associations import services
    from codev.accounts.services import AccountError

    def taken(**kwargs):
        raise AccountError("email_taken")

    monkeypatch.setattr(services, "create_user", taken)
    response = post_signup(client, signup_data(statutes=upload(PDF_BYTES)))
    assert response.status_code == 400
    assert "An account already uses this email address" in response.get_data(as_text=True)
    assert_nothing_saved(db)
    assert not list(storage().keys())
