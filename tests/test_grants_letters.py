"""Award letters: what the PDF says (figures, words, verification URL), fingerprints, escaped text,
Ewe and Kabiyè letters, downloads of the stored bytes, re-issue and revocation."""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import select

from codev.grants.award.letters import canonical_content, content_fingerprint
from codev.grants.models import AwardLetter
from tests.confirm_support import confirmed
from tests.factories import AssociationFactory, UserFactory
from tests.factories_grants import approved_project, approver, awarded_grant, pdf_text
from tests.factories_projects import member_of


def _letters(db, grant) -> dict[str, AwardLetter]:
    rows = db.session.scalars(select(AwardLetter).where(AwardLetter.grant_id == grant.id)
                              .order_by(AwardLetter.version, AwardLetter.language)).all()
    return {f"{letter.version}{letter.language}": letter for letter in rows}


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_the_french_letter_says_the_amount_in_figures_and_words_and_where_to_verify(db):
    association = AssociationFactory(verified=True, name="Amicale des ressortissants de Kpimé", acronym="ARK")
    project = approved_project(member_of(association), requested_grant_xof=2_500_000)
    grant = awarded_grant(project, amount=2_500_000)
    letter = _letters(db, grant)["1fr"]

    text = _plain(pdf_text(letter.pdf))
    assert letter.reference == f"{project.reference}-L1-FR"
    assert letter.reference in text
    assert "2 500 000 F CFA" in text
    assert "deux millions cinq cent mille francs CFA" in text
    assert "Amicale des ressortissants de Kpimé (ARK)" in text
    assert f"http://localhost/verify/{letter.reference}" in text
    assert "Kloto 1" in text and "Forage équipé à Kpimé" in text
    assert "25 %" in text  # 2 500 000 of a budget of 10 000 000
    assert "1 000 000 F CFA" in text and "500 000 F CFA" in text  # the tranches: 40 %, 40 %, 20 %
    # The printed content fingerprint is the stored one (a long hash may wrap: compare without spaces).
    assert letter.content_sha256 in text.replace(" ", "")
    assert letter.sha256 == hashlib.sha256(letter.pdf).hexdigest()


def test_the_verification_address_and_the_qr_code_are_links_in_the_pdf(db):
    import io

    from pypdf import PdfReader

    grant = awarded_grant(approved_project(member_of(AssociationFactory(verified=True))))
    for letter in _letters(db, grant).values():
        links = [annotation.get_object()["/A"]["/URI"]
                 for page in PdfReader(io.BytesIO(letter.pdf)).pages for annotation in page.get("/Annots") or ()
                 if annotation.get_object().get("/Subtype") == "/Link"]
        expected = f"http://localhost/verify/{letter.reference}"
        assert links and set(links) == {expected}, (letter.reference, links)


def test_the_english_letter_is_in_english(db):
    grant = awarded_grant(amount=2_500_000, project=approved_project(requested_grant_xof=2_500_000))
    text = _plain(pdf_text(_letters(db, grant)["1en"].pdf))
    assert "two million five hundred thousand CFA francs" in text
    assert "Award letter" in text and "one CFA franc from the State" in text


def test_the_content_fingerprint_is_the_sha256_of_the_canonical_facts(db):
    grant = awarded_grant()
    letter = _letters(db, grant)["1fr"]
    facts = {
        "reference": letter.reference, "version": 1, "language": "fr",
        "issued_on": letter.issued_at.date().isoformat(), "association": grant.project.association.display_name,
        "project_reference": grant.project.reference, "project_title": grant.project.title, "commune": "Kloto 1",
        "amount_xof": 4_000_000, "ratio": "1:1", "required_association_xof": 4_000_000,
        "contribution_deadline": grant.contribution_deadline.isoformat(),
        "tranches": [[1, 4000, 1_600_000, "contribution_verified"], [2, 4000, 1_600_000, "progress_report_accepted"],
                     [3, 2000, 800_000, "final_report_accepted"]],
        "signatory": [letter.signatory_name, letter.signatory_title],
    }
    assert content_fingerprint(facts) == letter.content_sha256
    assert hashlib.sha256(canonical_content(facts)).hexdigest() == letter.content_sha256


def test_hostile_project_text_is_printed_as_text_and_fetches_nothing(db, caplog):
    hostile = '<img src="file:///etc/passwd"> <a href="http://169.254.169.254/latest/">x</a>'
    project = approved_project(title=f"Forage {hostile}"[:200], commune="Kloto 1")
    project.association.contact_name = '<img src="http://169.254.169.254/x.png">'
    with caplog.at_level(logging.WARNING, logger="codev.pdf"):
        grant = awarded_grant(project)
    letter = _letters(db, grant)["1fr"]
    text = pdf_text(letter.pdf).replace(" ", "")
    assert '<imgsrc="file:///etc/passwd">' in text
    assert "http://169.254.169.254/latest/" in text
    assert b"root:x:0" not in letter.pdf
    assert not [r for r in caplog.records if "refused" in r.getMessage()]  # nothing was even asked for


