"""Irreversible actions ask first (codev.core.confirm): the first post changes nothing and shows what will happen,
with its figures, and what cannot be undone; "Yes" posts the same fields with ``confirm`` and acts; "No, go back"
leads back; the confirmation sent twice acts once and never fails. Each action, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from typing import Any

import pytest
from sqlalchemy import func, select

from codev.accounts.models import Association
from codev.core.models import AuditEvent
from codev.core.money import format_xof
from codev.core.timeutil import utcnow
from codev.grants.life.cancellation import cancel_grant
from codev.grants.models import AwardLetter, ContributionEntry, Disbursement, DisbursementRequest, Grant
from codev.projects.models import Project
from codev.reviews.committee import DecisionData, decide
from codev.reviews.models import Assignment, CommitteeSession
from tests import factories
from tests.confirm_support import confirmed
from tests.factories_committee import committee_session, decision_form, qualified_project
from tests.factories_grants import approved_project, awarded_grant
from tests.factories_ledger import declare, make_grant, verified
from tests.factories_projects import ready_project
from tests.factories_reviews import assign, evaluator, in_review_project
from tests.two_factor_support import step_up


@dataclass
class Case:
    """One irreversible action: who posts what where, what the database holds, what the confirm step says."""

    user: Any
    url: str
    data: dict[str, str]
    state: Callable[[], Any]  # what the action changes, read afresh from the database
    says: list[str]  # the figures and names the confirm step restates
    undo: str  # its sentence on what cannot be undone (French, the reader's language)
    button: str
    back: str = ""  # the page "No, go back" leads to (a path)
    extra: dict[str, Any] = field(default_factory=dict)
    step_up: bool = False  # the confirmation also asks for the second factor's code (two_factor.step_up)

    def confirmed_data(self) -> dict[str, str]:
        return step_up(self.user, confirmed(self.data)) if self.step_up else confirmed(self.data)


def plain(text: str) -> str:
    return unescape(text).replace("\u202f", " ").replace("\xa0", " ")


def xof(amount: int) -> str:
    return plain(format_xof(amount, "fr"))


def scalar(db, query):
    db.session.expire_all()
    return db.session.scalar(query)


# --- the actions ----------------------------------------------------------------------------------------------


def approve_grant_case(db, users) -> Case:
    project = approved_project()
    db.session.commit()
    return Case(
        users["approver"], f"/grants/approve/{project.id}",
        {"amount": "4 000 000", "signatory_name": "Essi Lawson", "signatory_title": "Directrice"},
        lambda: scalar(db, select(func.count(Grant.id)).where(Grant.project_id == project.id)),
        [xof(4_000_000), project.association.display_name, project.title, "Essi Lawson — Directrice"],
        "Une subvention approuvée ne se retire pas", "Oui, approuver la subvention", f"/grants/approve/{project.id}",
        step_up=True)


def letter_statuses(db, grant_id: int) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(AwardLetter.status).where(AwardLetter.grant_id == grant_id)))


def revoke_letter_case(db, users) -> Case:
    grant = awarded_grant()
    reference = scalar(db, select(AwardLetter.reference).where(AwardLetter.grant_id == grant.id))
    return Case(
        users["approver"], f"/grants/{grant.id}/revoke", {"reason": "Fausse déclaration de l'apport"},
        lambda: letter_statuses(db, grant.id),
        [reference, "Fausse déclaration de l'apport", xof(grant.amount_xof)],
        "Une lettre révoquée le reste", "Oui, révoquer la lettre", f"/grants/{grant.id}")


def cancel_grant_case(db, users) -> Case:
    grant = awarded_grant()
    return Case(
        users["approver"], f"/grants/{grant.id}/cancel", {"reason": "Le projet est abandonné par la commune."},
        lambda: scalar(db, select(Grant.status).where(Grant.id == grant.id)),
        [xof(grant.amount_xof), grant.project.association.display_name, "Le projet est abandonné par la commune."],
        "Une subvention annulée ne peut pas être rouverte", "Oui, annuler la subvention", f"/grants/{grant.id}/cancel")


def record_disbursement_case(db, users) -> Case:
    member = users["association"]
    grant = make_grant(member, amount=20_000_000)
    verified(grant, member, users["officer"], 20_000_000)
    db.session.commit()
    form = {"idempotency_key": str(uuid.uuid4()), "tranche": "1", "amount": "3 000 000",
            "value_date": utcnow().date().isoformat(), "bank_reference": "VIR-2026-77"}
    return Case(
        users["officer"], f"/grants/{grant.id}/disbursements/new", form,
        lambda: scalar(db, select(func.count(Disbursement.id)).where(Disbursement.grant_id == grant.id)),
        [xof(3_000_000), "VIR-2026-77", grant.project.association.display_name],
        "un décaissement enregistré ne peut être ni modifié ni supprimé", "Oui, enregistrer le décaissement",
        f"/grants/{grant.id}/disbursements/new")


def refuse_request_case(db, users) -> Case:
    grant = make_grant(users["association"], amount=20_000_000)
    verified(grant, users["association"], users["officer"], 20_000_000)
    request = DisbursementRequest(grant_id=grant.id, tranche_number=1, amount_xof=2_500_000,
                                  value_date=utcnow().date(), bank_reference="VIR-2026-88",
                                  idempotency_key=str(uuid.uuid4()), requested_by_id=users["officer"].id,
                                  requested_at=utcnow())
    db.session.add(request)
    db.session.commit()
    return Case(
        users["approver"], f"/grants/{grant.id}/disbursement-requests/{request.id}/refuse",
        {"note": "RIB du bénéficiaire à vérifier"},
        lambda: scalar(db, select(DisbursementRequest.status).where(DisbursementRequest.id == request.id)),
        [xof(2_500_000), "VIR-2026-88", "RIB du bénéficiaire à vérifier"],
        "Une demande refusée ne peut plus être signée", "Oui, refuser le décaissement",
        f"/grants/{grant.id}/disbursement-requests/{request.id}")


def close_session_case(db, users) -> Case:
    call = factories.CallFactory(open=True)
    project = qualified_project(call, score_centi=7000)
    session = committee_session(call, users["officer"])
    decide(session, project, DecisionData("approved", "Oui."), users["officer"])
    db.session.commit()
    return Case(
        users["approver"], f"/reviews/committee/{session.id}/minutes",
        {"minutes": "Le comité a siégé au complet.", "action": "close"},
        lambda: scalar(db, select(CommitteeSession.status).where(CommitteeSession.id == session.id)),
        ["1 décision", "1 projet", "Le comité a siégé au complet.", "12 mai 2026"],
        "Une séance close est définitive", "Oui, clore la séance", f"/reviews/committee/{session.id}")


def committee_rejection_case(db, users) -> Case:
    call = factories.CallFactory(open=True)
    project = qualified_project(call, score_centi=7000)
    session = committee_session(call, users["officer"])
    db.session.commit()
    return Case(
        users["officer"], f"/reviews/committee/{session.id}/projects/{project.id}/decide",
        decision_form("rejected", reason="Le site ne convient pas."),
        lambda: scalar(db, select(Project.status).where(Project.id == project.id)),
        [project.title, project.association.display_name, "Le site ne convient pas."],
        "Un rejet est définitif", "Oui, rejeter le projet",
        f"/reviews/committee/{session.id}/projects/{project.id}/decide")


def reject_association_case(db, users) -> Case:
    association = factories.AssociationFactory(name="Amicale de Genève")
    db.session.commit()
    return Case(
        users["officer"], f"/associations/{association.id}/reject", {"reason": "Les statuts ne sont pas signés."},
        lambda: scalar(db, select(Association.status).where(Association.id == association.id)),
        ["Amicale de Genève", "Les statuts ne sont pas signés."],
        "Le rejet et son motif restent", "Oui, rejeter l'association", f"/associations/{association.id}")


def screening_ineligible_case(db, users) -> Case:
    from tests.factories_projects import submitted_project

    project = submitted_project(factories.UserFactory(member=True))
    return Case(
        users["officer"], f"/reviews/projects/{project.id}/screen",
        {"outcome": "ineligible", "message": "Hors des régions de l'appel.", "comment_plan": "Plan incomplet"},
        lambda: scalar(db, select(Project.status).where(Project.id == project.id)),
        [project.title, project.association.display_name, "Hors des régions de l'appel."],
        "Un projet inéligible l'est définitivement", "Oui, le déclarer inéligible",
        f"/reviews/projects/{project.id}/screen", extra={"kept": "Plan incomplet"})


def withdraw_project_case(db, users) -> Case:
    member = factories.UserFactory(member=True)
    project = ready_project(member)
    db.session.commit()
    return Case(
        member, f"/projects/{project.id}/withdraw", {"reason": "Financé par la commune."},
        lambda: scalar(db, select(Project.status).where(Project.id == project.id)),
        [project.title, "Financé par la commune."],
        "Un projet retiré ne peut plus être soumis", "Oui, retirer le projet", f"/projects/{project.id}")


def close_project_case(db, users) -> Case:
    grant = awarded_grant()
    cancel_grant(grant, users["approver"], "Abandon du projet.")
    db.session.commit()
    return Case(
        users["approver"], f"/grants/{grant.id}/close-project", {"message": "Dossier archivé."},
        lambda: scalar(db, select(Project.status).where(Project.id == grant.project_id)),
        [grant.project.title, "Dossier archivé."],
        "Un dossier clôturé est définitif", "Oui, clôturer le dossier", f"/grants/{grant.id}")


def reject_contribution_case(db, users) -> Case:
    member = users["association"]
    grant = make_grant(member)
    entry = declare(grant, member, 2_000_000)
    db.session.commit()
    return Case(
        users["officer"], f"/grants/{grant.id}/contributions/{entry.id}/reject", {"reject-reason": "Reçu illisible"},
        lambda: scalar(db, select(func.count(ContributionEntry.id)).where(ContributionEntry.grant_id == grant.id)),
        [xof(2_000_000), "Reçu illisible"],
        "Une déclaration rejetée le reste", "Oui, rejeter la contribution",
        f"/grants/{grant.id}/contributions/{entry.id}")


def withdraw_assignment_case(db, users) -> Case:
    project = in_review_project()
    row = assign(project, evaluator(name="Yawo Tsogbe"))
    return Case(
        users["officer"], f"/reviews/assignments/{row.id}/withdraw", {},
        lambda: scalar(db, select(Assignment.status).where(Assignment.id == row.id)),
        ["Yawo Tsogbe", project.title],
        "Une affectation retirée ne peut pas être rouverte", "Oui, retirer l'affectation",
        f"/reviews/projects/{project.id}")


def recusal_case(db, users) -> Case:
    project = in_review_project()
    reviewer = evaluator(name="Yawo Tsogbe")
    row = assign(project, reviewer)
    return Case(
        reviewer, f"/reviews/assignments/{row.id}/declare",
        {"declaration": "conflict", "note": "Mon frère préside l'association."},
        lambda: scalar(db, select(Assignment.status).where(Assignment.id == row.id)),
        [project.title, "Mon frère préside l'association."],
        "Une déclaration de conflit d'intérêts est définitive", "Oui, j'ai un conflit d'intérêts",
        f"/reviews/assignments/{row.id}")


CASES = {
    "approve a grant": approve_grant_case,
    "revoke a letter": revoke_letter_case,
    "cancel a grant": cancel_grant_case,
    "record a disbursement": record_disbursement_case,
    "refuse a disbursement": refuse_request_case,
    "close a committee session": close_session_case,
    "reject a project in committee": committee_rejection_case,
    "reject an association": reject_association_case,
    "declare a project ineligible": screening_ineligible_case,
    "withdraw a project": withdraw_project_case,
    "close a project's file": close_project_case,
    "reject a contribution": reject_contribution_case,
    "withdraw an assignment": withdraw_assignment_case,
    "declare a conflict of interest": recusal_case,
}


def audit_count(db) -> int:
    return scalar(db, select(func.count(AuditEvent.id)))


def hidden_fields(page: str) -> dict[str, str]:
    form = page.split('class="confirm-form"', 1)[1].split("</form>", 1)[0]
    return {unescape(name): unescape(value)
            for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}


@pytest.mark.parametrize("name", list(CASES))
def test_the_first_post_only_asks_and_the_confirmed_one_acts_once(client, db, users, login_as, name):
    case = CASES[name](db, users)
    login_as(case.user)
    before, audited = case.state(), audit_count(db)

    asked = client.post(case.url, data=case.data)
    page = plain(asked.get_data(as_text=True))
    assert asked.status_code == 200, page[:2000]
    assert case.state() == before and audit_count(db) == audited  # nothing done, nothing recorded
    assert "Cette action est irréversible." in page and case.undo in page
    for figure in case.says:
        assert figure in page, figure
    assert f">{case.button}</button>" in page
    fields = hidden_fields(page)
    assert fields["confirm"] == "yes" and "csrf_token" in fields
    for key, value in case.data.items():  # what was typed goes with the confirmation
        assert fields[key] == value
    back = re.search(r'<a class="button button-secondary" href="([^"]+)">Non, revenir en arrière</a>', page)
    assert back and back.group(1).split("#")[0] == case.back
    assert client.get(back.group(1)).status_code == 200

    done = client.post(case.url, data=case.confirmed_data())
    assert done.status_code in (200, 302), plain(done.get_data(as_text=True))[:2000]
    after, audited_after = case.state(), audit_count(db)
    assert after != before and audited_after > audited

    again = client.post(case.url, data=case.confirmed_data())  # the confirmation sent twice
    assert again.status_code < 500
    assert case.state() == after and audit_count(db) == audited_after


def test_a_confirmation_page_in_english(client, db, users, login_as):
    users["approver"].locale = "en"
    case = approve_grant_case(db, users)
    login_as(case.user)
    page = plain(client.post(case.url, data=case.data).get_data(as_text=True))
    assert "This cannot be undone." in page and "Yes, approve the grant" in page and "No, go back" in page
    assert f"Approve a grant of {plain(format_xof(4_000_000, 'en'))} to" in page


def test_an_approval_the_rules_refuse_is_refused_before_the_confirm_step(client, db, users, login_as):
    case = approve_grant_case(db, users)
    login_as(case.user)
    response = client.post(case.url, data={**case.data, "amount": "9 000 000"})
    page = plain(response.get_data(as_text=True))
    assert response.status_code == 400 and "Cette action est irréversible." not in page
    assert 'value="9 000 000"' in page and case.state() == 0


def test_a_deferral_is_not_asked_twice(client, db, users, login_as):
    """A deferred project comes back before a later session: deferring is not irreversible."""
    case = committee_rejection_case(db, users)
    login_as(case.user)
    response = client.post(case.url, data=decision_form("deferred", reason="Visite de terrain d'abord."))
    assert response.status_code == 302 and case.state() == "deferred"
