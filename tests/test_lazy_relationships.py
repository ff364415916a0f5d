"""Relationships load lazily unless a reason is written here (issue 11).

A collection loaded by default (``lazy="selectin"``) costs a statement whenever its parents are read and at
least one is found: a page that reads a member's reports without their files issued one statement more when
the grant had reports (21 at 1 000 projects, 20 at 50 000 in the benchmark). Pages ask for what they show
(``selectinload``); the collections below are part of their parent wherever it is shown. A many-to-one
joined by default adds a JOIN to its parent's statement, not a statement of its own.
"""

from __future__ import annotations

from sqlalchemy.orm import RelationshipDirection

from codev.extensions import db

# (class, relationship): why it is read with its parent, always.
ALWAYS_WITH_PARENT = {
    ("Grant", "tranches"): "a grant's plan: every page that shows a grant shows or computes its tranches",
    ("Evaluation", "scores"): "an evaluation is its scores (total, consolidation, the form)",
    ("PartnerStructure", "regions"): "a structure is shown and matched with its regions",
    ("PartnerStructure", "sectors"): "a structure is shown and matched with its sectors",
}


def eager_by_default():
    for mapper in db.Model.registry.mappers:
        for rel in mapper.relationships:
            if rel.lazy not in ("select", "noload", "raise", "raise_on_sql", "dynamic", "write_only"):
                yield mapper.class_.__name__, rel.key, rel.lazy, rel.direction


def test_only_the_named_collections_load_with_their_parent(app):
    collections = {(cls, key) for cls, key, _lazy, direction in eager_by_default()
                   if direction is not RelationshipDirection.MANYTOONE}
    assert collections == set(ALWAYS_WITH_PARENT)


def test_a_many_to_one_loaded_by_default_is_joined_not_a_statement_of_its_own(app):
    separate = [(cls, key, lazy) for cls, key, lazy, direction in eager_by_default()
                if direction is RelationshipDirection.MANYTOONE and lazy != "joined"]
    assert separate == []


def test_reports_read_without_their_files_cost_one_statement_with_files_or_without(app, db):
    from sqlalchemy import select

    from codev.grants.models import Report
    from tests.factories_ledger import make_grant
    from tests.sql_count import statements_of

    def statements() -> int:
        db.session.expunge_all()
        with statements_of(db.engine) as seen:
            db.session.scalars(select(Report)).all()
        return len(seen)

    empty = statements()
    grant = make_grant()
    db.session.add(Report(grant_id=grant.id, kind="progress", narrative="Travaux en cours", progress_pct=40,
                          submitted_by_id=grant.project.created_by_id))
    db.session.commit()
    assert empty == statements() == 1
