"""Committee sessions: convening, the session page and its ranking, minutes and closing, lists and cards."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from codev.calls.models import CallStatus
from codev.projects.models import ProjectStatus
from codev.reviews.committee import DecisionData, commune_totals, decide
from codev.reviews.models import CommitteeSession, SessionStatus
from tests.confirm_support import confirmed
from tests.factories import CallFactory
from tests.factories_committee import committee_session, qualified_project
from tests.sql_count import statements_of

SESSION_FORM = {"held_on": "2026-05-12", "place": "Lomé", "chair": "Essi Lawson",
                "members": "Essi Lawson, présidente\n\n  Kodjo Agbeko  \n", "tie_breaks": ["led_by_women"]}


def test_an_officer_convenes_a_session(client, db, login_as, users):
    call = CallFactory(open=True)
    login_as(users["officer"])
    assert f'value="{call.id}"' in client.get(f"/reviews/committee/new?call_id={call.id}").get_data(as_text=True)
    response = client.post("/reviews/committee/new", data={**SESSION_FORM, "call": str(call.id)})
    assert response.status_code == 302
    session = db.session.scalar(select(CommitteeSession))
    assert (session.call_id, session.members, session.tie_breaks, session.status) == (
        call.id, "Essi Lawson, présidente\nKodjo Agbeko", "led_by_women", "open")
    assert response.headers["Location"].endswith(f"/reviews/committee/{session.id}")


def test_a_session_needs_its_members_and_an_opened_call(client, db, login_as, users):
    draft = CallFactory()
    opened = CallFactory(open=True)
    login_as(users["officer"])
    response = client.post("/reviews/committee/new", data={**SESSION_FORM, "call": str(opened.id), "members": " "})
    assert response.status_code == 400 and 'id="members-error"' in response.get_data(as_text=True)
    response = client.post("/reviews/committee/new", data={**SESSION_FORM, "call": str(draft.id)})
    assert response.status_code == 400
    assert 'value="Lomé"' in response.get_data(as_text=True)  # what was typed is kept
    assert db.session.scalar(select(func.count(CommitteeSession.id))) == 0


@pytest.mark.parametrize("role", ["approver", "admin", "evaluator", "association"])
def test_only_officers_convene(client, db, login_as, users, role):
    call = CallFactory(open=True)
    login_as(users[role])
    assert client.post("/reviews/committee/new", data={**SESSION_FORM, "call": str(call.id)}).status_code == 403
    assert db.session.scalar(select(func.count(CommitteeSession.id))) == 0


@pytest.mark.backends
def test_the_session_page_ranks_the_projects_and_shows_where_the_money_ends(client, db, login_as, users):
    call = CallFactory(open=True, envelope_xof=10_000_000, committed_xof=2_000_000)
    first = qualified_project(call, score_centi=8125, requested=5_000_000, title="Forage de Kpimé")
    second = qualified_project(call, score_centi=7350, requested=3_000_000, title="Case de santé",
                               spread_flagged=True)
    third = qualified_project(call, score_centi=7350, requested=2_000_000, title="Latrines scolaires",
                              status=ProjectStatus.DEFERRED, led_by_women=True)
    qualified_project(call, score_centi=9000, status=ProjectStatus.IN_REVIEW, title="Pas encore qualifié")
    session = committee_session(call, users["officer"])
    db.session.commit()
    login_as(users["approver"])
    page = client.get(f"/reviews/committee/{session.id}").get_data(as_text=True)
    # Led by women wins the tie at 73,50; the envelope remaining is 8 000 000: 5 + 2 fit, 3 more do not.
    assert page.index(first.title) < page.index(third.title) < page.index("enveloppe s’épuise ici") < page.index(
        second.title)
    assert "Pas encore qualifié" not in page
    assert "81,25 / 100" in page and "73,50 / 100" in page
    assert "écart important" in page
    assert "7\u202f000\u202f000" in page and "10\u202f000\u202f000" in page
    assert page.count("Enregistrer la décision") == 3


@pytest.mark.backends
def test_the_least_funded_commune_counts_approved_projects_of_the_whole_programme(db, users):
    other_call = CallFactory(open=True)
    qualified_project(other_call, status=ProjectStatus.APPROVED, requested=6_000_000, commune="Kloto 1")
    qualified_project(other_call, status=ProjectStatus.FUNDED, requested=1_000_000, commune="Kloto 1")
    qualified_project(other_call, status=ProjectStatus.REJECTED, requested=9_000_000, commune="Tône 1")
    deciding = qualified_project(other_call, status=ProjectStatus.APPROVED, requested=2_000_000, commune="Tône 1")
    assert commune_totals(set()) == {"Kloto 1": 7_000_000, "Tône 1": 2_000_000}
    assert commune_totals({deciding.id}) == {"Kloto 1": 7_000_000}


def test_session_page_queries_do_not_grow_with_the_projects(client, db, login_as, users, app):
    def count_queries(n: int) -> int:
        call = CallFactory(open=True)
        projects = [qualified_project(call, score_centi=6000 + i, requested=1_000_000 + i) for i in range(n)]
        session = committee_session(call, users["officer"])
        decide(session, projects[0], DecisionData("approved", "Oui."), users["officer"])
        db.session.commit()
        db.session.expire_all()
        with statements_of(db.engine) as statements:
            assert client.get(f"/reviews/committee/{session.id}").status_code == 200
        return len(statements)

    login_as(users["officer"])
    assert count_queries(3) == count_queries(30)


@pytest.mark.backends
def test_minutes_are_saved_then_the_session_is_closed_and_frozen(client, db, login_as, users):
    call = CallFactory(open=True)
    project = qualified_project(call, score_centi=7000)
    waiting = qualified_project(call, score_centi=6500)
    session = committee_session(call, users["officer"])
    decide(session, project, DecisionData("approved", "Oui."), users["officer"])
    db.session.commit()
    login_as(users["approver"])
    response = client.post(f"/reviews/committee/{session.id}/minutes",
                           data=confirmed({"minutes": "Le comité a siégé.", "action": "save"}))
    assert response.status_code == 302
    assert session.minutes == "Le comité a siégé." and session.status == SessionStatus.OPEN
    client.post(f"/reviews/committee/{session.id}/minutes",
                data=confirmed({"minutes": "Version finale.", "action": "close"}))
    db.session.expire_all()
    assert (session.status, session.minutes) == (SessionStatus.CLOSED, "Version finale.")
    assert session.closed_at is not None
    page = client.get(f"/reviews/committee/{session.id}").get_data(as_text=True)
    assert "Version finale." in page and "Enregistrer la décision" not in page
    assert waiting.title in page  # the ranking is frozen at closing: the undecided project stays in it (reserve)
    response = client.post(f"/reviews/committee/{session.id}/minutes",
                           data=confirmed({"minutes": "Réécrit.", "action": "save"}))
    assert response.status_code == 302
    db.session.expire_all()
    assert session.minutes == "Version finale."
    login_as(users["officer"])
    assert client.get(f"/reviews/committee/{session.id}/edit").status_code == 302


def test_an_officer_corrects_an_open_session(client, db, login_as, users):
    session = committee_session(CallFactory(open=True), users["officer"])
    db.session.commit()
    login_as(users["officer"])
    page = client.get(f"/reviews/committee/{session.id}/edit").get_data(as_text=True)
    assert "Kodjo Agbeko" in page
    assert re.search(r'<input checked[^>]*value="least_funded_commune"', page)
    assert not re.search(r'<input checked[^>]*value="earliest_submission"', page)
    response = client.post(f"/reviews/committee/{session.id}/edit",
                           data={**SESSION_FORM, "place": "Kara", "tie_breaks": ["earliest_submission"]})
    assert response.status_code == 302
    assert (session.place, session.tie_breaks) == ("Kara", "earliest_submission")


def test_sessions_are_listed_per_call_with_the_projects_waiting(client, db, login_as, users):
    call = CallFactory(open=True, title="Appel eau 2026")
    qualified_project(call)
    committee_session(call, users["officer"], held_on=datetime(2026, 4, 2, tzinfo=UTC).date())
    CallFactory(status=CallStatus.DRAFT, title="Appel brouillon")
    db.session.commit()
    login_as(users["admin"])
    page = client.get("/reviews/committee/").get_data(as_text=True)
    assert "Appel eau 2026" in page and "2 avril 2026" in page and "Appel brouillon" not in page
    assert "Convoquer une séance" not in page  # only officers convene
    assert 'href="/reviews/committee/"' in page  # the navigation entry


def test_the_officer_home_counts_the_qualified_projects_awaiting_the_committee(client, db, login_as, users):
    call = CallFactory(open=True)
    for _ in range(2):
        qualified_project(call)
    qualified_project(call, status=ProjectStatus.DEFERRED)
    db.session.commit()
    login_as(users["officer"])
    page = client.get("/").get_data(as_text=True)
    assert "projets qualifiés en attente du comité" in page
    assert '<span class="stat">2</span>' in page
