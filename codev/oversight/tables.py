"""Tables written out as files: CSV streamed by a generator, XLSX in openpyxl's write-only mode through a
temporary file, cells made inert against formula injection.

Rows come from the database ``yield_per`` rows at a time, so an export of 50 000 rows never holds them
all in memory: the CSV is sent while it is read; the XLSX is written row by row into a temporary file
(openpyxl's write-only worksheets spool to disk) and that file is sent.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, for some programs, a tab
or a carriage return) as a formula: such a text cell gets a leading apostrophe, which shows it as text.
Numbers (money is whole XOF) stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import Response, stream_with_context
from sqlalchemy import Select

from codev.core.storage import send_download
from codev.extensions import db

# What makes a spreadsheet read a text as a formula (full-width forms too: some programs fold them).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# Characters XML 1.0 (so XLSX) cannot hold; dropped from CSV too, so both files say the same.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CHUNK_CHARS = 64 * 1024
YIELD_PER = 1000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def clean_text(text: str) -> str:
    """``text`` without the characters an XML document (so an XLSX or IATI file) cannot hold."""
    return _ILLEGAL.sub("", text)


def inert(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it."""
    text = clean_text(text)
    return "'" + text if text.startswith(FORMULA_START) else text


@dataclass(frozen=True)
class Column:
    """One column of a file: its header (a lazy string), the SQL expression, how a value is shown."""

    header: Any
    expr: Any
    show: Callable[[Any], Any] | None = None
    codes: bool = False  # few distinct values: each shown once per file, then remembered


def remembered(show: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``show`` computed once per distinct value (a label is translated once per file, not once per row)."""
    seen: dict[Any, Any] = {}

    def shown(value: Any) -> Any:
        if value not in seen:
            seen[value] = show(value)
        return seen[value]

    return shown


def rows_of(stmt: Select, columns: list[Column]) -> Iterator[list[Any]]:
    """The statement's rows, a batch at a time from the database, each value as its column shows it."""
    shows = [remembered(c.show) if c.show and c.codes else c.show for c in columns]
    result = db.session.execute(stmt.execution_options(yield_per=YIELD_PER))
    for row in result:
        yield [show(value) if show and value is not None else value for show, value in zip(shows, row, strict=True)]


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return value
    return inert(str(value))


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, datetime):  # Excel has no time zones: UTC, as the header says
        return value.astimezone(UTC).replace(tzinfo=None)
    if value is None or isinstance(value, int | Decimal | date):
        return value
    return inert(str(value))


def csv_chunks(headers: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """The CSV text in chunks: UTF-8 with a byte-order mark (spreadsheets then read the accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([inert(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(filename: str, headers: list[str], rows: Iterable[list[Any]]) -> Response:
    """A CSV download streamed while the rows are read (the request's context stays open for it)."""
    chunks = (chunk.encode("utf-8") for chunk in csv_chunks(headers, rows))
    return Response(stream_with_context(chunks), mimetype="text/csv", headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"',
    })


def _sheet_title(title: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "data"


def xlsx_response(filename: str, title: str, headers: list[str], rows: Iterable[list[Any]]) -> Response:
    """An XLSX download written row by row into a temporary file (deleted once sent)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(title))
    sheet.append([inert(h) for h in headers])
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (sent, then closed, which deletes it)
    book.save(handle)
    handle.seek(0)
    return send_download(handle, XLSX_TYPE, filename)
