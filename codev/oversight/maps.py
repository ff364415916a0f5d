"""Maps drawn on the server as SVG from the boundaries shipped in ``oversight/data/`` (see its README).

The world's countries are projected with the Equal Earth projection (equal areas, so a large country
does not look more important than it is), Togo's regions with a plain equirectangular one (a country
this small is not distorted by it). The coordinates are projected once per process, when a map is first
drawn. A map is shaded in five steps of distinct lightness (each a fifth of the largest value), a place
without any figure is left blank; the figures themselves are in the table beside the map. Places too
small to see at the world's scale (Singapore, Malta…) get a dot when they have a figure.

Grand Lomé, a district inside the Maritime region, has no boundary of its own in Natural Earth: it is
drawn as a disc at Lomé, shaded by its own figures.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from markupsafe import Markup, escape

from codev.core.countries import country_name, is_country

STEPS = 5
WORLD_WIDTH = 2000
TOGO_SCALE = 140  # SVG units per degree
SMALL = 6  # a shape narrower and shorter than this (SVG units) gets a dot


@dataclass(frozen=True)
class Shape:
    id: str
    name: str
    d: str  # the SVG path
    x: int  # where its label or dot goes
    y: int
    small: bool


@dataclass(frozen=True)
class Basemap:
    shapes: tuple[Shape, ...]
    width: int
    height: int
    source: str
    markers: Mapping[str, tuple[int, int]]

    def ids(self) -> frozenset[str]:
        return frozenset(s.id for s in self.shapes) | frozenset(self.markers)


def _load(name: str) -> dict:
    return json.loads(files("codev.oversight").joinpath(f"data/{name}").read_text(encoding="utf-8"))


# Equal Earth (Šavrič, Patterson, Jenny 2018).
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3) / 2


def equal_earth(lon: float, lat: float) -> tuple[float, float]:
    """(x, y) of a point, y up, in the projection's own units."""
    theta = math.asin(_M * math.sin(math.radians(lat)))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = math.radians(lon) * math.cos(theta) / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, y


def _rings(shape: dict) -> list[list[tuple[float, float]]]:
    scale = shape["precision"]
    return [[(ring[i] / scale, ring[i + 1] / scale) for i in range(0, len(ring), 2)] for ring in shape["rings"]]


def _centroid(points: list[tuple[int, int]]) -> tuple[int, int, int]:
    """(x, y, twice the area) of a ring; its vertices' mean when it is degenerate."""
    area2 = cx = cy = 0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        area2 += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if area2 == 0:
        n = len(points)
        return sum(p[0] for p in points) // n, sum(p[1] for p in points) // n, 0
    return round(cx / (3 * area2)), round(cy / (3 * area2)), abs(area2)


def _shape(raw: dict, project: Callable[[float, float], tuple[int, int]]) -> Shape:
    parts, best = [], (0, 0, -1)
    xs, ys = [], []
    for ring in _rings(raw):
        points = []
        for lon, lat in ring:
            point = project(lon, lat)
            if not points or point != points[-1]:
                points.append(point)
        if len(points) < 2:
            continue
        xs += [p[0] for p in points]
        ys += [p[1] for p in points]
        parts.append("M" + " ".join(f"{x},{y}" for x, y in points) + "Z")
        centre = _centroid(points)
        if centre[2] > best[2]:
            best = centre
    small = (max(xs) - min(xs) < SMALL and max(ys) - min(ys) < SMALL) if xs else True
    return Shape(raw["id"], raw["name"], "".join(parts), best[0], best[1], small)


@cache
def world() -> Basemap:
    """The countries (Antarctica left out), projected to a map 2 000 units wide."""
    data = _load("world.json")
    x_max = equal_earth(180, 0)[0]
    scale = (WORLD_WIDTH / 2) / x_max
    top, bottom = equal_earth(0, 84)[1], equal_earth(0, -60)[1]

    def project(lon: float, lat: float) -> tuple[int, int]:
        x, y = equal_earth(lon, max(lat, -60))
        return round((x + x_max) * scale), round((top - y) * scale)

    shapes = tuple(shape for raw in data["shapes"] if (shape := _shape(raw, project)).d)
    return Basemap(shapes, WORLD_WIDTH, round((top - bottom) * scale), data["source"], {})


@cache
def togo() -> Basemap:
    """Togo's five regions (and the Grand Lomé marker), about 140 units per degree."""
    data = _load("togo.json")
    rings = [p for raw in data["shapes"] for ring in _rings(raw) for p in ring]
    west, east = min(p[0] for p in rings), max(p[0] for p in rings)
    south, north = min(p[1] for p in rings), max(p[1] for p in rings)
    squeeze = math.cos(math.radians((north + south) / 2))
    margin = 10

    def project(lon: float, lat: float) -> tuple[int, int]:
        return (round((lon - west) * squeeze * TOGO_SCALE) + margin, round((north - lat) * TOGO_SCALE) + margin)

    shapes = tuple(_shape(raw, project) for raw in data["shapes"])
    markers = {code: project(lon / 1000, lat / 1000) for code, (lon, lat) in data["markers"].items()}
    width = round((east - west) * squeeze * TOGO_SCALE) + 2 * margin
    height = round((north - south) * TOGO_SCALE) + margin + 56  # the sea below Lomé holds its label
    return Basemap(shapes, width, height, data["source"], markers)


