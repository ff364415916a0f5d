"""Call pages: public list and page (drafts hidden), the ministry's list (bounded queries), navigation,
the association's home card, and the demo calls."""

from __future__ import annotations

from datetime import timedelta

import pytest

from codev.calls.models import Call, CallStatus, ExchangeRate
from codev.core.timeutil import utcnow
from tests import factories
from tests.sql_count import statements_of


@pytest.fixture
def english(db, users, login_as):
    for user in users.values():
        user.locale = "en"
    db.session.commit()
    return users


def test_public_list_shows_open_calls_with_rules_in_words(client, db):
    factories.CallFactory(open=True, title="Appel ouvert", title_en="Open call")
    factories.CallFactory(title="Brouillon secret")
    factories.CallFactory(status=CallStatus.CLOSED, title="Appel clos", opens_at=utcnow() - timedelta(days=90),
                          closes_at=utcnow() - timedelta(days=30))
    db.session.commit()
    with client.session_transaction() as session:
        session["lang"] = "en"
    text = client.get("/calls/").get_data(as_text=True)
    assert "Open call" in text and "Appel clos" in text
    assert "Brouillon secret" not in text
    assert ("The state gives 1 F CFA for each 1 F CFA your association brings, up to 20,000,000\u00a0F\u202fCFA "
            "and at most 70% of the total budget.") in text
    assert "Your association brings at least 20% of the total budget." in text
    assert "40% when the association&#39;s contribution is verified" in text


@pytest.mark.parametrize(
    ("status", "anonymous", "member", "officer"),
    [("draft", 404, 404, 200), ("open", 200, 200, 200), ("closed", 200, 200, 200), ("decided", 200, 200, 200)],
)
def test_public_detail_hides_drafts_except_from_the_ministry(client, db, users, login_as, status, anonymous,
                                                             member, officer):
    call = factories.CallFactory(status=status, closes_at=utcnow() + timedelta(days=5))
    db.session.commit()
    assert client.get(f"/calls/{call.id}").status_code == anonymous
    login_as(users["association"])
    assert client.get(f"/calls/{call.id}").status_code == member
    login_as(users["officer"])
    assert client.get(f"/calls/{call.id}").status_code == officer
    assert client.get("/calls/99999").status_code == 404


def test_public_detail_shows_grid_documents_and_dates(client, db, english, login_as):
    call = factories.CallFactory(open=True, description="Premier paragraphe.\n\nSecond paragraphe.")
    db.session.commit()
    login_as(english["association"])
    text = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "<p>Premier paragraphe.</p>" in text and "<p>Second paragraphe.</p>" in text
    assert "Feasibility" in text and "Eliminatory below 4 out of 10." in text
    assert "<li>Quote</li>" in text and "UTC, Togo's time" in text


def test_navigation_entries_by_role(client, db, english, login_as):
    login_as(english["association"])
    text = client.get("/").get_data(as_text=True)
    assert 'href="/calls/"' in text and "Manage calls" not in text
    login_as(english["officer"])
    text = client.get("/").get_data(as_text=True)
    assert "Calls for projects" in text and 'href="/calls/manage"' in text


def test_association_home_lists_open_calls_with_closing_dates(client, db, english, login_as):
    factories.CallFactory(open=True, title="Appel 2027", title_en="Call 2027")
    factories.CallFactory(title="Draft only")
    db.session.commit()
    login_as(english["association"])
    text = client.get("/").get_data(as_text=True)
    assert "Open calls for projects" in text and "Call 2027" in text and "closes on" in text
    assert "Draft only" not in text


@pytest.mark.backends
def test_manage_filters_by_status_with_counts(client, db, english, login_as):
    factories.CallFactory(open=True, title="Ouvert A")
    factories.CallFactory(title="Brouillon B")
    factories.CallFactory(title="Brouillon C")
    db.session.commit()
    login_as(english["approver"])
    text = client.get("/calls/manage?status=draft").get_data(as_text=True)
    assert "Brouillon B" in text and "Brouillon C" in text and "Ouvert A" not in text
    assert "2 calls." in text
    assert "New call" not in text  # approvers read, officers write
    assert client.get("/calls/manage?status=bogus").status_code == 200
    for role in ("association", "evaluator"):
        login_as(english[role])
        assert client.get("/calls/manage").status_code == 403


@pytest.mark.parametrize("url", ["/calls/manage", "/calls/", "/"])
def test_pages_run_the_same_number_of_queries_for_3_or_30_calls(client, db, users, login_as, url):
    login_as(users["officer"] if url != "/" else users["association"])

    def queries_with(n: int) -> int:
        for _ in range(n - db.session.scalar(db.select(db.func.count()).select_from(Call))):
            factories.CallFactory(open=True)
        db.session.commit()
        db.session.expunge_all()
        with statements_of(db.engine) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    assert queries_with(3) == queries_with(30)


@pytest.mark.backends
def test_demo_calls(app, db, users):
    from codev.demo.calls import seed_calls

    with app.test_request_context():
        result = seed_calls(users["officer"])
    db.session.commit()
    assert result["open"].status == CallStatus.OPEN and result["open"].is_accepting()
    assert result["open"].envelope_xof == 300_000_000 and result["open"].max_grant_xof == 25_000_000
    assert [t.share_bps for t in result["open"].tranches] == [4000, 4000, 2000]
    assert sum(c.weight for c in result["open"].criteria) == 100
    assert all(c.label_en and c.guidance_fr for c in result["open"].criteria)
    assert result["draft"].status == CallStatus.DRAFT
    assert result["closed"].status == CallStatus.CLOSED and result["closed"].closes_at < utcnow()
    currencies = db.session.scalars(db.select(ExchangeRate.currency).distinct()).all()
    assert sorted(currencies) == ["CAD", "CHF", "GBP", "USD"]


def test_demo_calls_outside_a_request(app, db, users):
    from codev.demo.calls import seed_calls

    seed_calls(users["officer"])  # the CLI has no request: emails still get an address
    db.session.commit()
