"""A committee's ranking in pages: a session before thousands of projects shows them a page at a time
(``RANKING_PAGE_SIZE`` rows), in the order of the whole ranking, with the envelope line where it falls and a
link to the page holding it; a decision just recorded brings the officer back to the page of its project."""

from __future__ import annotations

import re

import pytest

from codev.reviews.committee import DecisionData, close_session, decide
from tests.factories import CallFactory
from tests.factories_committee import committee_session, decision_form, qualified_project

pytestmark = pytest.mark.backends

SIZE = 5


@pytest.fixture
def ranked(app, db, users):
    """Twelve projects scored 90, 89 … 79, each asking 1 000 000 of an envelope of 7 500 000: ranks 1–7 fit."""
    app.config["RANKING_PAGE_SIZE"] = SIZE
    call = CallFactory(open=True, envelope_xof=7_500_000, committed_xof=0)
    projects = [qualified_project(call, score_centi=9000 - 100 * i, requested=1_000_000, title=f"Projet n° {i + 1}")
                for i in range(12)]
    session = committee_session(call, users["officer"])
    db.session.commit()
    return session, projects


def ranks_shown(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="project-\d+"[^>]*>\s*<td class="num"[^>]*>(\d+)</td>', page)]


def test_the_first_page_shows_the_first_ranks_and_links_to_the_envelope_line(client, login_as, users, ranked):
    session, _ = ranked
    login_as(users["officer"])
    page = client.get(f"/reviews/committee/{session.id}").get_data(as_text=True)
    assert ranks_shown(page) == [1, 2, 3, 4, 5]
    assert "Rangs 1 à 5 sur 12." in page
    assert "Page 1 sur 3" in page
    assert "enveloppe s’épuise ici" not in page  # rank 8 is the first beyond it, on page 2
    assert re.search(r'href="/reviews/committee/\d+\?page=2#envelope-line">L’enveloppe s’épuise au rang 8\.', page)
    assert "tiennent dans l'enveloppe restante : 7 sur 12." in page  # the count is the whole ranking's


def test_a_later_page_continues_the_order_with_the_running_totals_and_the_line(client, login_as, users, ranked):
    session, projects = ranked
    login_as(users["officer"])
    page = client.get(f"/reviews/committee/{session.id}?page=2").get_data(as_text=True)
    assert ranks_shown(page) == [6, 7, 8, 9, 10]
    assert page.index("Projet n° 7") < page.index('id="envelope-line"') < page.index("Projet n° 8")
    assert "7\u202f000\u202f000" in page and "8\u202f000\u202f000" in page  # running totals of ranks 7 and 8
    assert "Projet n° 1<" not in page and "Projet n° 11" not in page
    assert "L’enveloppe s’épuise au rang" not in page  # the line is on this page


def test_a_page_past_the_end_is_the_last_and_the_total_is_the_whole_ranking(client, login_as, users, ranked):
    session, _ = ranked
    login_as(users["officer"])
    for asked in ("3", "99999999999999999999", "abc"):
        page = client.get(f"/reviews/committee/{session.id}?page={asked}").get_data(as_text=True)
        assert ranks_shown(page) == ([11, 12] if asked != "abc" else [1, 2, 3, 4, 5])
        assert "12\u202f000\u202f000" in page  # the total requested, whatever the page


def test_a_recorded_decision_comes_back_to_the_page_of_its_project(client, db, login_as, users, ranked):
    session, projects = ranked
    login_as(users["officer"])
    ninth = projects[8]
    response = client.post(f"/reviews/committee/{session.id}/projects/{ninth.id}/decide",
                           data={**decision_form("rejected", reason="Hors du champ de l’appel."), "confirm": "yes"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.endswith(f"/reviews/committee/{session.id}?project={ninth.id}#project-{ninth.id}")
    page = client.get(location).get_data(as_text=True)
    assert ranks_shown(page) == [6, 7, 8, 9, 10]
    assert f'id="project-{ninth.id}"' in page


def test_the_project_page_links_to_the_session_page_that_holds_its_decision(client, db, login_as, users, ranked):
    session, projects = ranked
    last = projects[-1]
    decide(session, last, DecisionData("rejected", "Hors du champ de l’appel."), users["officer"])
    db.session.commit()
    login_as(users["officer"])
    page = client.get(f"/projects/{last.id}").get_data(as_text=True)
    link = f"/reviews/committee/{session.id}?project={last.id}#project-{last.id}"
    assert link in page
    assert ranks_shown(client.get(link.split("#")[0]).get_data(as_text=True)) == [11, 12]


def test_an_asked_page_wins_over_the_project_to_show(client, login_as, users, ranked):
    session, projects = ranked
    login_as(users["officer"])
    page = client.get(f"/reviews/committee/{session.id}?project={projects[-1].id}&page=1").get_data(as_text=True)
    assert ranks_shown(page) == [1, 2, 3, 4, 5]
    assert ranks_shown(client.get(f"/reviews/committee/{session.id}?project=424242").get_data(as_text=True)) == [
        1, 2, 3, 4, 5]


def test_a_closed_sessions_frozen_ranking_is_read_and_paged_the_same_way(client, db, login_as, users, ranked):
    """Closed, the ranking is frozen; its page reads whole only the rows it shows, and shows the same."""
    session, projects = ranked
    close_session(session, "Le comité a siégé.", users["officer"])
    db.session.commit()
    login_as(users["officer"])
    page = client.get(f"/reviews/committee/{session.id}?page=2").get_data(as_text=True)
    ranking = page[page.index('id="ranking-title"'):page.index('id="reserve"')]
    assert ranks_shown(ranking) == [6, 7, 8, 9, 10]
    assert ranking.index("Projet n° 7") < ranking.index('id="envelope-line"') < ranking.index("Projet n° 8")
    assert "Projet n° 5<" not in ranking and "Projet n° 11" not in ranking
    assert "7\u202f000\u202f000" in ranking and "10\u202f000\u202f000" in ranking  # running totals, ranks 7 and 10
    assert "12\u202f000\u202f000" in page  # needed by the whole ranking
    assert "tiennent dans l'enveloppe restante : 7 sur 12." in page
    held = client.get(f"/reviews/committee/{session.id}?project={projects[10].id}").get_data(as_text=True)
    assert ranks_shown(held[held.index('id="ranking-title"'):held.index('id="reserve"')]) == [11, 12]