# --- shading ------------------------------------------------------------------------------------


def step(value: int, largest: int) -> int:
    """0 for nothing, else 1 to 5: the fifth of the largest value it falls in (integer arithmetic)."""
    if value <= 0 or largest <= 0:
        return 0
    return min(STEPS, (STEPS * value + largest - 1) // largest)


def legend(largest: int, show: Callable[[int], str]) -> list[tuple[int, str]]:
    """(step, "from … to …" in the reader's words) for each step that can hold a value."""
    if largest <= 0:
        return []
    bounds = [(largest * k + STEPS - 1) // STEPS for k in range(STEPS + 1)]
    rows = []
    for k in range(1, STEPS + 1):
        low, high = bounds[k - 1] + (1 if k > 1 else 0), bounds[k]
        low = max(low, 1)
        if high > low:
            rows.append((k, f"{show(low)} – {show(high)}"))
        elif high == low:
            rows.append((k, show(high)))
    return rows


@dataclass(frozen=True)
class Value:
    value: int
    text: str


def choropleth(map_id: str, title: str, basemap: Basemap, values: Mapping[str, Value], *,
               labels: Mapping[str, str] | None = None, legend_rows: Sequence[tuple[int, str]] = (),
               legend_title: str = "", no_data: str = "", scale: int = 1) -> Markup:
    """The map shaded by ``values`` (by shape id); ``labels`` writes a name and the value on each shape.
    Without labels a country (an ISO code) is named in the reader's language, not the basemap's English."""

    def named(code: str, fallback: str) -> str:
        if labels:
            return labels.get(code, fallback)
        return country_name(code) if is_country(code) else fallback

    largest = max((v.value for v in values.values()), default=0)
    title_id = f"{map_id}-title"
    line = 22 * scale  # the legend's rows (``scale`` keeps them readable on a map drawn wide)
    legend_height = (len(legend_rows) + 2) * line if legend_rows else 0
    height = basemap.height + legend_height
    body = [f'<svg xmlns="http://www.w3.org/2000/svg" class="map" id="{map_id}" '
            f'viewBox="0 0 {basemap.width} {height}" width="100%" role="img" aria-labelledby="{title_id}">'
            f'<title id="{title_id}">{escape(title)}</title>']
    dots, texts = [], []
    for shape in basemap.shapes:
        found = values.get(shape.id)
        k = step(found.value, largest) if found else 0
        name = named(shape.id, shape.name)
        tip = f"{name}: {found.text}" if found else name
        body.append(f'<path class="area step-{k}" data-id="{escape(shape.id)}" d="{shape.d}">'
                    f'<title>{escape(tip)}</title></path>')
        if shape.small and found:
            dots.append(f'<circle class="dot step-{k}" cx="{shape.x}" cy="{shape.y}" r="{7 * scale}">'
                        f'<title>{escape(tip)}</title></circle>')
        if labels is not None:
            texts.append(_label(shape.x, shape.y, name, found.text if found else no_data))
    for code, (x, y) in basemap.markers.items():
        found = values.get(code)
        k = step(found.value, largest) if found else 0
        name = named(code, code)
        dots.append(f'<circle class="marker step-{k}" data-id="{escape(code)}" cx="{x}" cy="{y}" r="11">'
                    f'<title>{escape(name)}: {escape(found.text if found else no_data)}</title></circle>')
        if labels is not None:
            texts.append(_label(x, y + 30, name, found.text if found else no_data))
    body += dots + texts
    if legend_rows:
        y = basemap.height + line
        body.append(f'<text class="legend-title" x="4" y="{y}">{escape(legend_title)}</text>')
        for i, (k, text) in enumerate(legend_rows, start=1):
            body.append(f'<rect class="area step-{k}" x="4" y="{y + i * line - 14 * scale}" width="{18 * scale}" '
                        f'height="{16 * scale}"/>'
                        f'<text class="legend-text" x="{30 * scale}" y="{y + i * line}">{escape(text)}</text>')
    body.append("</svg>")
    return Markup("".join(body))  # noqa: S704 (every text above is escaped; paths are numbers)


def _label(x: int, y: int, name: str, value: str, anchor: str = "middle") -> str:
    return (f'<text class="map-label" x="{x}" y="{y}" text-anchor="{anchor}">{escape(name)}'
            f'<tspan class="map-value" x="{x}" dy="18">{escape(value)}</tspan></text>')
