"""Numbers read from web addresses: ids within the database's integer range, page numbers, pages.

An id or a page number comes from whoever typed the address. One outside what the database can hold
(`/calls/99999999999999999999`, `?page=9223372036854775807`) must not reach SQL, where SQLite raises
``OverflowError`` and PostgreSQL an out-of-range error: such an id is simply not found (404), such a
page is the last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from flask_sqlalchemy.pagination import Pagination
from werkzeug.routing import IntegerConverter

from codev.extensions import db

# Primary keys are INTEGER: 32-bit signed on PostgreSQL, the tighter of the two backends.
DB_INT_MAX = 2**31 - 1
# Far beyond any list's length, small enough that (page - 1) × page size fits a 64-bit OFFSET.
MAX_PAGE = 10**6


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: a positive id the database can hold, or no match (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def int_arg(name: str, default: int | None = None) -> int | None:
    """The query-string argument ``name`` as an id the database can hold, else ``default``."""
    raw = request.args.get(name, "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return default
    value = int(raw)
    return value if 1 <= value <= DB_INT_MAX else default


def page_number() -> int:
    """The ``?page=`` asked for: 1 when missing or not a number, at most :data:`MAX_PAGE`."""
    raw = request.args.get("page", "")
    if not (raw.isascii() and raw.isdigit()):
        return 1
    return max(1, min(int(raw) if len(raw) <= 7 else MAX_PAGE, MAX_PAGE))


def paginate(query: Any, per_page: int | None = None) -> Pagination:
    """One page of ``query`` for the ``?page=`` asked for; a page past the end shows the last one."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    page = db.paginate(query, page=page_number(), per_page=per_page, error_out=False)
    if page.total and page.page > page.pages:
        page = db.paginate(query, page=page.pages, per_page=per_page, error_out=False)
    return page


class PageLinks:
    """What the ``pagination`` macro reads of a page besides ``page`` and ``pages`` (as Flask-SQLAlchemy's)."""

    page: int
    pages: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


@dataclass(frozen=True)
class ListPage(PageLinks):
    """One page of a list already in memory, read as a Flask-SQLAlchemy page is (the ``pagination`` macro)."""

    start: int  # index of the first row shown
    stop: int  # index after the last row shown
    page: int
    pages: int
    total: int
    per_page: int

    def page_of(self, index: int) -> int:
        """The page holding the row of index ``index``."""
        return index // self.per_page + 1


def slice_page(total: int, per_page: int | None = None, holding: int | None = None) -> ListPage:
    """The page of a list of ``total`` rows for the ``?page=`` asked for (past the end: the last one);
    without ``?page=``, the page holding the row of index ``holding`` when one is given."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    pages = max(1, -(-total // per_page))
    if holding is not None and "page" not in request.args:
        number = holding // per_page + 1
    else:
        number = page_number()
    number = min(number, pages)
    start = (number - 1) * per_page
    return ListPage(start, min(start + per_page, total), number, pages, total, per_page)


def init_app(app: Flask) -> None:
    """Bound every ``<int:…>`` URL argument; call before the blueprints register their routes."""
    app.url_map.converters["int"] = IdConverter
