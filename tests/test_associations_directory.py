"""The directory of associations: who sees it, filters, search, pagination, bounded SQL queries."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.sql_count import statements_of


def names_in(page: str) -> set[str]:
    return set(re.findall(r'<a href="/associations/\d+">([^<]+)</a>', page))


@pytest.fixture
def directory(db, users):
    # The fixture member's association waits for verification, out of the default directory.
    other = users["association"].association
    other.name, other.acronym, other.country, other.city, other.embassy = "Tokyo", "TKY", "JP", "Tokyo", None
    other.status, other.verified_at = "pending", None
    other.domains = []
    factories.AssociationFactory(name="Togolais de Lyon", acronym="ATL", country="FR", city="Lyon",
                                 embassy="paris", verified=True, domains=["water", "health"])
    factories.AssociationFactory(name="Togo-Hilfe Hamburg", acronym="THH", country="DE", city="Hamburg",
                                 embassy="berlin", verified=True, domains=["education"])
    factories.AssociationFactory(name="Diaspora Maryland", acronym="TDAM", country="US",
                                 city="Silver Spring", embassy="washington", verified=True,
                                 domains=["health"])
    factories.AssociationFactory(name="Montréal en attente", acronym="CTM", country="CA", city="Montréal",
                                 domains=["agriculture"])
    factories.AssociationFactory(name="Abidjan rejetée", acronym="UTA", country="CI", city="Abidjan",
                                 rejected=True, domains=["economy"])
    db.session.commit()


def get(client, **params):
    response = client.get("/associations/directory", query_string=params)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_directory_lists_verified_associations_by_default(client, users, directory, login_as):
    login_as(users["approver"])
    page = get(client)
    assert names_in(page) == {"Togolais de Lyon (ATL)", "Togo-Hilfe Hamburg (THH)", "Diaspora Maryland (TDAM)"}
    # Only officers may widen the list to every status.
    assert names_in(get(client, all_statuses="y")) == names_in(page)
    assert 'name="all_statuses"' not in page


def test_officers_may_show_every_status(client, users, directory, login_as):
    login_as(users["officer"])
    page = get(client, all_statuses="y")
    assert len(names_in(page)) == 6
    assert "Montréal en attente (CTM)" in names_in(page)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"country": "DE"}, {"Togo-Hilfe Hamburg (THH)"}),
        ({"embassy": "paris"}, {"Togolais de Lyon (ATL)"}),
        ({"domain": "health"}, {"Togolais de Lyon (ATL)", "Diaspora Maryland (TDAM)"}),
        ({"domain": "health", "country": "US"}, {"Diaspora Maryland (TDAM)"}),
        ({"q": "hamburg"}, {"Togo-Hilfe Hamburg (THH)"}),  # city or name, any case
        ({"q": "tdam"}, {"Diaspora Maryland (TDAM)"}),  # acronym
        ({"q": "SILVER"}, {"Diaspora Maryland (TDAM)"}),
        ({"q": "%"}, set()),  # LIKE wildcards are searched literally
        ({"q": "_"}, set()),
        ({"country": "ZZ"}, set()),
        ({"domain": "agriculture"}, set()),  # the only one is pending
    ],
)
def test_filters(client, users, directory, login_as, params, expected):
    login_as(users["admin"])
    assert names_in(get(client, **params)) == expected


def test_filters_on_all_statuses_for_officers(client, users, directory, login_as):
    login_as(users["officer"])
    assert names_in(get(client, all_statuses="y", domain="agriculture")) == {"Montréal en attente (CTM)"}


def test_counts_and_pagination(app, client, db, users, login_as):
    app.config["PAGE_SIZE"] = 4
    users["association"].association.status = "pending"
    for n in range(10):
        factories.AssociationFactory(name=f"Association {n:02d}", verified=True)
    login_as(users["officer"])
    users["officer"].locale = "en"
    db.session.commit()
    first = get(client)
    assert "10 associations found." in first and "Page 1 of 3" in first
    assert len(names_in(first)) == 4
    last = get(client, page=3)
    assert len(names_in(last)) == 2 and "Page 3 of 3" in last
    for beyond in (4, 99, 9223372036854775807, 10**30):  # beyond the end: the last page, not an error
        page = get(client, page=beyond)
        assert names_in(page) == names_in(last) and "Page 3 of 3" in page
    for odd in ("abc", "-2", "0", "１", "2.5"):  # not a page number: the first page
        assert names_in(get(client, page=odd)) == names_in(first)


def test_bad_filter_values_do_not_fail(client, users, directory, login_as):
    login_as(users["officer"])
    page = get(client, q="x" * 500, country="<script>", domain="nope", embassy="\x00")
    assert "<script>" not in page.split("<main", 1)[1]


def count_queries(client, db, url) -> int:
    with statements_of(db.engine) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("url", ["/associations/directory", "/associations/directory?all_statuses=y",
                                 "/associations/pending"])
def test_query_count_does_not_grow_with_associations(app, client, db, users, login_as, url):
    app.config["PAGE_SIZE"] = 50
    login_as(users["officer"])

    def add(n):
        for i in range(n):
            association = factories.AssociationFactory(verified=i % 2 == 0, domains=["water", "health"])
            factories.UserFactory(member=True, association=association)
        db.session.commit()

    add(5)
    small = count_queries(client, db, url)
    add(35)
    large = count_queries(client, db, url)
    assert large == small
    assert small <= 8
