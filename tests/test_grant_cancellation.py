"""Cancellation (rule 6): an approver cancels a grant with the reason; G − D returns to the envelope, the
letters are revoked, the project lapses, the association is told; refusals say why and keep what was typed.
The people here read the pages in French, the programme's working language (their accounts' locale).
"""

from __future__ import annotations

import hashlib
import html
import uuid

import pytest

from codev.calls.models import Call
from codev.core.models import AuditEvent
from codev.core.timeutil import utcnow
from codev.grants.disbursements.payments import record_disbursement
from codev.grants.life.cancellation import CancellationError, cancel_grant
from codev.grants.models import AwardLetter, Grant, GrantStatus, LetterStatus
from codev.projects.models import Project, ProjectEvent, ProjectStatus
from tests.confirm_support import confirmed
from tests.factories import UserFactory
from tests.factories_grants import awarded_grant
from tests.factories_ledger import make_grant, member_of_grant, page_text, verified
from tests.test_tranches import ONE

REASON = "L'association a abandonné le projet : le site a été inondé."


def stub_letters(db, grant, by) -> list[AwardLetter]:
    """Version 1 of the letters in both languages, valid (the PDF a stand-in: rendering is tested elsewhere)."""
    pdf = b"%PDF-1.4 stub " + grant.project.reference.encode()
    found = [AwardLetter(grant_id=grant.id, version=1, language=language, issued_by_id=by.id,
                         reference=f"{grant.project.reference}-L1-{language.upper()}", signatory_name=by.name,
                         signatory_title="Ordonnatrice", pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(),
                         content_sha256="0" * 64, status=LetterStatus.VALID) for language in ("fr", "en")]
    db.session.add_all(found)
    db.session.flush()
    return found


def started_grant(db, users, amount=6_000_000, paid=2_000_000):
    """An active grant with ``paid`` disbursed and its letters, committed; returns (grant, letters)."""
    member, officer, by = users["association"], users["officer"], users["approver"]
    grant = make_grant(member, amount=amount, plan=ONE, approver=by)
    letters = stub_letters(db, grant, by)
    verified(grant, member, officer, amount)
    if paid:
        record_disbursement(grant, officer, tranche_number=1, amount_xof=paid, value_date=utcnow().date(),
                            bank_reference="VIR-0001", idempotency_key=str(uuid.uuid4()))
    db.session.commit()
    return grant, letters


def committed(db, call_id) -> int:
    db.session.expire_all()
    return db.session.get(Call, call_id).committed_xof


def actions(db, *names) -> list[str]:
    return list(db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.action.in_(names))
                                   .order_by(AuditEvent.id)))


@pytest.mark.backends
def test_an_approver_cancels_and_the_unspent_balance_returns(client, db, users, login_as, outbox, backend):
    grant, letters = started_grant(db, users)
    call_id, grant_id = grant.call_id, grant.id
    before = committed(db, call_id)
    login_as(users["approver"])

    form = page_text(client.get(f"/grants/{grant_id}/cancel"))
    assert "6 000 000" in form and "2 000 000" in form and "4 000 000" in form  # G, D and what returns
    assert letters[0].reference in form and "Motif de l'annulation de la subvention" in html.unescape(form)

    response = client.post(f"/grants/{grant_id}/cancel", data=confirmed({"reason": REASON}))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/grants/{grant_id}")

    assert committed(db, call_id) == before - 4_000_000  # G − D, exactly
    grant = db.session.get(Grant, grant_id)
    assert (grant.status, grant.released_xof, grant.cancel_reason) == (GrantStatus.CANCELLED, 4_000_000, REASON)
    assert grant.cancelled_by_id == users["approver"].id and grant.cancelled_at is not None
    assert grant.project.status == ProjectStatus.LAPSED
    assert {(letter.status, letter.status_reason) for letter in grant.letters} == {(LetterStatus.REVOKED, REASON)}
    assert actions(db, "grant.cancelled", "letter.revoked", "project.lapsed") == [
        "grant.cancelled", "letter.revoked", "letter.revoked", "project.lapsed"]
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "grant.cancelled"))
    assert (event.after["released_xof"], event.after["disbursed_xof"]) == (4_000_000, 2_000_000)

    page = html.unescape(page_text(client.get(f"/grants/{grant_id}")))
    assert "Cette subvention est annulée" in page and REASON in page and users["approver"].name in page
    assert "Retourné à l'enveloppe de l'appel" in page and "4 000 000" in page
    assert f"/grants/{grant_id}/cancel" not in page  # nothing left to cancel

    verify = html.unescape(client.get(f"/verify/{letters[0].reference}").get_data(as_text=True))
    assert "a été annulée le" in verify and REASON in verify

    member_mail = outbox(users["association"].email)[-1]
    assert REASON in member_mail.body and "4 000 000" in member_mail.body.replace("\u202f", " ")
    assert any(REASON in m.body for m in outbox(users["officer"].email))


