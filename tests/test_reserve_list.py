"""The reserve list: a closed session keeps its ranking and envelope; money that returns is offered to the
next project of that ranking that fits, on the approver's home and the session page, and the path to fund
it (the decision from the reserve, then the grant) goes through the normal approval."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from codev.core.models import AuditEvent
from codev.grants.award.approval import approve_grant
from codev.grants.life import amendments, reserve
from codev.grants.models import Grant
from codev.projects.models import ProjectEvent, ProjectStatus
from codev.reviews.committee_documents import session_facts
from codev.reviews.models import ReserveEntry
from tests.confirm_support import confirmed
from tests.factories import CallFactory, UserFactory
from tests.factories_grants import approver
from tests.factories_ledger import page_text
from tests.factories_reserve import closed_session, ranked_project
from tests.two_factor_support import step_up

M = 1_000_000


def _world(db, envelope: int, reserve_amounts=(3 * M,)):
    """Two projects approved and funded (4 M each), the others left in the ranking, the session closed."""
    call = CallFactory(open=True, envelope_xof=envelope, committed_xof=0)
    officer = UserFactory(officer=True)
    by = approver()
    first = ranked_project(call, 9000, 4 * M, title="Forage de Kpimé")
    second = ranked_project(call, 8500, 4 * M, title="Case de santé de Lama")
    waiting = [ranked_project(call, 8000 - 100 * i, amount, title=f"Réserve {i + 1}")
               for i, amount in enumerate(reserve_amounts)]
    session = closed_session(call, officer, approve=[first, second])
    grants = [approve_grant(p, by, 4 * M, by.name, by.title) for p in (first, second)]
    db.session.commit()
    return call, session, grants, waiting, by, officer


@pytest.mark.backends
def test_the_frozen_ranking_survives_later_commitments(client, db, login_as):
    call = CallFactory(open=True, envelope_xof=20 * M, committed_xof=5 * M)
    officer = UserFactory(officer=True)
    first = ranked_project(call, 9000, 4 * M, title="Forage de Kpimé")
    second = ranked_project(call, 7000, 3 * M, title="Moulin des femmes")
    deferred = ranked_project(call, 6000, 2 * M, status=ProjectStatus.DEFERRED, title="Latrines")
    session = closed_session(call, officer, approve=[first])
    db.session.commit()

    entries = db.session.scalars(select(ReserveEntry).where(ReserveEntry.session_id == session.id)
                                 .order_by(ReserveEntry.rank)).all()
    assert [(e.project_id, e.rank, e.score_centi, e.amount_xof, e.outcome) for e in entries] == [
        (first.id, 1, 9000, 4 * M, "approved"), (second.id, 2, 7000, 3 * M, None), (deferred.id, 3, 6000, 2 * M, None)]
    assert session.remaining_at_close_xof == 15 * M

    # Later: the grant is approved and another call's business commits money; the session does not move.
    by = approver()
    approve_grant(first, by, 4 * M, by.name, by.title)
    call.committed_xof += 6 * M
    first.title = "Forage de Kpimé (renommé)"
    db.session.commit()
    login_as(officer)
    page = page_text(client.get(f"/reviews/committee/{session.id}"))
    assert "Restant à la clôture" in page and "15 000 000" in page
    assert "Engagé à la clôture" in page and "5 000 000" in page
    assert "Financé" in page  # what became of the first project
    assert page.index("Forage de Kpimé") < page.index("Moulin des femmes") < page.index("Latrines")
    facts = session_facts(session, "fr")
    assert facts["remaining"].replace("\u202f", " ").replace("\xa0", " ") == "15 000 000 F CFA" and facts["frozen"]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "committee_session.closed")).after[
        "remaining_at_close_xof"] == 15 * M


@pytest.mark.backends
def test_an_offer_appears_after_a_release_and_disappears_once_funded(client, db, login_as, outbox):
    call, session, (first, _second), (spare,), by, officer = _world(db, envelope=9 * M)  # 1 M left: 3 M does not fit
    assert reserve.call_reserve(call.id).offer is None
    login_as(by)
    assert "Liste de réserve" not in page_text(client.get("/"))

    amendments.reduce_amount(first, by, 2 * M, "Le devis actualisé est moins cher.")  # 2 M return: 3 M free
    db.session.commit()
    offer = reserve.call_reserve(call.id).offer
    assert (offer.project.id, offer.rank, offer.amount_xof) == (spare.id, 3, 3 * M)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reserve.money_returned"))
    assert event.after["amount_xof"] == 2 * M and event.after["offer"]["project"] == spare.reference
    [mail] = [m for m in outbox(by.email) if spare.reference in m.subject]
    assert "3 000 000" in mail.body.replace("\u202f", " ") and "Réserve 1" in mail.body

    home = page_text(client.get("/"))
    assert "Liste de réserve" in home and spare.reference in home
    page = page_text(client.get(f"/reviews/committee/{session.id}"))
    assert "Approuver depuis la liste de réserve" in page and "Proposé maintenant" in page

    url = f"/grants/reserve/{session.id}/projects/{spare.id}"
    refused = client.post(url, data={"message": "  "})
    assert refused.status_code == 400 and spare.status == ProjectStatus.QUALIFIED
    response = client.post(url, data={"message": "L'argent revenu finance le projet suivant du classement."})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/grants/approve/{spare.id}")
    db.session.expire_all()
    assert spare.status == ProjectStatus.APPROVED
    history = db.session.scalar(select(ProjectEvent).where(ProjectEvent.project_id == spare.id,
                                                           ProjectEvent.to_status == "approved"))
    assert history.message == "L'argent revenu finance le projet suivant du classement."
    assert reserve.call_reserve(call.id).offer is None  # the money is promised to it now
    assert "Liste de réserve" not in page_text(client.get("/"))

    response = client.post(f"/grants/approve/{spare.id}", data=step_up(by, confirmed({
        "amount": "3 000 000", "signatory_name": by.name, "signatory_title": "Ordonnatrice"})))
    assert response.status_code == 302
    db.session.expire_all()
    assert spare.status == ProjectStatus.FUNDED and call.committed_xof == 9 * M
    lines = {line.project.id: line.state for line in reserve.call_reserve(call.id).lines}
    assert lines[spare.id] == "funded"


@pytest.mark.backends
def test_an_amount_that_does_not_fit_is_not_offered(client, db, login_as):
    call, session, (first, _second), (big, small), by, _officer = _world(db, envelope=8 * M,
                                                                         reserve_amounts=(3 * M, 1_500_000))
    assert reserve.call_reserve(call.id).offer is None  # nothing left at all
    amendments.reduce_amount(first, by, 2 * M, "Une partie des travaux est prise en charge par la commune.")
    db.session.commit()
    found = reserve.call_reserve(call.id)
    assert found.available_xof == 2 * M
    assert {line.project.id: line.state for line in found.lines if line.project.id in (big.id, small.id)} == {
        big.id: "too_large", small.id: "offered"}

    login_as(by)
    response = client.post(f"/grants/reserve/{session.id}/projects/{big.id}", data={"message": "Hors rang."})
    assert response.status_code == 400 and "seulement 2 000 000" in page_text(response)
    db.session.expire_all()
    assert big.status == ProjectStatus.QUALIFIED


@pytest.mark.backends
def test_the_ranking_is_followed_in_order_and_an_approved_project_waits_first(client, db, login_as):
    call, session, (first, _second), (one, two), by, officer = _world(db, envelope=8 * M,
                                                                      reserve_amounts=(1 * M, 1 * M))
    amendments.reduce_amount(first, by, 1 * M, "Devis revu.")  # 3 M free: both would fit
    db.session.commit()
    login_as(officer)
    response = client.post(f"/grants/reserve/{session.id}/projects/{two.id}", data={"message": "Le second."})
    assert response.status_code == 400 and one.reference in page_text(response)
    response = client.post(f"/grants/reserve/{session.id}/projects/{one.id}", data={"message": "Le premier."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/reviews/committee/{session.id}#reserve")
    found = reserve.call_reserve(call.id)
    assert found.promised_xof == 1 * M and found.offer.project.id == two.id  # 3 M − 1 M promised: 2 M free


def test_only_the_latest_closed_session_is_the_reserve(db):
    call = CallFactory(open=True, envelope_xof=4 * M, committed_xof=0)
    officer = UserFactory(officer=True)
    spare = ranked_project(call, 7000, 1 * M)
    old = closed_session(call, officer)
    newer = closed_session(call, officer)
    db.session.commit()
    assert reserve.reserve_session(call.id).id == newer.id
    assert "dernière session clôturée" in reserve.offer_problem(old, spare)
    assert reserve.offer_problem(newer, spare) is None


def test_who_may_decide_from_the_reserve(client, db, login_as, users):
    call, session, (first, _second), (spare,), by, _officer = _world(db, envelope=9 * M)
    amendments.reduce_amount(first, by, 2 * M, "Devis revu.")
    db.session.commit()
    url = f"/reviews/committee/{session.id}"
    for role in ("admin", "evaluator", "association"):
        login_as(users[role])
        assert client.post(f"/grants/reserve/{session.id}/projects/{spare.id}",
                           data={"message": "Non."}).status_code == 403
    login_as(users["admin"])
    assert "Approuver depuis la liste de réserve" not in page_text(client.get(url))
    assert db.session.scalar(select(func.count(Grant.id))) == 2
    assert spare.status == ProjectStatus.QUALIFIED


@pytest.mark.backends
def test_a_long_reserve_is_read_in_pages_and_previewed_on_the_list(app, client, db, login_as):
    """The session's page shows its frozen ranking a page at a time; the list of every call's reserve shows the
    first lines still waiting, with the way to the whole list."""
    app.config["RANKING_PAGE_SIZE"] = 4
    amounts = [30 * M] + [3 * M] * 13  # 4 M free: the first does not fit, the offer is the second
    _call, session, _grants, waiting, by, _officer = _world(db, envelope=12 * M, reserve_amounts=amounts)
    assert db.session.scalar(select(func.count()).select_from(ReserveEntry)) == 16
    login_as(by)
    first = page_text(client.get(f"/reviews/committee/{session.id}"))
    assert "Rangs 1 à 4 sur 16." in first and "Page 1 sur 4" in first
    assert "Réserve 1" in first and "Réserve 2" in first and "Proposé maintenant" in first
    assert "Réserve 3" not in first
    last = page_text(client.get(f"/reviews/committee/{session.id}?page=4"))
    assert "Rangs 13 à 16 sur 16." in last and "Réserve 14" in last and "Réserve 3" not in last
    assert "Proposé maintenant" not in last and "Après le projet proposé" in last

    listed = page_text(client.get("/grants/reserve"))
    assert "la liste entière (16 lignes) est sur la page de la séance" in listed
    assert all(f"Réserve {i}" in listed for i in range(1, 11)) and "Réserve 11" not in listed
    assert "Proposé maintenant" in listed and waiting[1].reference in listed


@pytest.mark.backends
def test_what_is_promised_is_summed_per_call_by_the_database(db):
    from codev.reviews.committee import DecisionData, decide
    from tests.factories_committee import committee_session
    from tests.sql_count import statements_of

    officer, by = UserFactory(officer=True), approver()
    one, other, empty = (CallFactory(open=True, envelope_xof=50 * M, committed_xof=0) for _ in range(3))
    proposed = ranked_project(one, 9000, 3 * M)  # approved for less than it asked: the proposal counts
    asked = ranked_project(one, 8800, 2 * M)  # approved as asked: its request counts
    funded = ranked_project(one, 8600, 1 * M)  # approved, then its grant holds the money: not promised
    ranked_project(one, 8400, 4 * M)  # not approved
    elsewhere = ranked_project(other, 9000, 4 * M)
    first, second = committee_session(one, officer), committee_session(other, officer)
    decide(first, proposed, DecisionData("approved", "Prêt.", amount_xof=2_500_000), officer)
    decide(first, asked, DecisionData("approved", "Prêt."), officer)
    decide(first, funded, DecisionData("approved", "Prêt."), officer)
    decide(second, elsewhere, DecisionData("approved", "Prêt.", amount_xof=1 * M), officer)
    approve_grant(funded, by, 1 * M, by.name, by.title)
    db.session.commit()
    ids = [one.id, other.id, empty.id]
    with statements_of(db.engine) as seen:
        promised = reserve.promised_by_call(ids)
    assert promised == dict(zip(ids, [4_500_000, 1 * M, 0], strict=True))
    assert len(seen) == 1
    assert reserve.promised_xof(ids[0]) == 4_500_000
