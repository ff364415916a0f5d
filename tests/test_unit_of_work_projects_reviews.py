"""Projects and reviews through the one unit of work: each refusal said once, where it was before, nothing kept.

The pages once caught each error by hand; now :func:`codev.core.unit_of_work.unit_of_work` rolls back
and shows the message. These tests pin where a person reads it and that the database holds nothing of it.
"""

from __future__ import annotations

from codev.projects.models import Project, ProjectStatus
from codev.reviews.models import Assignment, AssignmentStatus, Screening
from tests import factories
from tests.confirm_support import confirmed
from tests.factories_projects import EXE_BYTES, ready_project, submitted_project, upload
from tests.factories_reviews import english, evaluator, in_review_project, submitted


def reload(db, model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def test_a_refused_upload_is_told_beside_the_file_field(client, db, users, login_as):
    project = ready_project(login_as(english(users["association"])))
    db.session.commit()
    response = client.post(f"/projects/{project.id}/attachments", content_type="multipart/form-data",
                           data={"kind": "quote", "file": upload(EXE_BYTES, "devis.pdf")})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="file-error"' in page
    assert page.count("This file is not an accepted document.") == 1
    assert len(reload(db, Project, project.id).attachments) == 1


def test_a_refused_submission_lists_each_check_once(client, db, users, login_as):
    project = ready_project(login_as(english(users["association"])), steps_done="general")
    db.session.commit()
    response = client.post(f"/projects/{project.id}/submit")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert page.count("The project cannot be submitted yet:") == 1  # the page's list, no flash beside it
    assert "Complete the step “Location and local partner”." in page
    assert reload(db, Project, project.id).status == ProjectStatus.DRAFT


def test_a_refused_screening_is_said_once_and_records_nothing(client, db, users, login_as):
    project = submitted_project(english(factories.UserFactory(member=True)))
    login_as(english(users["officer"]))
    response = client.post(f"/reviews/projects/{project.id}/screen", data=confirmed({"outcome": "eligible"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert page.count("Confirm every item of the checklist before declaring the project eligible") == 1
    assert db.session.scalars(db.select(Screening).where(Screening.project_id == project.id)).all() == []
    assert reload(db, Project, project.id).status == ProjectStatus.SUBMITTED


def test_a_refused_withdrawal_is_flashed_on_the_review_page(client, db, users, login_as):
    project = in_review_project()
    done = submitted(project, evaluator(), (8, 8, 4))
    login_as(english(users["officer"]))
    response = client.post(f"/reviews/assignments/{done.id}/withdraw", data=confirmed())
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reviews/projects/{project.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This evaluation has been submitted: it can no longer be withdrawn." in page
    assert reload(db, Assignment, done.id).status == AssignmentStatus.SUBMITTED

