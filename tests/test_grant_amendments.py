"""Amendments of a grant (rule 6): the deadline extended, the amount reduced or increased, each by an
approver with a reason; the tranches split again, the envelope released or committed, a new letter version
in both languages that states the amendment, the old one superseded, the association told; and every
refusal in words beside its field, changing nothing."""

from __future__ import annotations

import html
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from codev.calls.models import Call
from codev.core.models import AuditEvent
from codev.core.money import format_xof
from codev.grants.disbursements.payments import record_disbursement
from codev.grants.life import amendments
from codev.grants.life.amendments import AmendmentError
from codev.grants.models import AwardLetter, GrantAmendment, GrantStatus
from codev.projects.models import ProjectStatus
from tests.factories import CallFactory, UserFactory
from tests.factories_grants import approved_project, approver, awarded_grant, pdf_text
from tests.factories_ledger import page_text, verified
from tests.factories_projects import member_of

M = 1_000_000


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _letters(db, grant) -> dict[str, AwardLetter]:
    rows = db.session.scalars(select(AwardLetter).where(AwardLetter.grant_id == grant.id)).all()
    return {f"{letter.version}{letter.language}": letter for letter in rows}


def _count(db, model) -> int:
    return db.session.scalar(select(func.count(model.id)))


@pytest.fixture
def grant(db):
    """A grant of 3 000 000 (the association asked for 4 000 000), approved by an approver with a title."""
    project = approved_project(call=CallFactory(open=True, envelope_xof=20 * M, committed_xof=0))
    UserFactory(member=True, association=project.association, email="ama@asso.example.org", locale="fr")
    return awarded_grant(project, by=approver(), amount=3 * M)


def test_an_approver_extends_the_deadline_and_the_new_letters_state_it(client, db, login_as, grant, outbox):
    by = grant.approved_by
    before = grant.contribution_deadline
    later = before + timedelta(days=45)
    login_as(by)
    assert 'name="deadline"' in client.get(f"/grants/{grant.id}/amend/deadline").get_data(as_text=True)
    reason = "Les virements des membres ont pris du retard."
    response = client.post(f"/grants/{grant.id}/amend/deadline", data={"deadline": later.isoformat(), "reason": reason})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/grants/{grant.id}#amendments")
    db.session.expire_all()
    [amendment] = db.session.scalars(select(GrantAmendment)).all()
    assert (amendment.kind, amendment.deadline_before, amendment.deadline_after, amendment.amount_after_xof,
            amendment.letter_version, amendment.approved_by_id) == ("extend_deadline", before, later, 3 * M, 2, by.id)
    assert grant.contribution_deadline == later
    letters = _letters(db, grant)
    assert {k: v.status for k, v in letters.items()} == {"1fr": "superseded", "1en": "superseded",
                                                          "2fr": "valid", "2en": "valid"}
    assert letters["1fr"].status_reason == "Les virements des membres ont pris du retard."
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "grant.amended.extend_deadline" in actions and actions.count("letter.superseded") == 2

    french = _plain(pdf_text(letters["2fr"].pdf))
    assert "Avenants à l'attribution" in french and "Délai de contribution prolongé" in french
    assert "Les virements des membres ont pris du retard." in french
    assert f"{later.day} " in french and str(later.year) in french
    english = _plain(pdf_text(letters["2en"].pdf))
    assert "Amendments to the award" in english and "Contribution deadline extended" in english
    assert "contribution deadline moved from" in english

    [mail] = [m for m in outbox("ama@asso.example.org") if "avenant" in m.subject]
    assert "Les virements des membres ont pris du retard." in mail.body and letters["2fr"].reference in mail.body
    page = page_text(client.get(f"/grants/{grant.id}"))
    assert "Avenants" in page and "Délai de contribution prolongé" in page and "version 2" in page


