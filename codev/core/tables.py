"""Tables that fold into cards on a phone: each cell carries its column's header as ``data-label``.

A template wraps a table in ``{% filter cards %}…{% endfilter %}``. The filter reads the header row (the
last row of ``<thead>``), gives every body and foot cell of one column the text of that column's header
(colspans counted; a cell spanning several columns is a whole-row message and gets none), marks blank
cells, and gives the table the class ``card-table``. Below 640 px the CSS ("Tables as cards" in codev.css)
shows each row as a card and each label before its value; no JavaScript.
"""

from __future__ import annotations

import html
import re

from markupsafe import Markup, escape

TABLE = re.compile(r"<table\b(?P<attrs>[^>]*)>(?P<body>.*?)</table>", re.S)
THEAD = re.compile(r"<thead\b[^>]*>.*?</thead>", re.S)
ROW = re.compile(r"<tr\b[^>]*>.*?</tr>", re.S)
CELL = re.compile(r"<(?P<tag>td|th)\b(?P<attrs>[^>]*)>(?P<content>.*?)</(?P=tag)>", re.S)
# A row's or a cell's opening tag; a cell's whitespace-only content and closing tag with it (an empty cell).
OPENING = re.compile(r"<tr\b[^>]*>|<(?P<cell>td|th)\b(?P<attrs>[^>]*)>(?P<empty>\s*</(?P=cell)>)?")
TAG = re.compile(r"<[^>]+>")
COLSPAN = re.compile(r"""\bcolspan\s*=\s*["']?(\d+)""")
CLASS = re.compile(r"""\bclass\s*=\s*(["'])(.*?)\1""", re.S)


def _span(attrs: str) -> int:
    found = COLSPAN.search(attrs)
    return max(1, int(found.group(1))) if found else 1


def _text(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", fragment)).split())


def _headers(thead: str) -> list[str]:
    """The label of each column, from the last header row."""
    rows = ROW.findall(thead)
    labels: list[str] = []
    for cell in CELL.finditer(rows[-1] if rows else ""):
        labels.append(_text(cell.group("content")))
        labels.extend([""] * (_span(cell.group("attrs")) - 1))
    return labels


def _labelled(body: str, labels: list[str]) -> str:
    """``body`` (the rows after the header) with each cell labelled, in one pass over the opening tags: a row
    starts the columns again, an empty cell is marked, a body cell of one column gets its header. (A first
    version matched each row, then each cell with its content: three times slower on a page of fifty rows.)"""
    column = 0

    def label(tag: re.Match) -> str:
        nonlocal column
        name = tag.group("cell")
        if name is None:  # <tr>
            column = 0
            return tag.group(0)
        attrs, empty = tag.group("attrs"), tag.group("empty")
        span = _span(attrs) if "colspan" in attrs else 1
        extra = ""
        if empty is not None:
            extra = " data-empty"
        elif name == "td" and span == 1 and column < len(labels) and labels[column] and "data-label" not in attrs:
            extra = f' data-label="{escape(labels[column])}"'
        column += span
        return f"<{name}{attrs}{extra}>{empty or ''}"

    return OPENING.sub(label, body)


def _with_class(attrs: str) -> str:
    found = CLASS.search(attrs)
    if not found:
        return f'{attrs} class="card-table"'
    quote, classes = found.group(1), found.group(2)
    return f"{attrs[:found.start()]}class={quote}{classes} card-table{quote}{attrs[found.end():]}"


def _table(match: re.Match) -> str:
    body = match.group("body")
    thead = THEAD.search(body)
    labels = _headers(thead.group(0)) if thead else []
    start = thead.end() if thead else 0
    rest = _labelled(body[start:], labels)
    return f"<table{_with_class(match.group('attrs'))}>{body[:start]}{rest}</table>"


def cards(rendered: str) -> Markup:
    """The filter: every table in ``rendered`` labelled for its phone layout (already-escaped HTML in)."""
    return Markup(TABLE.sub(_table, str(rendered)))  # noqa: S704 - the input is rendered template HTML
