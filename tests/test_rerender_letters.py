"""``flask --app codev rerender-letters`` (issue 11): letters rendered again from their facts, in processes."""

from __future__ import annotations

from sqlalchemy import func, select, update

from codev.cli import rerender
from codev.core.models import AuditEvent
from codev.demo.synthetic import seed_synthetic
from codev.grants.award.rerender import letter_ids, rerender_batch
from codev.grants.models import AwardLetter


def seeded(db):
    seed_synthetic(150, seed=31)  # letters with a placeholder PDF and their real content fingerprint
    db.session.commit()
    return letter_ids(limit=3)


def test_a_letter_is_rendered_again_from_its_facts(db, client):
    ids = seeded(db)
    letters = db.session.scalars(select(AwardLetter).where(AwardLetter.id.in_(ids)))
    before = {letter.id: letter.sha256 for letter in letters}
    rendered, mismatched = rerender_batch(ids[:2])
    db.session.commit()
    assert (rendered, mismatched) == (2, [])
    db.session.expire_all()
    for letter_id in ids[:2]:
        letter = db.session.get(AwardLetter, letter_id)
        assert letter.pdf.startswith(b"%PDF") and len(letter.pdf) > 10_000  # a real letter, not the placeholder
        assert letter.sha256 != before[letter_id]
        assert letter.status == "valid"
    events = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "letter.rerendered"))
    assert events == 2
    page = client.get(f"/verify/{db.session.get(AwardLetter, ids[0]).reference}").get_data(as_text=True)
    assert db.session.get(AwardLetter, ids[0]).sha256 in page


def test_a_letter_whose_facts_changed_is_left_and_reported(db):
    ids = seeded(db)
    db.session.execute(update(AwardLetter).where(AwardLetter.id == ids[0]).values(content_sha256="0" * 64))
    db.session.commit()
    reference = db.session.get(AwardLetter, ids[0]).reference
    pdf = db.session.get(AwardLetter, ids[0]).pdf
    assert rerender_batch([ids[0]]) == (0, [reference])
    db.session.expire_all()
    assert db.session.get(AwardLetter, ids[0]).pdf == pdf


def test_a_dry_run_in_two_processes_stores_nothing(app, db):
    ids = seeded(db)
    stored = {letter.id: letter.sha256 for letter in db.session.scalars(select(AwardLetter))}
    counted = []
    outcome = rerender(ids, processes=2, dry_run=True, progress=counted.append)
    assert outcome.rendered == len(ids) and sum(counted) == len(ids) and outcome.per_minute > 0
    db.session.expire_all()
    assert {letter.id: letter.sha256 for letter in db.session.scalars(select(AwardLetter))} == stored


def test_the_command_prints_letters_per_second(runner, db):
    seeded(db)
    result = runner.invoke(args=["rerender-letters", "--limit", "2", "--processes", "1"])
    assert result.exit_code == 0, result.output
    assert "2 letters rendered and stored" in result.output and "letters per minute" in result.output
