"""Counting the SQL statements a piece of code or a page issues (the bounded-statements tests share these)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def statements_of(engine) -> Iterator[list[str]]:
    """The statements ``engine`` runs inside the block, in order."""
    seen: list[str] = []

    def listen(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def page_statements(db, client, url) -> int:
    """The statements of one GET of ``url`` (a 200 whose body is read), from a session with nothing loaded."""
    db.session.expire_all()
    db.session.close()
    with statements_of(db.engine) as seen:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.data  # a streamed file is read here
    return len(seen)