@pytest.mark.backends
def test_a_reduction_returns_the_money_and_splits_the_tranches_again(db, grant):
    call_id = grant.call_id
    amendments.reduce_amount(grant, grant.approved_by, 2 * M, "Le devis actualisé est moins cher.")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Call, call_id).committed_xof == 2 * M
    assert grant.amount_xof == 2 * M and grant.required_association_xof == 2 * M  # 1:1
    assert [t.amount_xof for t in grant.tranches] == [800_000, 800_000, 400_000]  # 40 %, 40 %, 20 %
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reserve.money_returned"))
    assert event.after["amount_xof"] == 1 * M
    letters = _letters(db, grant)
    french = _plain(pdf_text(letters["2fr"].pdf))
    assert "Subvention réduite" in french and "subvention portée de 3 000 000 F CFA à 2 000 000 F CFA" in french
    assert "deux millions de francs CFA" in french and "Le devis actualisé est moins cher." in french
    english = _plain(pdf_text(letters["2en"].pdf))
    assert "Grant reduced" in english
    assert f"grant changed from {_plain(format_xof(3 * M, 'en'))} to {_plain(format_xof(2 * M, 'en'))}" in english


@pytest.mark.backends
def test_an_increase_is_committed_to_the_envelope_within_the_rules_of_the_approval(db, grant):
    call = db.session.get(Call, grant.call_id)
    call.max_grant_xof = 3 * M  # the call's rules changed after the approval: the snapshot counts
    db.session.commit()
    amendments.increase_amount(grant, grant.approved_by, 4 * M, "Le prix du ciment a augmenté.")
    db.session.commit()
    db.session.expire_all()
    assert call.committed_xof == 4 * M and grant.amount_xof == 4 * M
    assert [t.amount_xof for t in grant.tranches] == [1_600_000, 1_600_000, 800_000]
    assert _letters(db, grant)["2fr"].status == "valid"


def test_refusals_say_what_to_fix_and_change_nothing(client, db, login_as, grant):
    by = grant.approved_by
    login_as(by)
    url = f"/grants/{grant.id}/amend"
    cases = [
        ("deadline", {"deadline": grant.contribution_deadline.isoformat(), "reason": "Retard."}, "deadline",
         "doit être postérieur"),
        ("deadline", {"deadline": (grant.contribution_deadline + timedelta(days=9)).isoformat(), "reason": " "},
         "reason", ""),
        ("reduce", {"amount": "3 000 000", "reason": "Rien."}, "amount", "moins que les 3 000 000"),
        ("increase", {"amount": "4 200 000", "reason": "Plus."}, "amount", "dépasse ce que l'association a demandé"),
        ("increase", {"amount": "abc", "reason": "Plus."}, "amount", ""),
    ]
    for kind, data, field, words in cases:
        response = client.post(f"{url}/{kind}", data=data)
        page = html.unescape(page_text(response))
        assert response.status_code == 400, (kind, data)
        assert f'id="{field}-error"' in page, (kind, data)
        assert words in page, (kind, data, words)
        if data["reason"].strip():
            assert data["reason"] in page  # what was typed is kept
    db.session.expire_all()
    assert _count(db, GrantAmendment) == 0 and _count(db, AwardLetter) == 2
    assert grant.amount_xof == 3 * M and db.session.get(Call, grant.call_id).committed_xof == 3 * M


def test_only_an_approver_amends(client, db, login_as, grant, users):
    for role in ("officer", "admin", "association", "evaluator"):
        login_as(users[role])
        assert client.post(f"/grants/{grant.id}/amend/reduce",
                           data={"amount": "1 000 000", "reason": "Non."}).status_code == 403
    with pytest.raises(AmendmentError, match="ordonnateur"):
        amendments.reduce_amount(grant, users["officer"], 1 * M, "Non.")
    db.session.rollback()
    login_as(users["officer"])
    page = page_text(client.get(f"/grants/{grant.id}"))
    assert "Réduire la subvention" not in page
    login_as(grant.approved_by)
    assert "Réduire la subvention" in page_text(client.get(f"/grants/{grant.id}"))


