"""What comes next for a project, and who acts: the officer's page and list, the member's page and cards,
the review pages and the committee page, for every status a project can be in (codev.projects.next_steps).
"""

from __future__ import annotations

import html
import itertools
import re

import pytest

from codev.extensions import db as _db
from codev.projects.models import ProjectStatus
from codev.projects.next_steps import TABLE, WHO, is_terminal
from codev.projects.workflow import PROJECT
from tests import factories
from tests.factories_committee import committee_session
from tests.factories_grants import approved_project, approver, awarded_grant
from tests.factories_projects import ready_project, submitted_project
from tests.factories_reviews import assign, evaluator, in_review_project, submitted
from tests.sql_count import statements_of

S = ProjectStatus
CALL_FR, CALL_EN = "Appel à projets de coréalisation 2026", "2026 call for co-development projects"


def english(user):
    user.locale = "en"
    return user


@pytest.fixture
def people(db):
    member = english(factories.UserFactory(member=True, email="member@asso.example.org"))
    officer = english(factories.UserFactory(officer=True, email="officer@ministry.example.tg"))
    signer = english(approver(email="approver@ministry.example.tg"))
    call = factories.CallFactory(open=True, title=CALL_FR, title_en=CALL_EN)
    db.session.commit()
    return {"member": member, "officer": officer, "approver": signer, "call": call}


def next_step(page: str) -> dict:
    """The page's "Next step" card as read: its sentences, who acts, its link (label and address)."""
    found = re.search(r'<section class="card next-step".*?</section>', page, re.S)
    assert found, "no next step on the page"
    card = found.group(0)
    link = re.search(r'<a class="button[^"]*" href="([^"]+)">([^<]+)</a>', card)
    paragraphs = [" ".join(html.unescape(re.sub(r"<[^>]+>", "", p)).split())
                  for p in re.findall(r"<p[^>]*>(.*?)</p>", card, re.S)]
    return {"says": paragraphs[0], "who": paragraphs[1],
            "link": (html.unescape(link.group(2)), html.unescape(link.group(1))) if link else None}


def convene(people) -> tuple[str, str]:
    return f"Convene a session for {CALL_EN}", f"/reviews/committee/new?call_id={people['call'].id}"


