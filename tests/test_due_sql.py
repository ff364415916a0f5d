"""Tranches due and grants to lapse, counted in SQL (issue 11), agree with the rules read in Python.

:mod:`codev.grants.disbursements.due` writes the rules of ``tranche_views`` and ``should_lapse`` as SQL so
that the officer's home and the tranches-due list no longer load every open grant; here both readings
run on a synthetic programme (every state of a grant's money) and must give the same tranches and grants,
on SQLite and PostgreSQL, today and a year and a half from now.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from codev.core.timeutil import utcnow
from codev.demo.synthetic import seed_synthetic
from codev.grants.common import OPEN_STATUSES
from codev.grants.disbursements import due
from codev.grants.disbursements.tranches import TrancheState, money_facts, tranche_views
from codev.grants.life.lapse import count_lapsable, should_lapse
from codev.grants.models import Grant
from tests.sql_count import statements_of


def due_in_python() -> list[tuple[int, int]]:
    """The rule as the grant page reads it: every open grant's tranches, those whose state is due."""
    grants = list(db_session().scalars(select(Grant).where(Grant.status.in_(OPEN_STATUSES)).order_by(Grant.id)))
    facts = money_facts(grants)
    return [(g.id, v.number) for g in grants for v in tranche_views(g, facts[g.id]) if v.state == TrancheState.DUE]


def db_session():
    from codev.extensions import db

    return db.session


@pytest.mark.backends
def test_due_tranches_in_sql_are_those_of_the_rules(db):
    seed_synthetic(600, seed=11)
    db.session.commit()
    expected = due_in_python()
    assert expected, "the synthetic programme has tranches due"
    assert [tuple(r) for r in db.session.execute(due.due_query())] == expected
    assert due.count_due() == len(expected)
    assert due.due_page(2, 3) == (expected[3:6], len(expected), 2)
    last = -(-len(expected) // 3)
    with statements_of(db.engine) as seen:  # a page past the end: the last one, in the same one statement
        assert due.due_page(last + 5, 3) == (expected[(last - 1) * 3:], len(expected), last)
    assert len(seen) == 1
    with statements_of(db.engine) as seen:
        assert due.due_page(1, 3) == (expected[:3], len(expected), 1)
    assert len(seen) == 1


@pytest.mark.backends
def test_lapsable_grants_in_sql_are_those_of_the_rule(db):
    seed_synthetic(600, seed=12)
    db.session.commit()
    awarded = db.session.scalars(select(Grant).where(Grant.status == "awarded")).all()
    for today in (utcnow().date(), utcnow().date() + timedelta(days=540)):
        expected = sum(1 for grant in awarded if should_lapse(grant, today))
        assert count_lapsable(today) == expected
    assert count_lapsable(utcnow().date() + timedelta(days=540)) > 0


def test_the_list_pages_due_tranches_as_before(db, client, login_as, users):
    seed_synthetic(600, seed=13)
    db.session.commit()
    expected = due_in_python()
    login_as(users["officer"])
    html = client.get("/grants/tranches/due").get_data(as_text=True)
    assert f"{len(expected)} tranches remplissent leurs conditions" in html
    first = db.session.get(Grant, expected[0][0])
    assert f"/grants/{first.id}#money" in html and first.project.title in html
    home = client.get("/").get_data(as_text=True)
    assert "/grants/tranches/due" in home
