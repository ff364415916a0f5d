"""Re-rendering the stored award letters after a change of their template (``flask --app codev rerender-letters``).

Each letter is rendered again from its own facts (version, language, date of issue, signatory) through the
app's one path (:func:`codev.grants.award.letters.render_letter`), and its stored PDF and the PDF's SHA-256
are replaced; the content fingerprint printed in the letter must come out the same — a letter whose facts
no longer give its fingerprint is left as it was and reported, since a re-render may change how a letter
looks, never what it says. Every replacement is audited (``letter.rerendered``, the old and new SHA-256).

Rendering is single-threaded (WeasyPrint), so the command (:mod:`codev.cli`) sends batches of letters to
several processes: each one builds its own app and database connection (``spawn``: nothing is shared with
the parent), renders its batches here and commits each. ``dry_run`` renders without writing (the
benchmark's letters per second).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import defer, joinedload

from codev.core import audit
from codev.extensions import db
from codev.grants.award.letters import render_letter
from codev.grants.models import AwardLetter, Grant, LetterStatus
from codev.projects.models import Project

BATCH = 8  # letters per task sent to a process (and per commit)


@dataclass
class Outcome:
    rendered: int = 0
    mismatched: list[str] | None = None  # references whose facts no longer give their fingerprint
    nanoseconds: int = 0  # everything, the processes' start included
    rendering_nanoseconds: int = 0  # once every process is ready (its app built, its fonts set up)

    @property
    def per_minute(self) -> int:
        """Letters per minute once the processes are ready (what a long batch runs at), in whole letters."""
        spent = self.rendering_nanoseconds or self.nanoseconds
        return self.rendered * 60_000_000_000 // spent if spent else 0


def letter_ids(*, all_letters: bool = False, limit: int | None = None) -> list[int]:
    """The letters to re-render: the valid ones (or all), oldest first."""
    query = select(AwardLetter.id).order_by(AwardLetter.id)
    if not all_letters:
        query = query.where(AwardLetter.status == LetterStatus.VALID)
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def rerender_batch(ids: list[int], *, dry_run: bool = False) -> tuple[int, list[str]]:
    """Render the letters ``ids`` again and (unless ``dry_run``) store them, flushed: (rendered, mismatched).

    The caller commits (the command, batch by batch, in each of its processes)."""
    letters = db.session.scalars(
        select(AwardLetter).where(AwardLetter.id.in_(ids)).options(
            defer(AwardLetter.pdf),
            joinedload(AwardLetter.grant).joinedload(Grant.project).joinedload(Project.association))
        .order_by(AwardLetter.id)
    ).unique().all()
    rendered, mismatched = 0, []
    for letter in letters:
        grant = letter.grant
        _facts, fingerprint, pdf = render_letter(
            grant, grant.project, language=letter.language, version=letter.version, issued_at=letter.issued_at,
            signatory_name=letter.signatory_name, signatory_title=letter.signatory_title)
        if fingerprint != letter.content_sha256:
            mismatched.append(letter.reference)
            continue
        rendered += 1
        if dry_run:
            continue
        sha = hashlib.sha256(pdf).hexdigest()
        before = letter.sha256
        db.session.execute(update(AwardLetter).where(AwardLetter.id == letter.id).values(pdf=pdf, sha256=sha))
        audit.record("letter.rerendered", letter, actor=None, before={"sha256": before},
                     after={"sha256": sha, "reference": letter.reference})
    db.session.flush()
    return rendered, mismatched
