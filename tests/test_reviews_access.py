"""Who sees what during the study: evaluators only their own accepted assignments; associations never
the evaluators' names or scores; the reviews' pages are for the ministry."""

from __future__ import annotations

import pytest

from tests import factories
from tests.confirm_support import confirmed
from tests.factories_projects import member_of
from tests.factories_reviews import assign, english, evaluator, in_review_project, submitted


def project_urls(project) -> list[str]:
    """Every projects.* URL an evaluator's role may ask for."""
    base = f"/projects/{project.id}"
    return [base, f"{base}/sheet.pdf", f"{base}/files/{project.attachments[0].id}"]


def review_urls(assignment, project) -> list[str]:
    base = f"/reviews/assignments/{assignment.id}"
    return [base, f"{base}/files/{project.attachments[0].id}"]


def assert_all_404(client, urls):
    for url in urls:
        assert client.get(url).status_code == 404, url


def test_a_conflict_closes_the_project_the_review_pages_and_the_files(client, db, login_as):
    project = in_review_project()
    reviewer = evaluator()
    row = assign(project, reviewer, declare=False)
    login_as(reviewer)
    for url in project_urls(project) + review_urls(row, project):
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()
    other = evaluator()
    recused = assign(project, other, declare=True)
    login_as(other)
    assert_all_404(client, project_urls(project) + review_urls(recused, project))
    assert client.post(f"/reviews/assignments/{recused.id}/declare",
                       data=confirmed({"declaration": "none"})).status_code == 404
    assert client.post(f"/reviews/assignments/{recused.id}", data={"action": "save"}).status_code == 404


def test_an_unassigned_evaluator_gets_404_everywhere(client, db, login_as):
    project = in_review_project()
    row = assign(project, evaluator(), declare=False)
    stranger = evaluator()
    login_as(stranger)
    assert_all_404(client, project_urls(project) + review_urls(row, project))
    for url in (f"/reviews/assignments/{row.id}", f"/reviews/assignments/{row.id}/declare"):
        assert client.post(url, data={"declaration": "none", "action": "submit"}).status_code == 404
    assert project.title not in client.get("/reviews/mine").get_data(as_text=True)


def test_before_the_declaration_the_project_stays_closed(client, db, login_as):
    project = in_review_project()
    reviewer = evaluator()
    row = assign(project, reviewer)
    login_as(reviewer)
    assert_all_404(client, project_urls(project) + [review_urls(row, project)[1]])
    assert client.get(f"/reviews/assignments/{row.id}").status_code == 200  # the declaration only


def test_a_submitted_evaluation_keeps_access_and_a_withdrawn_one_loses_it(client, db, users, login_as):
    project = in_review_project()
    reviewer = evaluator()
    done = submitted(project, reviewer, (7, 6, 3))
    login_as(reviewer)
    assert client.get(f"/projects/{project.id}").status_code == 200
    assert client.get(f"/reviews/assignments/{done.id}").status_code == 200
    late = evaluator()
    row = assign(project, late, declare=False)
    login_as(users["officer"])
    client.post(f"/reviews/assignments/{row.id}/withdraw", data=confirmed())
    login_as(late)
    assert_all_404(client, project_urls(project) + review_urls(row, project))


def test_a_file_of_another_project_is_not_reachable_through_an_assignment(client, db, login_as):
    mine, other = in_review_project(), in_review_project()
    reviewer = evaluator()
    row = assign(mine, reviewer, declare=False)
    login_as(reviewer)
    assert client.get(f"/reviews/assignments/{row.id}/files/{other.attachments[0].id}").status_code == 404


@pytest.mark.parametrize("role", ["evaluator", "association"])
def test_the_ministrys_review_pages_are_closed_to_others(client, db, users, login_as, role):
    project = in_review_project()
    login_as(users[role])
    for url in ("/reviews/screening", "/reviews/in-review", f"/reviews/projects/{project.id}",
                f"/reviews/projects/{project.id}/screen", f"/reviews/calls/{project.call_id}/assign"):
        assert client.get(url).status_code == 403, url


def test_associations_never_see_evaluator_names_or_scores(client, db, users, login_as, outbox):
    member = english(factories.UserFactory(member=True))
    project = in_review_project(member)
    submitted(project, evaluator(name="Yawo Tsogbe"), (8, 9, 4), recommendation="qualify_with_reservations")
    assign(project, evaluator(name="Akossiwa Dzifa"), declare=True)
    submitted(project, evaluator(name="Mawuli Adjovi"), (7, 6, 3))
    db.session.refresh(project)
    assert project.status == "qualified"
    names = ("Yawo Tsogbe", "Akossiwa Dzifa", "Mawuli Adjovi")
    scores = ("73.75", "73,75", "83.50", "64.00", "7375", "reservations")
    for person in (member, member_of(project.association)):
        login_as(english(person))
        for url in (f"/projects/{project.id}", "/projects/mine", "/"):
            page = client.get(url).get_data(as_text=True)
            assert not [n for n in names if n in page], url
            assert not [s for s in scores if s in page], url
        assert "Qualified" in client.get(f"/projects/{project.id}").get_data(as_text=True)
        sheet = client.get(f"/projects/{project.id}/sheet.pdf")
        assert sheet.status_code == 200 and not [n for n in names if n.encode() in sheet.data]
    for mail in outbox(member.email):
        assert not [n for n in names if n in mail.body] and not [s for s in scores if s in mail.body]
    login_as(users["officer"])  # the ministry does see them
    page = client.get(f"/reviews/projects/{project.id}").get_data(as_text=True)
    assert all(n in page for n in names)
