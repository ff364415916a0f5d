"""Server-drawn charts and maps: titles, values as text, escaping, integer geometry, shading; the maps page
draws every country and region with figures and lists them in its tables; the boundary files stay small."""

from __future__ import annotations

import html
import re
from importlib.resources import files

import pytest
from sqlalchemy import text

from codev.core.countries import country_name
from codev.core.geography import regions
from codev.core.money import format_xof
from codev.oversight import maps
from codev.oversight.charts import Bar, Series, bar_chart, column_chart, funnel_chart
from tests.factories_dashboard import seed_dashboard


def test_bar_chart_has_a_title_every_value_as_text_and_escapes_labels():
    svg = str(bar_chart("c1", "Money <mobilised>", [Bar("<script>alert(1)</script>", 2_500_000, "2 500 000 F CFA"),
                                                    Bar("Paid", 1_000_000, "1 000 000 F CFA", "b")]))
    assert svg.startswith("<svg") and '<title id="c1-title">Money &lt;mobilised&gt;</title>' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert ">2 500 000 F CFA</text>" in svg and ">1 000 000 F CFA</text>" in svg
    assert 'fill="url(#c1-hatch)"' in svg and "style=" not in svg
    widths = [int(w) for w in re.findall(r'<rect x="0" y="\d+" width="(\d+)"', svg)]
    assert widths == [250, 100]  # 250 units for the largest, the other in proportion (integers)


def test_a_zero_or_empty_chart_draws_no_bar_and_says_so():
    assert 'width="0"' in str(bar_chart("c2", "Nothing", [Bar("None yet", 0, "0")]))
    assert ">No project</text>" in str(bar_chart("c3", "Nothing", [], empty="No project"))


def test_funnel_writes_each_stage_and_its_count():
    svg = str(funnel_chart("f", "Funnel", [Bar("Submitted", 10, "10"), Bar("Funded", 4, "4")]))
    assert "Submitted — 10</text>" in svg and "Funded — 4</text>" in svg
    assert svg.count("<rect") == 2 + 1  # the stages and the hatch pattern's tile


def test_column_chart_writes_values_above_columns_and_a_legend():
    svg = str(column_chart("m", "By month", ["Jan", "Feb"], [
        Series("Approved", [3_000_000, 0], ["3 000 000 F CFA", "0 F CFA"], "a"),
        Series("Paid", [1_000_000, 2_000_000], ["1 000 000 F CFA", "2 000 000 F CFA"], "b")]))
    assert ">3 000 000 F CFA</text>" in svg and ">2 000 000 F CFA</text>" in svg
    assert ">0 F CFA</text>" not in svg  # nothing is written over an empty column (the table has it)
    assert ">Jan</text>" in svg and ">Approved</text>" in svg and ">Paid</text>" in svg


def test_shading_steps_are_fifths_of_the_largest_value():
    assert [maps.step(v, 100) for v in (0, 1, 20, 21, 40, 60, 80, 99, 100)] == [0, 1, 1, 2, 2, 3, 4, 5, 5]
    assert maps.legend(100, str) == [(1, "1 – 20"), (2, "21 – 40"), (3, "41 – 60"), (4, "61 – 80"), (5, "81 – 100")]
    assert maps.legend(1, str) == [(1, "1")]
    assert maps.legend(0, str) == []


def test_boundary_files_are_small_and_cover_every_region():
    for name in ("world.json", "togo.json"):
        assert len(files("codev.oversight").joinpath(f"data/{name}").read_bytes()) < 200_000
    assert maps.togo().ids() == {r.code for r in regions()}
    world = maps.world().ids()
    for code in ("FR", "BE", "DE", "US", "CA", "CI", "GH", "BJ", "TG", "SN", "GB", "CH", "IT", "SG", "MT", "LU"):
        assert code in world, code