def test_ewe_and_kabiye_letters_in_the_association_name_are_in_the_pdf(db):
    association = AssociationFactory(verified=True, name="Ɖokuibɔ ƒe habɔbɔ ŋgɔyiyi Ɣeɖoɖo ɣeʋuʋu ɛ", acronym=None)
    grant = awarded_grant(approved_project(member_of(association)))
    text = pdf_text(_letters(db, grant)["1fr"].pdf)
    assert "Ɖokuibɔ ƒe habɔbɔ ŋgɔyiyi Ɣeɖoɖo ɣeʋuʋu ɛ" in text
    for letter in "ɖɛƒɣŋɔʋ":
        assert letter in text


def test_the_download_serves_the_stored_bytes_as_an_attachment(client, db, login_as):
    grant = awarded_grant()
    letter = _letters(db, grant)["1fr"]
    login_as(UserFactory(officer=True))
    response = client.get(f"/grants/{grant.id}/letters/{letter.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{letter.reference}.pdf"'
    assert response.data == letter.pdf
    assert client.get(f"/grants/{grant.id}/letters/{letter.id}").data == letter.pdf  # never rendered again


def test_reissue_makes_version_two_in_both_languages_and_supersedes_version_one(client, db, login_as, outbox):
    grant = awarded_grant()
    member_email = grant.project.association.members[0].email
    login_as(UserFactory(officer=True))
    response = client.post(f"/grants/{grant.id}/reissue", data={"reason": "Nom de l'association corrigé"})
    assert response.status_code == 302

    db.session.expire_all()
    letters = _letters(db, grant)
    assert set(letters) == {"1fr", "1en", "2fr", "2en"}
    assert letters["1fr"].status == letters["1en"].status == "superseded"
    assert letters["1fr"].status_reason == "Nom de l'association corrigé"
    assert letters["2fr"].status == letters["2en"].status == "valid"
    assert letters["2fr"].reference == f"{grant.project.reference}-L2-FR"
    assert letters["2fr"].signatory_name == letters["1fr"].signatory_name
    assert letters["2fr"].reference in pdf_text(letters["2fr"].pdf)
    assert letters["2fr"].sha256 != letters["1fr"].sha256
    assert "L2-FR" in outbox(member_email)[-1].body

    page = client.get(f"/verify/{letters['1fr'].reference}")
    assert "Nom de l&#39;association corrigé" in page.text


def test_reissue_needs_a_reason_and_stays_on_the_page(client, db, login_as):
    grant = awarded_grant()
    login_as(approver())
    response = client.post(f"/grants/{grant.id}/reissue", data={"reason": "  "})
    assert response.status_code == 400
    assert len(_letters(db, grant)) == 2


def test_revocation_marks_the_valid_letters_revoked_and_a_revoked_grant_cannot_be_reissued(client, db, login_as):
    grant = awarded_grant()
    login_as(approver())
    response = client.post(f"/grants/{grant.id}/revoke", data=confirmed({"reason": "Fausse déclaration"}))
    assert response.status_code == 302
    db.session.expire_all()
    letters = _letters(db, grant)
    assert {letter.status for letter in letters.values()} == {"revoked"}
    assert letters["1fr"].status_reason == "Fausse déclaration"

    client.post(f"/grants/{grant.id}/reissue", data={"reason": "Nouvelle version"})
    db.session.expire_all()
    assert len(_letters(db, grant)) == 2  # refused: nothing to replace


def test_the_association_sees_its_language_and_the_ministry_both(client, db, login_as):
    grant = awarded_grant()
    letters = _letters(db, grant)
    login_as(grant.project.association.members[0])
    page = client.get(f"/grants/{grant.id}")
    assert letters["1fr"].reference in page.text and letters["1en"].reference not in page.text
    assert client.get(f"/grants/{grant.id}/letters/{letters['1fr'].id}").status_code == 200
    assert client.get(f"/grants/{grant.id}/letters/{letters['1en'].id}").status_code == 404

    login_as(UserFactory(officer=True))
    page = client.get(f"/grants/{grant.id}")
    assert letters["1fr"].reference in page.text and letters["1en"].reference in page.text
    assert client.get(f"/grants/{grant.id}/letters/{letters['1en'].id}").status_code == 200