def test_nothing_disbursed_the_whole_grant_returns(db, users):
    member, by = users["association"], users["approver"]
    grant = make_grant(member, amount=3_000_000, approver=by)
    db.session.commit()
    before = committed(db, grant.call_id)
    done = cancel_grant(db.session.get(Grant, grant.id), by, REASON)
    db.session.commit()
    assert done.returned == 3_000_000 and committed(db, grant.call_id) == before - 3_000_000


def test_members_are_told_in_their_language(db, users, outbox):
    grant, _letters = started_grant(db, users, paid=0)
    english = member_of_grant(grant)
    english.locale, english.email = "en", "english@asso.example.org"
    db.session.commit()
    cancel_grant(grant, users["approver"], REASON)
    db.session.commit()
    assert outbox(english.email)[-1].subject.startswith("codev: the grant for")
    french = outbox(users["association"].email)[-1]
    assert "annulée" in french.subject and "Motif" in french.body


def test_no_reason_is_refused_beside_the_field(client, db, users, login_as):
    grant, _letters = started_grant(db, users)
    login_as(users["approver"])
    response = client.post(f"/grants/{grant.id}/cancel", data=confirmed({"reason": "   "}))
    assert response.status_code == 400
    assert 'id="reason-error"' in response.get_data(as_text=True)
    assert db.session.get(Grant, grant.id).status == GrantStatus.ACTIVE


def test_only_an_approver_cancels(client, db, users, login_as):
    grant, _letters = started_grant(db, users)
    for role in ("officer", "association", "evaluator", "admin"):
        login_as(users[role])
        assert client.get(f"/grants/{grant.id}/cancel").status_code == 403
        assert client.post(f"/grants/{grant.id}/cancel", data=confirmed({"reason": REASON})).status_code == 403
    with pytest.raises(CancellationError, match="Seul un ordonnateur"):
        cancel_grant(grant, users["officer"], REASON)
    db.session.rollback()
    assert db.session.get(Grant, grant.id).status == GrantStatus.ACTIVE
    login_as(users["officer"])
    assert f"/grants/{grant.id}/cancel" not in client.get(f"/grants/{grant.id}").get_data(as_text=True)


def test_cancelling_twice_says_so_and_keeps_what_was_typed(client, db, users, login_as):
    grant, _letters = started_grant(db, users)
    login_as(users["approver"])
    client.post(f"/grants/{grant.id}/cancel", data=confirmed({"reason": REASON}))
    released = db.session.get(Grant, grant.id).released_xof
    before = committed(db, grant.call_id)
    response = client.post(f"/grants/{grant.id}/cancel", data=confirmed({"reason": "Une deuxième fois"}))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Cette subvention est déjà annulée." in page and "Une deuxième fois" in page
    assert committed(db, grant.call_id) == before and db.session.get(Grant, grant.id).released_xof == released


