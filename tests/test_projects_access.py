"""Who sees what: members of the association, the ministry; nobody else (404 or the login page).

Also the lists (filters, pages, a constant number of queries) and the home cards.
"""

from __future__ import annotations

import pytest

from codev.extensions import db as _db
from tests import factories
from tests.factories_projects import member_of, ready_project, submitted_project
from tests.sql_count import statements_of


def english(user):
    user.locale = "en"
    return user


@pytest.fixture
def project(db, users):
    """A submitted project of another association than users["association"]'s."""
    owner = english(factories.UserFactory(member=True, email="owner@asso.example.org"))
    project = submitted_project(owner)
    return project


def urls(project):
    file_id = project.attachments[0].id
    base = f"/projects/{project.id}"
    return [base, f"{base}/sheet.pdf", f"{base}/files/{file_id}", f"{base}/general", f"{base}/budget",
            f"{base}/financing", f"{base}/attachments", f"{base}/review", f"{base}/edit"]


@pytest.mark.parametrize("who", ["other_member", "evaluator"])
def test_outsiders_get_404_everywhere(client, db, users, login_as, project, who):
    user = users["association"] if who == "other_member" else users["evaluator"]
    login_as(user)
    for url in urls(project):
        status = client.get(url).status_code
        assert status in (403, 404), url
        if url.endswith(("/sheet.pdf", f"/{project.id}")) or "/files/" in url:
            assert status == 404, url  # they may not even learn that the project exists
    for url in (f"/projects/{project.id}/submit", f"/projects/{project.id}/withdraw"):
        assert client.post(url).status_code in (403, 404)


def test_anonymous_visitors_go_to_the_login_page(client, project):
    for url in urls(project):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login?next=" in response.headers["Location"], url


@pytest.mark.parametrize("role", ["officer", "approver", "admin"])
def test_ministry_roles_see_and_download_everything(client, db, users, login_as, project, role):
    login_as(users[role])
    assert client.get(f"/projects/{project.id}").status_code == 200
    response = client.get(f"/projects/{project.id}/files/{project.attachments[0].id}")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    response.close()
    assert client.get(f"/projects/{project.id}/sheet.pdf").data.startswith(b"%PDF")
    # Editing is for members (and for an officer only on an application filed on the association's behalf,
    # tests/test_assisted.py): an officer finds this one's step pages missing, the other roles refused.
    expected = 404 if role == "officer" else 403
    assert client.get(f"/projects/{project.id}/general").status_code == expected


def test_members_of_the_association_see_and_download(client, db, login_as, project):
    colleague = member_of(project.association)
    login_as(colleague)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert f"/projects/{project.id}/files/{project.attachments[0].id}" in page
    response = client.get(f"/projects/{project.id}/files/{project.attachments[0].id}")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.data.startswith(b"%PDF")
    response.close()


def test_a_file_of_another_project_is_not_reachable_through_this_one(client, db, login_as, project):
    member = login_as(factories.UserFactory(member=True))
    mine = ready_project(member)
    db.session.commit()
    assert client.get(f"/projects/{mine.id}/files/{project.attachments[0].id}").status_code == 404


def test_return_is_for_officers_only(client, users, login_as, project):
    for role in ("approver", "admin", "association"):
        login_as(users[role])
        assert client.post(f"/projects/{project.id}/return", data={"message": "x"}).status_code == 403


def count_queries(client, url) -> int:
    with statements_of(_db.engine) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def make_projects(n, member, call):
    for i in range(n):
        project = ready_project(member, call=call, title=f"Projet {i}")
        project.attachments[0].kind = "quote"
    _db.session.commit()


def test_lists_use_a_constant_number_of_queries(app, client, db, users, login_as):
    app.config["PAGE_SIZE"] = 50
    app.config["PAGE_CACHE_SECONDS"] = 0  # the renderings counted, not a kept page (codev.core.kept_pages)
    member = english(users["association"])
    call = factories.CallFactory(open=True)
    make_projects(3, member, call)
    login_as(users["officer"])
    few_index = count_queries(client, "/projects/")
    login_as(member)
    few_mine = count_queries(client, "/projects/mine")
    make_projects(27, member, call)
    other = factories.UserFactory(member=True)
    make_projects(3, other, factories.CallFactory(open=True))
    login_as(users["officer"])
    assert count_queries(client, "/projects/") == few_index
    login_as(member)
    assert count_queries(client, "/projects/mine") == few_mine
    page = client.get("/projects/mine").get_data(as_text=True)
    assert page.count("Next step:") == 30 and "Projet 26" in page


def test_ministry_list_filters_and_pages(app, client, db, users, login_as):
    app.config["PAGE_SIZE"] = 2
    water = submitted_project(english(factories.UserFactory(member=True)), title="Forage de Kpimé")
    health_owner = factories.UserFactory(member=True)
    health_owner.association.country = "US"
    submitted_project(health_owner, sector="health", region="TG-K", prefecture="Kozah", commune="Kozah 1",
                      title="Case de santé de Kozah")
    ready_project(factories.UserFactory(member=True), title="Brouillon")
    login_as(english(users["officer"]))
    page = client.get("/projects/").get_data(as_text=True)
    assert "3 projects found." in page and "Page 1 of 2" in page
    page = client.get("/projects/?status=submitted&sector=health").get_data(as_text=True)
    assert "1 project found." in page and "Case de santé de Kozah" in page
    page = client.get("/projects/?region=TG-P&country=FR").get_data(as_text=True)
    assert "Forage de Kpimé" in page and "Kozah" not in page
    page = client.get(f"/projects/?call={water.call_id}").get_data(as_text=True)
    assert "1 project found." in page
    assert client.get("/projects/?status=nonsense&call=abc&page=99").status_code == 200


def test_home_cards(client, db, users, login_as, project):
    login_as(english(users["officer"]))
    page = client.get("/").get_data(as_text=True)
    # Submitted projects wait for screening: the reviews' card counts them (one card, not two).
    assert "1 project to screen" in page and "/reviews/screening" in page
    assert "Submitted projects" not in page
    member = login_as(english(member_of(project.association)))
    page = client.get("/").get_data(as_text=True)
    assert "My projects" in page and project.title in page and "The ministry is examining" in page
    assert member.association_id == project.association_id
