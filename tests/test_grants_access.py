"""Who sees a grant and its letters: the association's members and ministry roles; nobody else learns
that it exists. The verification page is public. Pages issue a bounded number of queries."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from codev.grants.access import can_view_grant
from codev.grants.models import AwardLetter
from tests.confirm_support import confirmed
from tests.factories import UserFactory
from tests.factories_grants import approved_project, approver, awarded_grant
from tests.sql_count import statements_of


@pytest.fixture
def grant(db):
    return awarded_grant()


def _letter_fr(db, grant) -> AwardLetter:
    return db.session.scalar(select(AwardLetter).where(AwardLetter.grant_id == grant.id,
                                                       AwardLetter.language == "fr"))


def test_members_and_ministry_roles_see_the_grant_and_download_its_letter(client, db, login_as, grant, users):
    letter = _letter_fr(db, grant)
    for person in (grant.project.association.members[0], users["officer"], users["approver"], users["admin"]):
        login_as(person)
        assert client.get(f"/grants/{grant.id}").status_code == 200, person.role
        assert client.get(f"/grants/{grant.id}/letters/{letter.id}").status_code == 200, person.role


def test_others_get_404_or_the_login_page(client, db, login_as, grant, users):
    letter = _letter_fr(db, grant)
    for person in (users["association"], users["evaluator"]):  # another association's member, an evaluator
        login_as(person)
        assert client.get(f"/grants/{grant.id}").status_code == 404, person.role
        assert client.get(f"/grants/{grant.id}/letters/{letter.id}").status_code == 404, person.role
        assert not can_view_grant(person, grant)
    client.delete_cookie("session", domain="localhost")
    for url in (f"/grants/{grant.id}", f"/grants/{grant.id}/letters/{letter.id}", "/grants/"):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_a_letter_of_another_grant_is_not_found_through_this_one(client, db, login_as, grant):
    other = awarded_grant()
    login_as(grant.project.association.members[0])
    assert client.get(f"/grants/{grant.id}/letters/{_letter_fr(db, other).id}").status_code == 404
    assert client.get(f"/grants/{grant.id}/letters/999999").status_code == 404


def test_only_ministry_roles_see_the_list_and_only_approvers_approve(client, db, login_as, grant, users):
    project = approved_project()
    for role in ("association", "evaluator"):
        login_as(users[role])
        assert client.get("/grants/").status_code == 403
    for role in ("officer", "admin", "association"):
        login_as(users[role])
        assert client.get(f"/grants/approve/{project.id}").status_code == 403
    login_as(users["approver"])
    assert client.get(f"/grants/approve/{project.id}").status_code == 200
    assert client.get(f"/grants/approve/{grant.project_id}").status_code == 404  # already funded


def test_letters_change_only_through_ministry_roles(client, db, login_as, grant, users):
    member = grant.project.association.members[0]
    login_as(member)
    assert client.post(f"/grants/{grant.id}/reissue", data={"reason": "x"}).status_code == 403
    assert client.post(f"/grants/{grant.id}/revoke", data=confirmed({"reason": "x"})).status_code == 403
    login_as(users["officer"])
    assert client.post(f"/grants/{grant.id}/revoke", data=confirmed({"reason": "x"})).status_code == 403
    assert _letter_fr(db, grant).status == "valid"


def test_the_grant_page_shows_the_grant_letters_and_rules(client, db, login_as, grant, users):
    login_as(users["officer"])
    text = client.get(f"/grants/{grant.id}").text.replace("\u202f", " ").replace("\xa0", " ")
    assert "4 000 000 F CFA" in text and "1 600 000 F CFA" in text
    assert _letter_fr(db, grant).reference in text
    assert f'/grants/{grant.id}/reissue' in text and f'/grants/{grant.id}/revoke' not in text  # officer
    login_as(users["approver"])
    assert f'/grants/{grant.id}/revoke' in client.get(f"/grants/{grant.id}").text


def test_home_cards_show_the_association_its_letters_and_the_approver_what_waits(client, db, login_as, grant):
    login_as(grant.project.association.members[0])
    assert _letter_fr(db, grant).reference in client.get("/").text
    waiting = approved_project()
    login_as(approver())
    assert f"/grants/approve/{waiting.id}" in client.get("/").text


def _queries(db, fn) -> int:
    db.session.expire_all()
    with statements_of(db.engine) as found:
        assert fn().status_code == 200
    return len(found)


def test_the_grant_page_issues_as_many_queries_with_one_letter_version_as_with_many(client, db, login_as, grant,
                                                                                     users):
    login_as(users["approver"])
    small = _queries(db, lambda: client.get(f"/grants/{grant.id}"))
    for n in range(4):
        client.post(f"/grants/{grant.id}/reissue", data={"reason": f"Version {n + 2}"})
    large = _queries(db, lambda: client.get(f"/grants/{grant.id}"))
    assert small == large


def test_a_ministry_user_reaches_a_grant_by_its_id_only_if_it_exists(client, db, login_as):
    login_as(UserFactory(officer=True))
    assert client.get("/grants/424242").status_code == 404