def test_world_shapes_stay_on_the_map():
    """Russia, Fiji and Kiribati cross ±180°: their pieces are cut there, no ring runs across the map."""
    basemap = maps.world()
    for shape in basemap.shapes:
        for ring in shape.d.split("M")[1:]:
            xs = [int(p.split(",")[0]) for p in ring.rstrip("Z").split()]
            assert 0 <= min(xs) and max(xs) <= basemap.width, shape.id
            assert max(xs) - min(xs) < basemap.width // 2, shape.id


def test_choropleth_shades_what_has_figures_and_writes_labels():
    svg = str(maps.choropleth("t", "Projects", maps.togo(), {"TG-P": maps.Value(8, "8"), "TG-GL": maps.Value(2, "2")},
                              labels={"TG-P": "Plateaux", "TG-GL": "Grand Lomé"}, no_data="0",
                              legend_rows=maps.legend(8, str), legend_title="Projects"))
    assert re.search(r'<path class="area step-5" data-id="TG-P"', svg)
    assert re.search(r'<circle class="marker step-2" data-id="TG-GL"', svg)
    assert re.search(r'<path class="area step-0" data-id="TG-S"', svg)
    assert "Plateaux<tspan" in svg and ">8</tspan>" in svg and "Grand Lomé<tspan" in svg
    assert "style=" not in svg and 'width="100%"' in svg and "viewBox=" in svg


@pytest.fixture
def programme(db):
    return seed_dashboard()


@pytest.mark.backends
def test_maps_page_draws_and_lists_every_country_and_region_with_figures(client, db, programme, users, login_as,
                                                                          backend):
    login_as(users["officer"])
    page = client.get("/oversight/maps", query_string={"world": "projects"}).get_data(as_text=True)
    world = page[page.index('id="map-world"'):page.index("</svg>", page.index('id="map-world"'))]
    togo = page[page.index('id="map-togo"'):page.index("</svg>", page.index('id="map-togo"'))]
    projects = dict(db.session.execute(text(
        "SELECT a.country, COUNT(*) FROM projects p JOIN associations a ON a.id = p.association_id "
        "WHERE p.status <> 'draft' GROUP BY a.country")).all())
    assert len(projects) >= 5
    for country, count in projects.items():
        assert re.search(rf'<path class="area step-[1-5]" data-id="{country}"', world), country
        name = re.escape(html.escape(country_name(country, "fr")))
        row = rf'<tr><th scope="row">{name}</th><td class="num"[^>]*>\d+</td>\s*<td class="num"[^>]*>{count}</td>'
        assert re.search(row, page), country
    by_region = dict(db.session.execute(text(
        "SELECT region, COUNT(*) FROM projects WHERE status <> 'draft' GROUP BY region")).all())
    for region, count in by_region.items():
        kind = "marker" if region == "TG-GL" else "area"
        assert re.search(rf'class="{kind} step-[1-5]" data-id="{region}"', togo), region
        name = next(r.name for r in regions() if r.code == region)
        assert f"{name}<tspan" in html.unescape(togo) and f">{count}</tspan>" in togo
    # The diaspora's money by country equals plain SQL.
    money = client.get("/oversight/maps", query_string={"world": "diaspora"}).get_data(as_text=True)
    verified = db.session.execute(text(
        "SELECT SUM(e.amount_xof) FROM contribution_entries e JOIN grants g ON g.id = e.grant_id "
        "JOIN projects p ON p.id = g.project_id JOIN associations a ON a.id = p.association_id "
        "WHERE a.country = 'FR' AND e.kind = 'declared' AND e.source IN ('association_cash', 'association_in_kind') "
        "AND e.id IN (SELECT refers_to_id FROM contribution_entries WHERE kind = 'verified') "
        "AND e.id NOT IN (SELECT refers_to_id FROM contribution_entries WHERE kind = 'reversal' "
        "AND refers_to_id IS NOT NULL)")).scalar()
    assert format_xof(int(verified), "fr") in money


def test_unknown_measures_fall_back(client, programme, users, login_as):
    login_as(users["approver"])
    assert client.get("/oversight/maps?world=%3Cx%3E&togo=1").status_code == 200
