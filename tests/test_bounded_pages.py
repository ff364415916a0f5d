"""Every page of every role issues the same number of SQL statements at two data sizes (issue 11).

The pages are those ``make bench`` measures (:func:`bench.pages.pages`: homes, lists with and without
filters and deep pages, project, grant, committee session and ranking, screening, assignments,
directory, audit, dashboard, register, verification), read on a synthetic programme, then on one four
times larger. A page whose count grows with the data loads rows one by one somewhere.
"""

from __future__ import annotations

import pytest

from bench.pages import exists, pages, world
from codev.demo.synthetic import seed_synthetic
from tests.sql_count import statements_of


def statements_per_page(app, db) -> dict[tuple[str, str, bool], int]:
    app.config["PAGE_CACHE_SECONDS"] = 0  # the renderings counted, not a kept page (codev.core.kept_pages)
    w = world(db)
    users = {"officer": w["officer"], "approver": w["approver"], "admin": w["admin"], "association": w["member"],
             "evaluator": w["evaluator"]}
    counts = {}
    for page in pages(w):
        if not exists(app, page.url):
            continue
        client = app.test_client()
        if page.role != "visitor":
            from codev.accounts.models import User

            user = db.session.get(User, users[page.role])
            with client.session_transaction() as session:
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
        assert client.get(page.url).status_code == 200, page.url  # warm-up
        db.session.expunge_all()
        with statements_of(db.engine) as found:
            response = client.get(page.url)
        assert response.status_code == 200, page.url
        counts[(page.role, page.name.split(" (")[0], "page=" in page.url)] = len(found)
    return counts


@pytest.mark.backends
def test_statements_do_not_grow_with_the_data(app, db):
    seed_synthetic(150, seed=21)
    db.session.commit()
    small = statements_per_page(app, db)
    seed_synthetic(600, seed=22)
    db.session.commit()
    large = statements_per_page(app, db)
    assert set(small) == set(large)
    # A deep page past the end of the small programme's list reads the last page instead: two statements more.
    grown = {page[:2]: (small[page], large[page]) for page in small
             if large[page] > small[page] or (large[page] < small[page] and not page[2])}
    assert grown == {}, f"statements per page grew with the data: {grown}"
