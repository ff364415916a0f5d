"""The project page leads each role to the next step of the programme: screening, the study, the grant."""

from __future__ import annotations

from tests.factories_grants import approved_project, approver, awarded_grant
from tests.factories_projects import submitted_project


def page_of(client, project) -> str:
    return client.get(f"/projects/{project.id}").get_data(as_text=True)


def test_officer_is_led_to_the_screening_of_a_submitted_project(client, db, users, login_as):
    project = submitted_project()
    login_as(users["officer"])
    page = page_of(client, project)
    assert f"/reviews/projects/{project.id}/screen" in page and "Examiner la recevabilité du projet" in page


def test_approver_is_led_to_sign_off_an_approved_project(client, db, login_as):
    project = approved_project()
    login_as(approver())
    assert f"/grants/approve/{project.id}" in page_of(client, project)


def test_member_and_officer_are_led_to_the_grant(client, db, users, login_as):
    project = approved_project()
    grant = awarded_grant(project)
    db.session.commit()
    member = project.association.members[0]
    for person in (member, users["officer"]):
        login_as(person)
        page = page_of(client, project)
        assert f"/grants/{grant.id}" in page and "Subvention, lettre d'attribution et suivi financier" in page
    login_as(users["officer"])
    assert f"/grants/approve/{project.id}" not in page_of(client, project)
