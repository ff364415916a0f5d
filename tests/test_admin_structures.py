"""Partner structures: admins create and edit them; officers and approvers read them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from codev.accounts.models import PartnerRegion, PartnerSector, PartnerStructure, User
from codev.core.models import AuditEvent
from tests import factories
from tests.factories_admin import english, structure_form


@pytest.fixture
def admin(users, login_as):
    return login_as(english(users["admin"]))


def structure_count(db) -> int:
    return db.session.scalar(select(func.count(PartnerStructure.id)))


def test_admin_creates_a_structure(client, db, admin):
    before = structure_count(db)
    response = client.post("/admin/structures/new", data=structure_form(
        regions=["TG-P", "TG-K"], sectors=["water", "health"]
    ))
    assert response.status_code == 302
    structure = db.session.scalar(select(PartnerStructure).where(PartnerStructure.acronym == "DRH-P"))
    assert structure_count(db) == before + 1
    assert structure.kind == "state" and structure.active
    assert sorted(structure.region_codes) == ["TG-K", "TG-P"]
    assert sorted(structure.sector_codes) == ["health", "water"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Plateaux" in page and "Kara" in page and "Water and sanitation" in page
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "structure.create")).one()
    assert event.object_id == structure.id and event.after["regions"] == ["TG-K", "TG-P"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "   "}, "This field is required."),
        ({"name": "x" * 5000}, "At most 200 characters."),
        ({"regions": None}, "Tick at least one region of competence."),
        ({"sectors": None}, "Tick at least one sector."),
        ({"regions": ["TG-XX"]}, "ot a valid choice"),
        ({"kind": "private"}, "ot a valid choice"),
        ({"email": "nope"}, "Enter a valid email address"),
    ],
)
def test_bad_structure_input_is_refused_and_nothing_saved(client, db, admin, overrides, message):
    before = structure_count(db)
    response = client.post("/admin/structures/new", data=structure_form(acronym="KEEPME", **overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'value="KEEPME"' in page  # typed values stay
    assert structure_count(db) == before
    assert db.session.scalar(select(func.count(PartnerRegion.structure_id))) == 0


def test_duplicate_name_in_another_case_is_refused(client, db, admin):
    factories.PartnerStructureFactory(name="Agence Nationale de l'Eau Potable")
    db.session.commit()
    before = structure_count(db)
    response = client.post("/admin/structures/new", data=structure_form(
        name="AGENCE nationale DE L'EAU POTABLE"
    ))
    assert response.status_code == 400
    assert "Another partner structure already has this name." in response.get_data(as_text=True)
    assert structure_count(db) == before


def test_duplicate_name_with_accents_in_another_case_is_refused(client, db, admin):
    factories.PartnerStructureFactory(name="École nationale d'agriculture")
    db.session.commit()
    response = client.post("/admin/structures/new", data=structure_form(name="ÉCOLE NATIONALE D'AGRICULTURE"))
    assert response.status_code == 400
    assert "Another partner structure already has this name." in response.get_data(as_text=True)


def make_structure(db, **kwargs):
    structure = factories.PartnerStructureFactory(**kwargs)
    structure.regions.append(PartnerRegion(region="TG-M"))
    structure.sectors.append(PartnerSector(sector="health"))
    db.session.commit()
    return structure


def test_admin_edits_a_structure_and_the_change_is_audited(client, db, admin):
    structure = make_structure(db, name="ONG Santé pour tous")
    response = client.post(f"/admin/structures/{structure.id}/edit", data=structure_form(
        name="ONG Santé pour tous", kind="non_state", regions=["TG-M", "TG-S"], sectors=["health"],
    ))
    assert response.status_code == 302
    db.session.refresh(structure)
    assert structure.kind == "non_state" and sorted(structure.region_codes) == ["TG-M", "TG-S"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "structure.update")).one()
    assert event.before["regions"] == ["TG-M"] and event.after["regions"] == ["TG-M", "TG-S"]
    assert event.before["kind"] == "state" and event.after["kind"] == "non_state"
    assert "name" not in event.after  # only what changed


def test_edit_keeps_its_own_name_in_another_case(client, db, admin):
    structure = make_structure(db, name="Direction des routes")
    response = client.post(f"/admin/structures/{structure.id}/edit", data=structure_form(
        name="DIRECTION DES ROUTES"
    ))
    assert response.status_code == 302
    db.session.refresh(structure)
    assert structure.name == "DIRECTION DES ROUTES"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "y" * 5000}, "At most 200 characters."),
        ({"regions": None}, "Tick at least one region of competence."),
        ({"name": "other structure"}, "Another partner structure already has this name."),
    ],
)
def test_bad_edit_is_refused_and_nothing_changes(client, db, admin, overrides, message):
    factories.PartnerStructureFactory(name="Other Structure")
    structure = make_structure(db, name="Original name")
    response = client.post(f"/admin/structures/{structure.id}/edit", data=structure_form(**overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    structure = db.session.get(PartnerStructure, structure.id)
    assert structure.name == "Original name" and structure.region_codes == ["TG-M"]
    assert structure.acronym != "DRH-P"


def test_edit_form_shows_current_values(client, db, admin):
    structure = make_structure(db, name="Agence de l'énergie")
    page = client.get(f"/admin/structures/{structure.id}/edit").get_data(as_text=True)
    assert 'value="Agence de l&#39;énergie"' in page
    assert 'checked id="regions-1" name="regions" type="checkbox" value="TG-M"' in page


def test_markup_in_names_is_escaped_on_list_pages(client, db, admin):
    evil = "<script>alert(1)</script><b>x</b>"
    structure = make_structure(db, name=evil, acronym="<i>A</i>")
    factories.UserFactory(name=evil, evaluator=True, partner_structure=structure, title="<img src=x>")
    db.session.commit()
    for url in ("/admin/structures", f"/admin/structures/{structure.id}", "/admin/users",
                "/oversight/audit"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page and "<b>x</b>" not in page, url
        assert "<img src=x>" not in page and "<i>A</i>" not in page, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/admin/structures").get_data(as_text=True)


def test_list_counts_active_evaluators_and_shows_kind(client, db, admin):
    structure = make_structure(db, name="Direction de la santé", kind="state")
    for active in (True, True, False):
        factories.UserFactory(evaluator=True, partner_structure=structure, active=active)
    db.session.commit()
    page = client.get("/admin/structures").get_data(as_text=True)
    row = page[page.index("Direction de la santé"):]
    row = row[: row.index("</tr>")]
    assert re.search(r'<td class="num"[^>]*>2</td>', row)  # the cell may carry its column's label
    assert "State structure" in row and "Maritime" in row and "Health" in row


def test_detail_lists_evaluators_and_links_to_add_one(client, db, admin):
    structure = make_structure(db)
    evaluator = factories.UserFactory(evaluator=True, partner_structure=structure, name="Yawa Dzifa")
    db.session.commit()
    page = client.get(f"/admin/structures/{structure.id}").get_data(as_text=True)
    assert "Yawa Dzifa" in page and evaluator.email in page
    assert f"/admin/users/new?role=evaluator&amp;structure={structure.id}" in page


def test_officer_reads_structures_but_cannot_change_them(client, db, users, login_as):
    structure = make_structure(db, name="Direction de l'agriculture")
    factories.UserFactory(evaluator=True, partner_structure=structure, name="Komi Evaluateur")
    login_as(english(users["officer"]))
    page = client.get("/admin/structures").get_data(as_text=True)
    assert "Direction de l&#39;agriculture" in page and "Add a partner structure" not in page
    page = client.get(f"/admin/structures/{structure.id}").get_data(as_text=True)
    assert "Komi Evaluateur" in page
    assert "Edit the structure" not in page and "Add an evaluator" not in page
    assert client.get("/admin/structures/new").status_code == 403
    assert client.post("/admin/structures/new", data=structure_form()).status_code == 403
    response = client.post(f"/admin/structures/{structure.id}/edit", data=structure_form(name="Hacked"))
    assert response.status_code == 403
    db.session.refresh(structure)
    assert structure.name == "Direction de l'agriculture"
    assert db.session.scalar(select(func.count(User.id)).where(User.name == "Komi Evaluateur")) == 1


def test_structure_filters(client, db, admin):
    make_structure(db, name="Active state one", kind="state")
    make_structure(db, name="Gone NGO", kind="non_state", active=False)
    page = client.get("/admin/structures?active=0").get_data(as_text=True)
    assert "Gone NGO" in page and "Active state one" not in page
    page = client.get("/admin/structures?kind=state").get_data(as_text=True)
    assert "Active state one" in page and "Gone NGO" not in page
    assert client.get("/admin/structures?kind=bogus&page=99").status_code == 200
