"""Every table of the web pages folds into labelled cards on a phone (codev/core/tables.py).

The class test reads the templates: each <table> outside the PDF and email templates has its header row in
<thead> and sits in ``{% filter cards %}`` inside a ``.table-wrap`` box (the CSS's size container). The
filter's own rules: each cell gets its column's header, colspans counted, a whole-row message none.
"""

from __future__ import annotations

import re
from pathlib import Path

from codev.core.tables import cards

TEMPLATES = Path(__file__).resolve().parent.parent / "codev" / "templates"
NOT_WEB = ("pdf", "email")
TABLE = re.compile(r"<table\b.*?</table>", re.S)


def web_templates() -> list[Path]:
    return [p for p in sorted(TEMPLATES.rglob("*.html")) if p.relative_to(TEMPLATES).parts[0] not in NOT_WEB]


def test_every_web_table_is_a_labelled_card_table_in_its_box():
    problems, count = [], 0
    for path in web_templates():
        text = path.read_text()
        for table in TABLE.finditer(text):
            count += 1
            where = f"{path.relative_to(TEMPLATES)}:{text[:table.start()].count(chr(10)) + 1}"
            before = text[:table.start()].rstrip()
            if not before.endswith("{% filter cards %}"):
                problems.append(f"{where}: not in {{% filter cards %}}")
            elif not before[: -len("{% filter cards %}")].rstrip().endswith('<div class="table-wrap">'):
                problems.append(f"{where}: not in a .table-wrap box")
            if "<thead" not in table.group(0) and "scope=\"row\"" not in table.group(0):
                problems.append(f"{where}: no header row in <thead> nor row headers")
    assert problems == []
    assert count >= 58


def test_cells_get_their_column_header_as_label():
    html = cards(
        '<table class="plan"><thead><tr><th>Source</th><th class="num">Montant <span>"brut"</span></th>'
        "<th>Part</th></tr></thead><tbody>"
        '<tr><td>Cotisations</td><td class="num">5 000 000 F CFA</td><td>  </td></tr>'
        '<tr><td colspan="3">Aucune ligne</td></tr></tbody>'
        '<tfoot><tr><th scope="row" colspan="2">Total</th><td>100 %</td></tr></tfoot></table>'
    )
    assert '<table class="plan card-table">' in html
    assert '<td data-label="Source">Cotisations</td>' in html
    assert '<td class="num" data-label="Montant &#34;brut&#34;">5 000 000 F CFA</td>' in html
    assert "<td data-empty>  </td>" in html  # a blank cell: no empty line on the card
    assert '<td colspan="3">Aucune ligne</td>' in html  # a whole-row message has no label
    assert '<td data-label="Part">100 %</td>' in html  # after a colspan of two, the third column
    assert "<th>Source</th>" in html  # the header row itself is unchanged


def test_a_table_without_header_row_is_left_unlabelled():
    body = '<tbody><tr><th scope="row">Projets</th><td class="num">3</td></tr></tbody>'
    assert cards(f"<table>{body}</table>") == f'<table class="card-table">{body}</table>'
