"""The public verification page: status, key facts and fingerprints; checking a file; unknown references."""

from __future__ import annotations

import io

from sqlalchemy import select

from codev.grants.models import AwardLetter
from tests.confirm_support import confirmed
from tests.factories import UserFactory
from tests.factories_grants import approver, awarded_grant


def _letter(db, grant, language="fr", version=1) -> AwardLetter:
    return db.session.scalar(select(AwardLetter).where(
        AwardLetter.grant_id == grant.id, AwardLetter.language == language, AwardLetter.version == version))


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _upload(client, reference, data: bytes, name="lettre.pdf"):
    return client.post(f"/verify/{reference}", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_anyone_sees_a_valid_letter_with_its_facts_and_fingerprints(client, db):
    grant = awarded_grant()
    letter = _letter(db, grant)
    response = client.get(f"/verify/{letter.reference}")
    assert response.status_code == 200
    text = _plain(response.text)
    assert "Valide" in text
    assert grant.project.association.display_name in text and grant.project.title.replace("'", "&#39;") in text
    assert "Kloto 1" in text and "4 000 000 F CFA" in text
    assert letter.sha256 in text and letter.content_sha256 in text
    assert 'name="viewport"' in text  # made for the phone that scanned the QR code


def test_the_reference_is_found_whatever_its_case(client, db):
    letter = _letter(db, awarded_grant())
    assert client.get(f"/verify/{letter.reference.lower()}").status_code == 200


def test_the_sha256_of_the_downloaded_letter_matches_the_verification_page(client, db, login_as):
    grant = awarded_grant()
    letter = _letter(db, grant)
    login_as(grant.project.association.members[0])
    downloaded = client.get(f"/grants/{grant.id}/letters/{letter.id}").data
    client.delete_cookie("session", domain="localhost")

    import hashlib

    assert hashlib.sha256(downloaded).hexdigest() in client.get(f"/verify/{letter.reference}").text
    response = _upload(client, letter.reference, downloaded)
    assert response.status_code == 200
    assert "Ce fichier est la lettre émise le" in response.text or "This file is the letter" in response.text


def test_a_changed_file_does_not_match(client, db):
    letter = _letter(db, awarded_grant())
    forged = letter.pdf.replace(b"4 000 000", b"9 000 000") + b"\n%"
    response = _upload(client, letter.reference, forged)
    assert response.status_code == 200
    assert "ne correspond pas" in response.text or "does not match" in response.text
    assert "Ce fichier est la lettre" not in response.text


def test_a_file_far_larger_than_a_letter_is_refused_without_reading_it_all(client, app, db):
    letter = _letter(db, awarded_grant())
    app.config["LETTER_VERIFY_MAX_BYTES"] = 1000
    response = _upload(client, letter.reference, b"%PDF-" + b"x" * 5000)
    assert response.status_code == 400


def test_a_superseded_letter_says_so_with_the_date_and_reason(client, db, login_as):
    grant = awarded_grant()
    login_as(UserFactory(officer=True))
    client.post(f"/grants/{grant.id}/reissue", data={"reason": "Adresse du contact changée"})
    client.delete_cookie("session", domain="localhost")
    response = client.get(f"/verify/{_letter(db, grant).reference}")
    assert "Remplacée" in response.text or "Superseded" in response.text
    assert "Adresse du contact changée" in response.text
    assert "verify-superseded" in response.text
    assert "verify-valid" in client.get(f"/verify/{_letter(db, grant, version=2).reference}").text


def test_a_revoked_letter_shows_revoked(client, db, login_as):
    grant = awarded_grant()
    login_as(approver())
    client.post(f"/grants/{grant.id}/revoke", data=confirmed({"reason": "Contribution jamais versée"}))
    client.delete_cookie("session", domain="localhost")
    response = client.get(f"/verify/{_letter(db, grant, 'en').reference}")
    assert response.status_code == 200
    assert "verify-revoked" in response.text
    assert "Révoquée" in response.text or "Revoked" in response.text
    assert "Contribution jamais versée" in response.text


def test_an_unknown_reference_is_a_plain_not_found(client, db):
    awarded_grant()
    for reference in ("CODEV-2026-9999-L1-FR", "x" * 300, "<script>"):
        response = client.get(f"/verify/{reference}")
        assert response.status_code == 404
        # The site's ordinary "page not found": no status, no facts, nothing about what exists.
        assert "verify-status" not in response.text and "<script>" not in response.text
        assert "CODEV-2026-0" not in response.text
        assert _upload(client, reference, b"%PDF-1.4").status_code == 404


def test_the_verification_needs_no_account_but_the_grant_page_does(client, db):
    grant = awarded_grant()
    assert client.get(f"/verify/{_letter(db, grant).reference}").status_code == 200
    response = client.get(f"/grants/{grant.id}")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