@pytest.mark.backends
def test_an_increase_beyond_the_envelope_is_refused(db):
    project = approved_project(call=CallFactory(open=True, envelope_xof=3_500_000, committed_xof=0))
    grant = awarded_grant(project, amount=3 * M)
    with pytest.raises(AmendmentError) as refused:
        amendments.increase_amount(grant, grant.approved_by, 4 * M, "Le prix du ciment a augmenté.")
    assert "il ne reste que 500 000 F CFA" in _plain(str(refused.value))
    db.session.rollback()
    assert db.session.get(Call, grant.call_id).committed_xof == 3 * M
    assert _count(db, GrantAmendment) == 0


def test_an_increase_beyond_the_rules_as_they_stood_at_the_approval_is_refused(db):
    call = CallFactory(open=True, envelope_xof=20 * M, committed_xof=0, max_grant_xof=3_500_000)
    grant = awarded_grant(approved_project(call=call), amount=3 * M)
    call.max_grant_xof = 20 * M  # raised after the approval: the grant keeps its own rules
    db.session.commit()
    with pytest.raises(AmendmentError) as refused:
        amendments.increase_amount(grant, grant.approved_by, 4 * M, "Plus.")
    assert "au plus 3 500 000 F CFA" in _plain(str(refused.value))
    db.session.rollback()


def test_a_reduction_never_goes_below_what_a_tranche_has_paid(db, users):
    member, officer = users["association"], users["officer"]
    project = approved_project(member_of(member.association), call=CallFactory(open=True, envelope_xof=20 * M))
    grant = awarded_grant(project, amount=4 * M)
    verified(grant, member, officer, 4 * M)
    record_disbursement(grant, officer, tranche_number=1, amount_xof=1 * M, value_date=grant.approved_at.date(),
                        bank_reference="VIR-001", idempotency_key=str(uuid.uuid4()))
    db.session.commit()
    assert amendments.amendment_facts(grant).floor == 2_500_000  # 40 % of it must hold the 1 000 000 paid
    with pytest.raises(AmendmentError) as refused:
        amendments.reduce_amount(grant, grant.approved_by, 2 * M, "Moins.")
    assert "La tranche 1 serait de 800 000 F CFA" in _plain(str(refused.value))
    db.session.rollback()
    with pytest.raises(AmendmentError, match="déjà versés"):
        amendments.reduce_amount(grant, grant.approved_by, 900_000, "Moins.")
    db.session.rollback()
    amendments.reduce_amount(grant, grant.approved_by, 2_500_000, "Moins.")
    db.session.commit()
    assert [t.amount_xof for t in grant.tranches] == [1 * M, 1 * M, 500_000]


def test_a_grant_no_longer_awarded_or_active_is_not_amended(client, db, login_as, grant):
    grant.status = GrantStatus.LAPSED  # set up directly: how it lapsed is not what this test is about
    grant.project.status = ProjectStatus.LAPSED
    db.session.commit()
    with pytest.raises(AmendmentError, match="attribuée ou active"):
        amendments.extend_deadline(grant, grant.approved_by, grant.contribution_deadline + timedelta(days=5), "Non.")
    db.session.rollback()
    login_as(grant.approved_by)
    response = client.get(f"/grants/{grant.id}/amend/deadline")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/grants/{grant.id}")


def test_a_grant_whose_letters_were_revoked_is_cancelled_not_amended(client, db, login_as, grant):
    """Revoked letters leave no valid award: an amendment must not issue a fresh valid one behind it."""
    from codev.grants.award.letters import revoke_letters

    revoke_letters(grant, grant.approved_by, "Erreur de bénéficiaire.")
    db.session.commit()
    with pytest.raises(AmendmentError, match="révoquées"):
        amendments.extend_deadline(grant, grant.approved_by, grant.contribution_deadline + timedelta(days=5), "Oui.")
    db.session.rollback()
    assert _count(db, GrantAmendment) == 0
    assert not any(letter.status == "valid" for letter in _letters(db, grant).values())
    login_as(grant.approved_by)
    response = client.get(f"/grants/{grant.id}/amend/deadline", follow_redirects=True)
    assert "révoquées" in html.unescape(response.get_data(as_text=True))