def test_a_pending_disbursement_blocks_the_cancellation_until_it_is_refused(app, client, db, users, login_as):
    app.config["FOUR_EYES_THRESHOLD_XOF"] = 1_000_000
    grant, _letters = started_grant(db, users, paid=0)
    request = record_disbursement(grant, users["officer"], tranche_number=1, amount_xof=2_500_000,
                                  value_date=utcnow().date(), bank_reference="VIR-0002",
                                  idempotency_key=str(uuid.uuid4())).request
    db.session.commit()
    login_as(users["approver"])
    assert "attend une seconde signature" in client.get(f"/grants/{grant.id}/cancel").get_data(as_text=True)
    response = client.post(f"/grants/{grant.id}/cancel", data=confirmed({"reason": REASON}))
    page = html.unescape(page_text(response))
    assert response.status_code == 400
    assert "Un décaissement de 2 500 000 F CFA attend une seconde signature" in page
    assert f"/disbursement-requests/{request.id}" in page and REASON in page  # what was typed is kept
    assert db.session.get(Grant, grant.id).status == GrantStatus.AWARDED

    second = UserFactory(approver=True, email="second@ministry.example.tg")
    login_as(second)
    client.post(f"/grants/{grant.id}/disbursement-requests/{request.id}/refuse",
                data=confirmed({"note": "Pièce manquante"}))
    assert client.post(f"/grants/{grant.id}/cancel", data=confirmed({"reason": REASON})).status_code == 302
    assert db.session.get(Grant, grant.id).released_xof == 6_000_000


def test_the_association_sees_the_outcome_of_its_own_grant_only(client, db, users, login_as):
    grant, _letters = started_grant(db, users)
    cancel_grant(grant, users["approver"], REASON)
    db.session.commit()
    login_as(users["association"])
    page = html.unescape(page_text(client.get(f"/grants/{grant.id}")))
    assert "Cette subvention est annulée" in page and REASON in page and "4 000 000" in page
    assert f"/grants/{grant.id}/cancel" not in page
    stranger = UserFactory(member=True, email="stranger@other.example.org")
    login_as(stranger)
    assert client.get(f"/grants/{grant.id}").status_code == 404


def test_revoking_the_letters_offers_the_cancellation(client, db, users, login_as):
    grant, _letters = started_grant(db, users)
    login_as(users["approver"])
    assert "Annuler aussi la subvention" in client.get(f"/grants/{grant.id}").get_data(as_text=True)
    client.post(f"/grants/{grant.id}/revoke", data=confirmed({"reason": "Fausse déclaration"}))
    page = html.unescape(client.get(f"/grants/{grant.id}").get_data(as_text=True))
    assert "n'a plus de lettre valide" in page and f"/grants/{grant.id}/cancel" in page
    assert db.session.get(Grant, grant.id).status == GrantStatus.ACTIVE  # revoking alone cancels nothing


def test_revoking_with_cancel_the_grant_too_cancels_it(client, db, users, login_as):
    grant, _letters = started_grant(db, users)
    login_as(users["approver"])
    response = client.post(f"/grants/{grant.id}/revoke", data=confirmed({"reason": REASON, "cancel_grant": "y"}))
    assert response.status_code == 302
    grant = db.session.get(Grant, grant.id)
    assert (grant.status, grant.cancel_reason, grant.released_xof) == (GrantStatus.CANCELLED, REASON, 4_000_000)
    assert {letter.status for letter in grant.letters} == {LetterStatus.REVOKED}
    assert actions(db, "grant.letter_revoked") == []  # one cancellation, not a separate revocation


def test_a_rendered_letter_says_its_grant_was_cancelled(client, db, users):
    grant = awarded_grant()
    cancel_grant(grant, users["approver"], REASON)
    db.session.commit()
    letter = db.session.scalar(db.select(AwardLetter).where(AwardLetter.grant_id == grant.id))
    page = html.unescape(client.get(f"/verify/{letter.reference}").get_data(as_text=True))
    assert "révoquée" in page and "a été annulée le" in page
    project = db.session.get(Project, grant.project_id)
    assert project.status == ProjectStatus.LAPSED
    event = db.session.scalar(db.select(ProjectEvent).where(ProjectEvent.project_id == project.id,
                                                            ProjectEvent.to_status == ProjectStatus.LAPSED))
    assert REASON in event.message and event.actor_id == users["approver"].id
