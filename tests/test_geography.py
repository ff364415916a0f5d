"""Togo's localities: counts, lookups tolerant of spelling, and the commune chooser without JavaScript."""

from __future__ import annotations

import pytest

from codev.core import geography
from codev.core.geography import commune_by_name, communes, prefectures, regions, search_communes


def test_counts_six_regions_39_prefectures_117_communes():
    assert len(regions()) == 6
    assert len([r for r in regions() if r.code != "TG-GL"]) == 5
    assert len(prefectures()) == 39
    assert len(communes()) == 117
    assert sum(len(prefectures(r.code)) for r in regions()) == 39
    assert sum(len(communes(p.name)) for p in prefectures()) == 117


def test_grand_lome_is_its_own_region():
    assert [p.name for p in prefectures("TG-GL")] == ["Golfe", "Agoè-Nyivé"]
    assert "Golfe" not in [p.name for p in prefectures("TG-M")]
    golfe = commune_by_name("Golfe 4")
    assert (golfe.region_code, golfe.iso_region_code, golfe.prefecture) == ("TG-GL", "TG-M", "Golfe")
    assert geography.region_name("TG-GL") == "Grand Lomé"


def test_existing_functions_still_work():
    assert ("TG-K", "Kara") in geography.region_choices()
    assert geography.region_name("TG-S") == "Savanes"
    assert geography.region_name("XX") == "XX"


@pytest.mark.parametrize(
    ("typed", "commune"),
    [
        ("Tandjoaré 1", "Tandjouaré 1"), ("Tchoudjo 2", "Tchaoudjo 2"), ("Cinkancé 1", "Cinkassé 1"),
        ("Bimah 2", "Binah 2"), ("Agoé-Nyivé 3", "Agoè-Nyivé 3"), ("Kpélé-Akata 1", "Kpélé 1"),
        ("Plaine du Mô 2", "Mô 2"), ("AGOE NYIVE 6", "Agoè-Nyivé 6"), ("  kpele   2 ", "Kpélé 2"),
        ("tandjouare 2", "Tandjouaré 2"),
    ],
)
def test_commune_by_name_accepts_variants_accents_and_case(typed, commune):
    assert commune_by_name(typed).name == commune


def test_commune_by_name_refuses_what_does_not_exist():
    assert commune_by_name("Paris 1") is None
    assert commune_by_name("") is None
    assert commune_by_name(None) is None


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("Tandjoaré", "Tandjouaré 1"), ("Tandjouaré", "Tandjouaré 1"), ("Tchoudjo", "Tchaoudjo 1"),
        ("Tchaoudjo", "Tchaoudjo 1"), ("Cinkancé", "Cinkassé 1"), ("Cinkassé", "Cinkassé 1"),
        ("Bimah", "Binah 1"), ("Binah", "Binah 1"), ("Agoé-Nyivé", "Agoè-Nyivé 1"), ("Agoè-Nyivé", "Agoè-Nyivé 1"),
        ("Kpélé-Akata", "Kpélé 1"), ("Kpélé", "Kpélé 1"), ("Plaine du Mô", "Mô 1"), ("Mô", "Mô 1"),
        ("mo 2", "Mô 2"), ("Sokodé", "Tchaoudjo 1"), ("Lomé", "Golfe 1"),
    ],
)
def test_search_finds_each_variant_first(typed, first):
    results = search_communes(typed)
    assert results and results[0].name == first


def test_search_of_nothing_finds_nothing():
    assert search_communes("") == []
    assert search_communes("zzz") == []


def test_prefectures_and_communes_by_name():
    assert [c.name for c in communes("Tchoudjo")] == ["Tchaoudjo 1", "Tchaoudjo 2", "Tchaoudjo 3", "Tchaoudjo 4"]
    assert communes("Nowhere") == ()
    assert {p.region_code for p in prefectures("TG-S")} == {"TG-S"}


def test_commune_choices_grouped_for_a_select():
    groups = geography.commune_choices(["TG-GL"])
    assert list(groups) == ["Grand Lomé — Golfe", "Grand Lomé — Agoè-Nyivé"]
    assert sum(len(v) for v in geography.commune_choices().values()) == 117


def test_chooser_walks_region_prefecture_commune(client):
    page = client.get("/calls/communes")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Grand Lomé" in text and "Savanes" in text
    text = client.get("/calls/communes?region=TG-S").get_data(as_text=True)
    assert "Tandjouaré" in text and "Kozah" not in text
    text = client.get("/calls/communes?region=TG-S&prefecture=Tandjoar%C3%A9").get_data(as_text=True)
    assert "Tandjouaré 2" in text


def test_chooser_search_and_pick_link_back_to_a_form(client):
    text = client.get("/calls/communes?q=Cinkanc%C3%A9&next=/projects/1/edit").get_data(as_text=True)
    assert "Cinkassé 1" in text
    assert "/projects/1/edit?commune=Cinkass%C3%A9+1" in text


def test_chooser_ignores_foreign_redirects_and_bad_input(client):
    page = client.get("/calls/communes?next=https://evil.example/&region=XX&prefecture=<b>&q=" + "x" * 500)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'href="https://evil' not in text and "commune=" not in text
    assert "<b>" not in text
