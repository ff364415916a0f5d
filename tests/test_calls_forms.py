"""The call form: what an officer types, what is saved, and every refusal (message, typed values kept,
nothing saved, never a 500)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from codev.calls.models import Call, CallStatus, TrancheCondition
from codev.core.models import AuditEvent
from codev.core.timeutil import utcnow
from tests import factories


def payload(**overrides) -> dict:
    """A complete, valid call form as a browser sends it."""
    data = {
        "title": "Appel à projets 2027", "title_en": "2027 call", "description": "Eau et santé.",
        "opens_date": "2027-01-15", "opens_time": "08:00", "closes_date": "2027-04-30", "closes_time": "",
        "sectors": ["water", "health"], "regions": ["TG-S", "TG-GL"],
        "envelope": "300 000 000", "ratio": "1:2", "max_grant": "25000000", "max_grant_share": "70",
        "min_association_share": "33,5", "max_total_budget": "", "in_kind_counts": "50",
        "contribution_deadline_days": "90", "qualification_threshold": "60", "min_evaluators": "2",
        "score_gap_flag": "20", "max_files_mb": "40", "required_kinds": ["quote", "commune_letter"],
        "criteria-0-code": "relevance", "criteria-0-label_fr": "Pertinence", "criteria-0-label_en": "Relevance",
        "criteria-0-weight": "60", "criteria-0-max_score": "", "criteria-0-eliminatory_min": "4",
        "criteria-1-code": "feasibility", "criteria-1-label_fr": "Faisabilité", "criteria-1-label_en": "Feasibility",
        "criteria-1-weight": "40", "criteria-1-max_score": "5", "criteria-1-guidance_en": "Quotes, study.",
        "tranches-0-share": "40", "tranches-0-condition": "contribution_verified",
        "tranches-1-share": "60", "tranches-1-condition": "final_report_accepted",
    }
    data.update(overrides)
    return data


@pytest.fixture
def officer(db, users, login_as):
    users["officer"].locale = "en"
    return login_as(users["officer"])


def calls_saved(db) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Call))


@pytest.mark.backends
def test_officer_creates_a_draft_call(client, db, officer):
    answer = client.post("/calls/new", data=payload())
    assert answer.status_code == 302
    call = db.session.scalars(db.select(Call)).one()
    assert call.status == CallStatus.DRAFT and call.created_by_id == officer.id
    assert (call.title, call.title_en, call.envelope_xof) == ("Appel à projets 2027", "2027 call", 300_000_000)
    assert (call.ratio_num, call.ratio_den, call.max_grant_xof, call.max_total_budget_xof) == (1, 2, 25_000_000, None)
    assert (call.max_grant_share_bps, call.min_association_share_bps, call.in_kind_counts_bps) == (7000, 3350, 5000)
    assert call.opens_at == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    assert call.closes_at == datetime(2027, 4, 30, 23, 59, tzinfo=UTC)
    assert call.sector_codes == ["health", "water"] and call.region_codes == ["TG-GL", "TG-S"]
    assert call.max_project_files_bytes == 40 * 1024 * 1024
    assert [(c.code, c.weight, c.max_score, c.eliminatory_min) for c in call.criteria] == [
        ("relevance", 60, 10, 4), ("feasibility", 40, 5, None),
    ]
    assert call.criteria[1].guidance_en == "Quotes, study."
    assert [(t.number, t.share_bps, t.condition) for t in call.tranches] == [
        (1, 4000, TrancheCondition.CONTRIBUTION_VERIFIED), (2, 6000, TrancheCondition.FINAL_REPORT),
    ]
    actions = db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.object_id == call.id)).all()
    assert actions == ["call.create"]


def test_the_form_has_fixed_rows_and_says_dates_are_utc(client, officer):
    text = client.get("/calls/new").get_data(as_text=True)
    assert 'name="criteria-7-weight"' in text and 'name="criteria-8-weight"' not in text
    assert 'name="tranches-4-share"' in text
    assert "UTC" in text and "Togo" in text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"criteria-0-weight": "59"}, "The weights add up to 99; they must total 100."),
        ({"criteria-0-weight": "61"}, "The weights add up to 101; they must total 100."),
        ({"tranches-1-share": "50"}, "The tranches add up to 90 %; they must total 100 %."),
        ({"envelope": "beaucoup"}, "Enter the amount in digits only"),
        ({"envelope": "-5000"}, "The amount cannot be negative."),
        ({"envelope": "2500000,50"}, "Francs CFA have no cents"),
        ({"max_grant": "9" * 30}, "This amount is too large."),
        ({"max_grant": "0"}, "The amount must be greater than zero."),
        ({"title": "x" * 5000}, "At most 200 characters."),
        ({"title": ""}, "This field is required."),
        ({"ratio": "abc"}, "Enter the state francs for one franc of the association"),
        ({"ratio": "1:0"}, "Each side of the ratio is a whole number between 1 and 100."),
        ({"max_grant_share": "150"}, "Enter a percentage between 0,01 and 100."),
        ({"in_kind_counts": "plenty"}, "Enter a percentage between 0 and 100"),
        ({"criteria-0-eliminatory_min": "12"}, "At most the maximum score (10)."),
        ({"criteria-1-code": "relevance"}, "Two criteria have the same code"),
        ({"criteria-2-label_fr": "Durabilité"}, "Some rows of the grid are incomplete."),
        ({"tranches-2-share": "10"}, "Choose when this tranche is paid."),
        ({"closes_date": "2027-01-01"}, "The closing date must come after the opening date."),
        ({"closes_date": "2027-02-30"}, "Not a valid date value."),
        ({"qualification_threshold": "abc"}, "Enter a whole number from 0 to 100."),
        ({"min_evaluators": "0"}, "Enter a whole number from 1 to 10."),
        ({"sectors": ["water", "casino"]}, "is not a valid choice"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_kept(client, db, officer, overrides, message):
    data = payload(**overrides)
    answer = client.post("/calls/new", data=data)
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert message in text.replace("&#39;", "'"), message
    assert "Some fields need your attention; nothing has been saved yet." in text
    assert 'value="Pertinence"' in text  # what was typed stays
    if data["title"] and len(data["title"]) < 200:
        assert f'value="{data["title"]}"' in text
    assert calls_saved(db) == 0


def test_zero_is_a_threshold_not_an_empty_field(client, db, officer):
    assert client.post("/calls/new", data=payload(qualification_threshold="0", in_kind_counts="0")).status_code == 302
    call = db.session.scalars(db.select(Call)).one()
    assert (call.qualification_threshold, call.in_kind_counts_bps) == (0, 0)


def test_an_empty_grid_and_plan_are_allowed_in_a_draft(client, db, officer):
    data = {k: v for k, v in payload().items() if not k.startswith(("criteria", "tranches"))}
    assert client.post("/calls/new", data=data).status_code == 302
    call = db.session.scalars(db.select(Call)).one()
    assert call.criteria == [] and call.tranches == []


@pytest.mark.backends
def test_edit_a_draft_replaces_the_grid(client, db, officer):
    call = factories.CallFactory()
    db.session.commit()
    page = client.get(f"/calls/{call.id}/edit").get_data(as_text=True)
    # an English officer: the envelope written back as English writes it (typed_xof)
    assert 'value="200,000,000"' in page and 'value="feasibility"' in page and 'value="70"' in page
    answer = client.post(f"/calls/{call.id}/edit", data=payload(title="Renamed"))
    assert answer.status_code == 302
    db.session.expire_all()
    assert call.title == "Renamed" and [c.code for c in call.criteria] == ["relevance", "feasibility"]
    assert len(call.tranches) == 2


def test_edit_refused_keeps_the_saved_call(client, db, officer):
    call = factories.CallFactory()
    db.session.commit()
    answer = client.post(f"/calls/{call.id}/edit", data=payload(title="Renamed", **{"criteria-0-weight": "10"}))
    assert answer.status_code == 400
    db.session.expire_all()
    assert call.title.startswith("Appel à projets") and len(call.criteria) == 3


def test_open_call_changes_only_description_closing_date_and_envelope(client, db, officer):
    call = factories.CallFactory(open=True)
    db.session.commit()
    text = client.get(f"/calls/{call.id}/edit").get_data(as_text=True)
    assert 'name="envelope"' in text and 'name="ratio"' not in text
    closes = (utcnow() + timedelta(days=60)).date()
    answer = client.post(f"/calls/{call.id}/edit", data={
        "description": "Nouvelle description", "envelope": "250 000 000", "closes_date": closes.isoformat(),
        "closes_time": "18:00", "title": "Ignored", "ratio": "3",
    })
    assert answer.status_code == 302
    db.session.expire_all()
    assert (call.description, call.envelope_xof, call.ratio_num) == ("Nouvelle description", 250_000_000, 1)
    assert call.closes_at == datetime.combine(closes, datetime.min.time(), tzinfo=UTC).replace(hour=18)
    assert call.title != "Ignored"


@pytest.mark.backends
@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"envelope": "9 999 999"}, "The envelope cannot be less than the grants already committed."),
        ({"envelope": "300000000", "closes_date": "2020-01-01"}, "The new closing date is in the past"),
        ({"envelope": "1,5"}, "Francs CFA have no cents"),
    ],
)
def test_open_call_refusals(client, db, officer, form, message):
    call = factories.CallFactory(open=True, envelope_xof=300_000_000, committed_xof=10_000_000)
    db.session.commit()
    answer = client.post(f"/calls/{call.id}/edit", data={"description": "Changed", **form})
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)
    db.session.expire_all()
    assert call.envelope_xof == 300_000_000
    assert call.description == "Projets de développement local portés par la diaspora."


@pytest.mark.backends
def test_envelope_down_to_exactly_what_is_committed(client, db, officer):
    call = factories.CallFactory(status=CallStatus.EVALUATING, envelope_xof=300_000_000, committed_xof=10_000_000)
    db.session.commit()
    assert client.post(f"/calls/{call.id}/edit", data={"envelope": "10 000 000"}).status_code == 302
    db.session.expire_all()
    assert call.envelope_xof == 10_000_000


def test_archived_call_cannot_be_edited(client, db, officer):
    call = factories.CallFactory(status=CallStatus.ARCHIVED)
    db.session.commit()
    answer = client.post(f"/calls/{call.id}/edit", data=payload(), follow_redirects=True)
    assert "This call can no longer be changed." in answer.get_data(as_text=True)


@pytest.mark.parametrize("role", ["approver", "admin", "association", "evaluator"])
def test_only_officers_create_and_edit(client, db, users, login_as, role):
    call = factories.CallFactory()
    login_as(users[role])
    assert client.get("/calls/new").status_code == 403
    assert client.post("/calls/new", data=payload()).status_code == 403
    assert client.post(f"/calls/{call.id}/edit", data=payload(title="x")).status_code == 403
    assert calls_saved(db) == 1


def test_html_in_the_title_is_escaped_on_the_public_page(client, db, officer):
    client.post("/calls/new", data=payload(title="<script>alert(1)</script> Eau", title_en=""))
    call = db.session.scalars(db.select(Call)).one()
    assert call.title == "<script>alert(1)</script> Eau"
    call.status = CallStatus.CLOSED  # straight to a public status, for the page only
    db.session.commit()
    for url in (f"/calls/{call.id}", "/calls/", f"/calls/{call.id}/manage"):
        text = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Eau" in text