def page_of(client, login_as, user, url):
    login_as(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


REFERENCES = itertools.count(7001)


def project_in(people, status: ProjectStatus):
    """A project of the member's association in ``status`` on the people's call."""
    return ready_project(people["member"], people["call"], status=status,
                         reference=None if status == S.DRAFT else f"CODEV-2026-{next(REFERENCES):04d}")


# status → (the officer reads, who acts for the officer, the member reads, who acts for the member)
EXPECTED = {
    S.DRAFT: ("The association is writing its application: nothing to do until it submits it.", "The association",
              "Review the project and submit it.", "You"),
    S.RETURNED: ("Returned for changes: it waits for the association to make them and submit it again.",
                 "The association", "Make the changes the ministry asked for, then submit the project again.", "You"),
    S.INELIGIBLE: ("Declared ineligible at screening: nothing comes next.", "Nobody: the file stops here",
                   "Your project was declared ineligible; the reason is in its history below.",
                   "Nobody: the file stops here"),
    S.NOT_QUALIFIED: ("Not qualified by its evaluations: nothing comes next.", "Nobody: the file stops here",
                      "Your project was not qualified by its evaluations: nothing comes next.",
                      "Nobody: the file stops here"),
    S.REJECTED: ("Rejected by the committee: nothing comes next.", "Nobody: the file stops here",
                 "The committee did not retain your project; its reasons are on this page.",
                 "Nobody: the file stops here"),
    S.CLOSED: ("The file is closed: nothing comes next.", "Nobody: the file stops here",
               "Your project's file is closed: nothing comes next.", "Nobody: the file stops here"),
    S.WITHDRAWN: ("Withdrawn by the association: nothing comes next.", "Nobody: the file stops here",
                  "This project was withdrawn.", "Nobody: the file stops here"),
    S.APPROVED: ("Approved by the committee: it waits for the approver to sign off the grant, which issues the "
                 "award letter.", "The approver",
                 "The committee approved your project: the ministry is signing off the grant, then you will "
                 "receive the award letter.", "The ministry"),
}


@pytest.mark.parametrize("status", list(EXPECTED))
def test_the_officer_and_the_member_read_what_comes_next(client, people, login_as, status):
    project = project_in(people, status)
    officer_says, officer_who, member_says, member_who = EXPECTED[status]
    officer = next_step(page_of(client, login_as, people["officer"], f"/projects/{project.id}"))
    assert officer == {"says": officer_says, "who": f"Who acts: {officer_who}", "link": None}
    member = next_step(page_of(client, login_as, people["member"], f"/projects/{project.id}"))
    assert member["says"] == member_says and member["who"] == f"Who acts: {member_who}"
    if status in (S.DRAFT, S.RETURNED):
        assert member["link"] == ("Continue the application", f"/projects/{project.id}/edit")
    else:
        assert member["link"] is None


def test_a_submitted_project_waits_for_the_officers_screening(client, people, login_as):
    project = submitted_project(people["member"], people["call"])
    officer = next_step(page_of(client, login_as, people["officer"], f"/projects/{project.id}"))
    assert officer == {"says": "Submitted: it waits for its screening (eligible, ineligible or returned for changes).",
                       "who": "Who acts: You", "link": ("Screen the project", f"/reviews/projects/{project.id}/screen")}
    member = next_step(page_of(client, login_as, people["member"], f"/projects/{project.id}"))
    assert member == {"says": "The ministry is examining the application. You will receive an email at each step.",
                      "who": "Who acts: The ministry", "link": None}
    signer = next_step(page_of(client, login_as, people["approver"], f"/projects/{project.id}"))
    assert signer["who"] == "Who acts: The programme officer" and signer["link"] is None


def test_under_review_it_says_how_many_evaluators_and_evaluations(client, people, login_as, db):
    project = in_review_project(people["member"], people["call"], by=people["officer"])
    url = f"/projects/{project.id}"
    officer = next_step(page_of(client, login_as, people["officer"], url))
    assert officer == {"says": "Eligible: it needs 2 more evaluators (2 required).", "who": "Who acts: You",
                       "link": ("Assign evaluators", f"/reviews/projects/{project.id}#assignments-title")}
    member = next_step(page_of(client, login_as, people["member"], url))
    assert member == {"says": "Your project is eligible: partner structures are evaluating it. You will be told of "
                              "the result.", "who": "Who acts: Partner structures", "link": None}
    first, second = evaluator(), evaluator()
    assign(project, first, people["officer"], declare=False)
    assign(project, second, people["officer"], declare=False)
    officer = next_step(page_of(client, login_as, people["officer"], url))
    assert officer["says"] == "Eligible: 0 evaluations of 2 submitted; the evaluators are at work."
    assert officer["who"] == "Who acts: The evaluators, then the programme officer"
    assert officer["link"] == ("Follow the evaluations", f"/reviews/projects/{project.id}")
    # the review page says it too
    review = next_step(page_of(client, login_as, people["officer"], f"/reviews/projects/{project.id}"))
    assert review["says"] == officer["says"]


def test_once_the_second_evaluation_qualifies_it_the_officer_is_told_of_the_committee(client, people, login_as, db):
    project = in_review_project(people["member"], people["call"], by=people["officer"])
    best = [c.max_score for c in project.call.criteria]
    submitted(project, evaluator(), best, by=people["officer"])
    url = f"/projects/{project.id}"
    officer = next_step(page_of(client, login_as, people["officer"], url))
    assert officer["says"] == "Eligible: it needs 1 more evaluator (2 required)."
    submitted(project, evaluator(), best, by=people["officer"])
    _db.session.refresh(project)
    assert project.status == S.QUALIFIED
    officer = next_step(page_of(client, login_as, people["officer"], url))
    assert officer["says"] == f"Qualified: it now waits for a committee session of {CALL_EN}."
    assert officer["link"] == convene(people)
    review = next_step(page_of(client, login_as, people["officer"], f"/reviews/projects/{project.id}"))
    assert review == officer


def test_qualified_it_waits_for_a_committee_session_of_its_call(client, people, login_as, db):
    project = project_in(people, S.QUALIFIED)
    db.session.commit()
    url = f"/projects/{project.id}"
    officer = next_step(page_of(client, login_as, people["officer"], url))
    assert officer == {"says": f"Qualified: it now waits for a committee session of {CALL_EN}.",
                       "who": "Who acts: The selection committee, convened by the programme officer",
                       "link": convene(people)}
    member = next_step(page_of(client, login_as, people["member"], url))
    assert member == {"says": "Your project is qualified: it waits for the decision of the selection committee.",
                      "who": "Who acts: The selection committee", "link": None}
    session = committee_session(people["call"], people["officer"])
    db.session.commit()
    officer = next_step(page_of(client, login_as, people["officer"], url))
    assert officer["link"] == ("Open the session of May 12, 2026", f"/reviews/committee/{session.id}")
    signer = next_step(page_of(client, login_as, people["approver"], url))
    assert signer["link"] == officer["link"]
    # in French, the call's French title
    people["officer"].locale = "fr"
    session.status = "closed"
    db.session.commit()
    officer = next_step(page_of(client, login_as, people["officer"], url))
    assert officer["says"] == f"Qualifié : il attend maintenant une séance du comité pour {CALL_FR}."
    assert officer["link"] == (f"Convoquer une séance pour {CALL_FR}",
                               f"/reviews/committee/new?call_id={people['call'].id}")


def test_deferred_it_comes_back_before_a_later_session(client, people, login_as, db):
    project = project_in(people, S.DEFERRED)
    db.session.commit()
    officer = next_step(page_of(client, login_as, people["officer"], f"/projects/{project.id}"))
    assert officer["says"].startswith(f"Deferred: it comes back before a later committee session of {CALL_EN}")
    assert officer["link"][0] == f"Convene a session for {CALL_EN}"
    member = next_step(page_of(client, login_as, people["member"], f"/projects/{project.id}"))
    assert member["says"] == "The committee deferred its decision: your project will come back before a later session."


def test_approved_the_approver_signs_off_the_grant(client, people, login_as, db):
    project = approved_project(people["member"], people["call"])
    db.session.commit()
    signer = next_step(page_of(client, login_as, people["approver"], f"/projects/{project.id}"))
    assert signer["who"] == "Who acts: You"
    assert signer["link"] == ("Sign off the grant", f"/grants/approve/{project.id}")


@pytest.mark.parametrize("status", [S.FUNDED, S.COMPLETED, S.LAPSED])
def test_with_a_grant_the_link_goes_to_the_grants_page(client, people, login_as, db, status):
    grant = awarded_grant(approved_project(people["member"], people["call"]), by=people["approver"])
    project = grant.project
    project.status = status  # as the tranches, the final report or the lapse leave it
    db.session.commit()
    officer = next_step(page_of(client, login_as, people["officer"], f"/projects/{project.id}"))
    member = next_step(page_of(client, login_as, people["member"], f"/projects/{project.id}"))
    if status == S.FUNDED:
        assert officer["says"] == ("Funded: the association declares its contribution and the ministry verifies "
                                   "it, pays the tranches and reads the reports.")
        assert officer["link"] == ("Grant, award letter and money", f"/grants/{grant.id}")
        assert member["who"] == "Who acts: You and the ministry"
        assert member["link"] == ("Grant, award letter and money", f"/grants/{grant.id}")
    else:
        assert officer["says"].endswith("The file can be closed.") or officer["says"].endswith(
            "the file can be closed.")
        assert officer["who"] == "Who acts: The ministry"
        assert officer["link"] == ("Close the file", f"/grants/{grant.id}#close")
        assert member["link"] is None and member["who"] == "Who acts: The ministry"


def test_the_list_says_what_comes_next_for_each_project_with_the_officers_link(client, people, login_as, db):
    qualified = project_in(people, S.QUALIFIED)
    approved = project_in(people, S.APPROVED)
    db.session.commit()
    page = html.unescape(page_of(client, login_as, people["officer"], "/projects/"))
    row = re.search(rf'<tr>(?:(?!</tr>).)*?/projects/{qualified.id}".*?</tr>', page, re.S).group(0)
    assert f"Qualified: it now waits for a committee session of {CALL_EN}." in row
    assert f'<a href="/reviews/committee/new?call_id={people["call"].id}">Convene a session for {CALL_EN}</a>' in row
    row = re.search(rf'<tr>(?:(?!</tr>).)*?/projects/{approved.id}".*?</tr>', page, re.S).group(0)
    assert "it waits for the approver to sign off the grant" in row and "/grants/approve/" not in row
    page = html.unescape(page_of(client, login_as, people["approver"], "/projects/"))
    assert f'<a href="/grants/approve/{approved.id}">Sign off the grant</a>' in page
    # the member's cards, in its terms
    page = html.unescape(page_of(client, login_as, people["member"], "/projects/mine"))
    assert "Your project is qualified: it waits for the decision of the selection committee." in page


def test_the_list_reads_the_next_steps_in_a_bounded_number_of_statements(app, client, people, login_as, db):
    from codev.accounts.models import User

    app.config["PAGE_CACHE_SECONDS"] = 0  # the rendering counted, not the kept page (codev.core.kept_pages)
    from codev.calls.models import Call

    ids = {"member": people["member"].id, "officer": people["officer"].id, "call": people["call"].id}

    def statements():
        login_as(_db.session.get(User, ids["officer"]))
        client.get("/projects/")
        _db.session.expunge_all()
        with statements_of(_db.engine) as found:
            assert client.get("/projects/").status_code == 200
        return len(found)

    def more():
        here = {"member": _db.session.get(User, ids["member"]), "call": _db.session.get(Call, ids["call"])}
        for status in (S.QUALIFIED, S.IN_REVIEW, S.APPROVED, S.SUBMITTED, S.FUNDED, S.DEFERRED):
            project_in(here, status)
        db.session.commit()

    more()
    few = statements()
    more()
    more()
    assert statements() == few


def test_the_under_review_list_says_where_qualified_projects_go(client, people, login_as, db):
    project = in_review_project(people["member"], people["call"], by=people["officer"])
    page = html.unescape(page_of(client, login_as, people["officer"], "/reviews/in-review"))
    assert "A project whose evaluations qualify it leaves this list: it then waits for the committee." in page
    assert '<a href="/projects/?status=qualified">Qualified projects</a>' in page
    assert "Eligible: it needs 2 more evaluators (2 required)." in page
    assert f'<a href="/reviews/projects/{project.id}#assignments-title">Assign evaluators</a>' in page


def test_each_convene_link_of_the_committee_page_names_its_call(client, people, login_as, db):
    other = factories.CallFactory(open=True, title="Deuxième appel", title_en="Second call")
    project_in(people, S.QUALIFIED)
    ready_project(factories.UserFactory(member=True), other, status=S.DEFERRED, reference="CODEV-2026-0999")
    session = committee_session(other, people["officer"])
    db.session.commit()
    page = html.unescape(page_of(client, login_as, people["officer"], "/reviews/committee/"))
    assert f'<a href="/reviews/committee/new?call_id={people["call"].id}">Convene a session for {CALL_EN}</a>' in page
    assert f'<a href="/reviews/committee/new?call_id={other.id}">Convene a session for Second call</a>' in page
    assert f'<a href="/reviews/committee/{session.id}">Open the session of May 12, 2026</a>' in page
    people["officer"].locale = "fr"
    db.session.commit()
    page = html.unescape(page_of(client, login_as, people["officer"], "/reviews/committee/"))
    assert f"Convoquer une séance pour {CALL_FR}</a>" in page and "Convoquer une séance pour Deuxième appel</a>" in page
    page = html.unescape(page_of(client, login_as, people["approver"], "/reviews/committee/"))
    assert "Convene a session for" not in page  # the officer convenes


def test_every_status_has_its_words_and_the_workflow_says_which_end_a_file():
    assert set(TABLE) == set(ProjectStatus)
    for status, row in TABLE.items():
        assert (row.who == "nobody") == is_terminal(status) == (row.member_who == "nobody"), status
        assert row.who in WHO and row.member_who in WHO
        # who acts for the ministry may fire a transition out of the status (the evaluators aside)
        if row.who in ("officer", "approver"):
            assert any(status in t.sources and row.who in t.roles for t in PROJECT.transitions), status
