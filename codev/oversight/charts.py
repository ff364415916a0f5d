"""Charts drawn on the server as SVG: horizontal bars, a funnel, monthly columns.

No JavaScript and nothing from elsewhere: each chart is an ``<svg>`` written into the page, with a
``<title>`` and a visible heading, every value written as text beside its bar, a ``viewBox`` and a width
of 100 % (it shrinks to a phone's width). Colours come from classes of ``static/css/dashboard.css`` (the
pages' Content-Security-Policy allows no inline style); the two series of a chart differ by lightness
and the second is hatched, so they stay apart in greyscale and in print. Geometry is integer arithmetic
on the integer values (money is whole XOF): integer arithmetic decides a bar's length.

The module knows nothing of money or languages: the caller gives each value's text already formatted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 420  # narrow enough that its text stays readable on a 360 px phone
FONT = 14  # user units; the stylesheet sets the same
LABEL_CHARS = 46


@dataclass(frozen=True)
class Bar:
    """One bar: what it is, its value (the geometry) and the value as the reader reads it."""

    label: str
    value: int
    text: str
    tone: str = "a"  # "a" dark and solid, "b" light and hatched, "c" middle


@dataclass(frozen=True)
class Series:
    """One series of a column chart: a value (and its text) per category."""

    name: str
    values: Sequence[int]
    texts: Sequence[str]
    tone: str = "a"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _scaled(value: int, largest: int, room: int) -> int:
    """``value`` as a length within ``room`` (integer arithmetic), at least 1 when it is not 0."""
    if value <= 0 or largest <= 0:
        return 0
    return max(1, value * room // largest)


def _defs(chart_id: str) -> str:
    return (f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect class="hatch-bg" width="6" height="6"/>'
            '<line class="hatch-line" x1="0" y1="0" x2="0" y2="6"/></pattern></defs>')


def _fill(chart_id: str, tone: str) -> str:
    """The hatched tone is a pattern (an attribute, not a style: the CSP allows it)."""
    return f' fill="url(#{chart_id}-hatch)"' if tone == "b" else ""


def _svg(chart_id: str, title: str, height: int, body: list[str], width: int = WIDTH,
         heading: str | None = None) -> Markup:
    """The chart: its ``title`` for assistive technology, and a visible ``heading`` (the title by default)."""
    title_id = f"{chart_id}-title"
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" viewBox="0 0 {width} {height}" '
            f'width="100%" role="img" aria-labelledby="{title_id}">'
            f'<title id="{title_id}">{escape(title)}</title>{_defs(chart_id)}'
            f'<text class="chart-heading" x="0" y="{FONT + 4}">{escape(heading or title)}</text>')
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 (every text above is escaped)


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], *, empty: str = "—",
              heading: str | None = None) -> Markup:
    """Horizontal bars, one per row: the label above, the bar, its value after it."""
    top, row = 34, 44
    room = WIDTH - 170  # the value's text needs the rest
    largest = max((b.value for b in bars), default=0)
    body: list[str] = []
    if not bars:
        body.append(f'<text class="chart-empty" x="0" y="{top + FONT}">{escape(empty)}</text>')
    for i, bar in enumerate(bars):
        y = top + i * row
        length = _scaled(bar.value, largest, room)
        body.append(
            f'<g class="bar tone-{escape(bar.tone)}"><title>{escape(bar.label)}: {escape(bar.text)}</title>'
            f'<text class="bar-label" x="0" y="{y + FONT}">{escape(_short(bar.label))}</text>'
            f'<rect x="0" y="{y + 20}" width="{length}" height="18"{_fill(chart_id, bar.tone)}/>'
            f'<text class="bar-value" x="{length + 6}" y="{y + 34}">{escape(bar.text)}</text></g>'
        )
    height = top + max(len(bars), 1) * row + 6
    return _svg(chart_id, title, height, body, heading=heading)


def funnel_chart(chart_id: str, title: str, stages: Sequence[Bar]) -> Markup:
    """A funnel: one centred bar per stage, as wide as its count, the stage and its count above it."""
    top, row = 34, 50
    room = WIDTH - 20
    largest = max((s.value for s in stages), default=0)
    body: list[str] = []
    for i, stage in enumerate(stages):
        y = top + i * row
        length = _scaled(stage.value, largest, room)
        x = (WIDTH - length) // 2
        body.append(
            f'<g class="stage tone-{escape(stage.tone)}"><title>{escape(stage.label)}: {escape(stage.text)}</title>'
            f'<text class="stage-label" x="{WIDTH // 2}" y="{y + FONT}" text-anchor="middle">'
            f'{escape(_short(stage.label))} — {escape(stage.text)}</text>'
            f'<rect x="{x}" y="{y + 20}" width="{length}" height="24"{_fill(chart_id, stage.tone)}/></g>'
        )
    height = top + max(len(stages), 1) * row + 6
    return _svg(chart_id, title, height, body)


def column_chart(chart_id: str, title: str, categories: Sequence[str], series: Sequence[Series]) -> Markup:
    """Columns by category (months), one per series side by side, each value written above its column."""
    width = 480
    left, top, labels_room, plot, bottom = 4, 30, 128, 150, 58
    base = top + labels_room + plot  # the columns stand on this line
    group = (width - left) // max(len(categories), 1)
    column = max(4, (group - 8) // max(len(series), 1))
    largest = max((v for s in series for v in s.values), default=0)
    body: list[str] = [f'<line class="axis" x1="{left}" y1="{base}" x2="{width}" y2="{base}"/>']
    for c, category in enumerate(categories):
        gx = left + c * group + 4
        for s_index, s in enumerate(series):
            value, text = s.values[c], s.texts[c]
            height = _scaled(value, largest, plot)
            x = gx + s_index * column
            body.append(
                f'<g class="column tone-{escape(s.tone)}"><title>{escape(category)}, {escape(s.name)}: '
                f'{escape(text)}</title>'
                f'<rect x="{x}" y="{base - height}" width="{column - 2}" height="{height}"{_fill(chart_id, s.tone)}/>'
            )
            if value:
                tx, ty = x + column // 2 + 4, base - height - 4
                body.append(f'<text class="column-value" x="{tx}" y="{ty}" transform="rotate(-90 {tx} {ty})">'
                            f'{escape(text)}</text>')
            body.append("</g>")
        body.append(f'<text class="column-label" x="{gx + group // 2 - 4}" y="{base + 18}" text-anchor="middle">'
                    f'{escape(category)}</text>')
    legend_y = base + 44
    x = left
    for s in series:
        body.append(f'<g class="legend tone-{escape(s.tone)}"><rect x="{x}" y="{legend_y - 12}" width="14" '
                    f'height="14"{_fill(chart_id, s.tone)}/>'
                    f'<text x="{x + 20}" y="{legend_y}">{escape(s.name)}</text></g>')
        x += 20 + 9 * len(s.name) + 24
    return _svg(chart_id, title, base + bottom, body, width=width)
