"""The reviews pages read what they show cheaply, with the same result (issue 11, the officer's pages at scale).

The open loads are counted from the open assignments only; the list of projects under review reads its
evaluators as plain rows (withdrawn ones left out, the late ones flagged) in a fixed number of statements.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from codev.core.timeutil import utcnow
from codev.extensions import db as _db
from codev.reviews import assignments
from tests.factories_reviews import assign, english, evaluator, in_review_project, submitted
from tests.sql_count import statements_of


@pytest.mark.backends
def test_open_loads_count_only_open_assignments(db, users):
    busy, idle, done = evaluator(), evaluator(), evaluator()
    first, second = in_review_project(title="Premier"), in_review_project(title="Second")
    assign(first, busy)
    assign(second, busy, declare=False)  # accepted: still open
    submitted(first, done, (8, 8, 4))
    withdrawn = assign(second, idle)
    assignments.withdraw(withdrawn, users["officer"])
    db.session.commit()
    assert assignments.open_loads().get(busy.id) == 2
    assert idle.id not in assignments.open_loads() and done.id not in assignments.open_loads()
    assert assignments.open_loads([idle.id, done.id]) == {}


def _statements(client, url: str) -> tuple[int, str]:
    with statements_of(_db.engine) as found:
        response = client.get(url)
    assert response.status_code == 200
    return len(found), response.get_data(as_text=True)


@pytest.mark.backends
def test_the_list_under_review_shows_the_evaluators_in_as_many_statements(client, db, users, login_as):
    project = in_review_project(title="Forage de Kuma")
    late = assign(project, evaluator(name="Ama Late"))
    late.due_on = utcnow().date() - timedelta(days=3)
    gone = assign(project, evaluator(name="Kofi Parti"))
    assignments.withdraw(gone, users["officer"])
    db.session.commit()
    login_as(english(users["officer"]))
    client.get("/reviews/in-review")  # warm-up
    few, page = _statements(client, "/reviews/in-review")
    assert "Ama Late" in page and '<strong class="flag">late</strong>' in page and "Kofi Parti" not in page
    for i in range(3):
        other = in_review_project(title=f"Projet {i}")
        submitted(other, evaluator(name=f"Évaluatrice {i}"), (8, 8, 4))
        assign(other, evaluator(name=f"Évaluateur {i}"), declare=False)
    client.get("/reviews/in-review")  # warm-up again: the commits above expired what the session held
    many, page = _statements(client, "/reviews/in-review")
    assert "Évaluatrice 2" in page and "Évaluateur 0" in page
    assert many == few
