"""The IATI 2.03 activity file: valid against the standard's schema (shipped in tests/data/iati-2.03), one
activity per funded project, the three kinds of transaction with the right sums, no person named."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET  # noqa: N817 (our own file, parsed in a test)

import pytest
import xmlschema
from sqlalchemy import text

from tests.factories_oversight import seed_programme

SCHEMA = Path(__file__).parent / "data" / "iati-2.03" / "iati-activities-schema.xsd"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(SCHEMA))


@pytest.fixture
def programme(db):
    return seed_programme()


def activities(client) -> tuple[bytes, dict[str, ET.Element]]:
    response = client.get("/open-data/iati.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ET.fromstring(response.data)  # noqa: S314 (the app's own output)
    assert root.tag == "iati-activities" and root.get("version") == "2.03"
    return response.data, {a.find("other-identifier").get("ref"): a
                           for a in root.findall("iati-activity")}


def transactions(activity: ET.Element, kind: str) -> list[int]:
    return [int(t.findtext("value")) for t in activity.findall("transaction")
            if t.find("transaction-type").get("code") == kind]


@pytest.mark.backends
def test_the_file_validates_against_the_iati_schema(client, db, programme, schema, backend):
    data, found = activities(client)
    schema.validate(data.decode("utf-8"))
    references = {r for (r,) in db.session.execute(text("SELECT p.reference FROM grants g JOIN projects p "
                                                        "ON p.id = g.project_id"))}
    assert set(found) == references  # one activity per funded project, lapsed and cancelled ones too


def test_a_funded_project_has_its_three_kinds_of_transaction_with_the_right_sums(client, db, programme, app):
    grant = programme["grants"][0]  # 10 M; 3 M cash + 1 M in kind verified (and 0.7 M reversed); 3 M paid
    _data, found = activities(client)
    activity = found[grant.project.reference]
    assert transactions(activity, "2") == [10_000_000]
    assert sorted(transactions(activity, "3")) == [1_000_000, 2_000_000]
    assert sorted(transactions(activity, "1")) == [1_000_000, 3_000_000]  # no community money, no reversed one
    assert activity.findtext("iati-identifier") == f"{app.config['IATI_ORG_ID']}-{grant.project.reference}"
    assert activity.find("reporting-org").get("ref") == app.config["IATI_ORG_ID"]
    assert activity.find("activity-status").get("code") == "2"
    assert activity.find("recipient-country").get("code") == "TG"
    assert activity.find("location").get("ref") == "TG-P"
    sector = activity.find("sector")
    assert (sector.get("vocabulary"), sector.get("code")) == ("1", "14030")  # water and sanitation
    titles = activity.find("title").findall("narrative")
    descriptions = activity.find("description").findall("narrative")
    assert {n.get(LANG, "fr") for n in titles} == {n.get(LANG, "fr") for n in descriptions} == {"fr", "en"}
    assert "Projet de coréalisation" in descriptions[0].text and "Co-development project" in descriptions[1].text
    roles = {o.get("role"): o.findtext("narrative") for o in activity.findall("participating-org")}
    assert roles == {"1": app.config["MINISTRY_NAME_FR"], "4": grant.project.association.name}


def test_sums_over_the_whole_file_equal_plain_sql(client, db, programme):
    _data, found = activities(client)
    commitments = sum(sum(transactions(a, "2")) for a in found.values())
    paid = sum(sum(transactions(a, "3")) for a in found.values())
    incoming = sum(sum(transactions(a, "1")) for a in found.values())
    sql = lambda query: db.session.execute(text(query)).scalar()  # noqa: E731
    assert commitments == sql("SELECT SUM(amount_xof - released_xof) FROM grants")
    assert paid == sql("SELECT SUM(amount_xof) FROM disbursements")
    assert incoming == sql(
        "SELECT SUM(e.amount_xof) FROM contribution_entries e WHERE e.kind = 'declared' "
        "AND e.source IN ('association_cash', 'association_in_kind') "
        "AND e.id IN (SELECT refers_to_id FROM contribution_entries WHERE kind = 'verified') "
        "AND e.id NOT IN (SELECT refers_to_id FROM contribution_entries WHERE kind = 'reversal')")


def test_lapsed_and_cancelled_projects_say_so_and_return_their_commitment(client, db, programme):
    _data, found = activities(client)
    lapsed, cancelled = programme["grants"][4], programme["grants"][5]
    for grant in (lapsed, cancelled):
        activity = found[grant.project.reference]
        assert activity.find("activity-status").get("code") == "5"
        assert transactions(activity, "2") == [grant.amount_xof, -5_000_000]
    assert transactions(found[cancelled.project.reference], "3") == [1_000_000]


def test_the_reporting_identifier_is_a_setting(client, db, programme, app):
    app.config["IATI_ORG_ID"] = "XM-DAC-99999"
    _data, found = activities(client)
    assert all(a.findtext("iati-identifier").startswith("XM-DAC-99999-CODEV-") for a in found.values())


def test_the_demo_programme_validates(tmp_path, schema):
    """The demo data as `make run` serves it, through the app."""
    from codev import create_app
    from codev.demo import seed_demo
    from codev.extensions import db

    app = create_app({"ENV_NAME": "test", "SECRET_KEY": "test-secret-key-not-for-production", "TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
                      "UPLOAD_FOLDER": str(tmp_path / "up"), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()
        data = app.test_client().get("/open-data/iati.xml").data
        db.session.remove()
        db.engine.dispose()
    schema.validate(data.decode("utf-8"))
    assert data.count(b"<iati-activity ") >= 3
