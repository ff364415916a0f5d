"""Submission: every check listed in words, the plan must balance, closing dates, references under load."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from codev.accounts.models import AssociationStatus
from codev.core.timeutil import utcnow
from codev.core.workflow import TransitionRefused
from codev.extensions import db as _db
from codev.projects.models import FinancingLine, Project, ReferenceCounter
from codev.projects.references import next_reference
from codev.projects.services import StaleProject, save_step, step_data, submit_project
from codev.projects.workflow import Step
from tests import factories
from tests.factories_projects import ready_project


def english(user):
    user.locale = "en"
    return user


def squash(text: str) -> str:
    """Text without any kind of space (Babel puts narrow no-break spaces in amounts)."""
    return re.sub(r"[\s\u00a0\u202f]", "", text)


def refused_problems(project, member) -> list[str]:
    with pytest.raises(TransitionRefused) as refused:
        submit_project(project, member)
    _db.session.rollback()
    return refused.value.problems


def test_every_failure_is_listed_in_words(client, db, users, login_as):
    member = login_as(english(users["association"]))
    call = factories.CallFactory(open=True)
    project = ready_project(member, call=call, steps_done="general,budget", requested_grant_xof=9_000_000)
    project.attachments = []
    project.sector = "energy"  # the call funds water, health, education, agriculture
    db.session.commit()
    response = client.post(f"/projects/{project.id}/submit")
    assert response.status_code == 400
    page = squash(response.get_data(as_text=True))
    for expected in map(squash, (
        "The project cannot be submitted yet:",
        "Complete the step “Location and local partner”.",
        "Complete the step “Description and beneficiaries”.",
        "Complete the step “Financing plan”.",
        "Complete the step “Attachments”.",
        "The call does not fund projects of this sector",
        "Attach the required document: Quote.",
        "is 5,000,000 F CFA more than the total budget",  # the plan no longer balances
        "is more than 1 × your own contribution",  # the match
        "is more than 70% of the total budget",
    )):
        assert expected in page, expected
    project = db.session.get(Project, project.id)
    assert project.status == "draft" and project.reference is None
    assert db.session.scalar(select(ReferenceCounter.last_number)) is None


def test_the_plan_must_balance(db, users):
    member = english(users["association"])
    project = ready_project(member)
    project.financing_lines.append(
        FinancingLine(position=9, source="other", currency="XOF", amount_minor=1, rate_millionths=1_000_000,
                      amount_xof=1))
    db.session.flush()
    with _locale("en"):
        problems = refused_problems(project, member)
    assert [squash(p) for p in problems] == [squash(
        "The financing plan, 10,000,001 F CFA, is 1 F CFA more than the total budget of 10,000,000 F CFA.")]


def test_review_page_lists_the_same_checks(client, db, users, login_as):
    member = login_as(english(users["association"]))
    project = ready_project(member, requested_grant_xof=4_000_001)
    db.session.commit()
    page = squash(client.get(f"/projects/{project.id}/review").get_data(as_text=True))
    assert squash("Before you can submit, fix the following:") in page and "shortofthetotalbudget" not in page
    assert squash("is 1 F CFA more than the total budget") in page


def test_submission_after_the_call_closes_is_refused(client, db, users, login_as):
    member = login_as(english(users["association"]))
    call = factories.CallFactory(open=True)
    project = ready_project(member, call=call)
    call.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = client.post(f"/projects/{project.id}/submit").get_data(as_text=True)
    assert "The call closed on" in page and "projects can no longer be submitted" in page
    assert db.session.get(Project, project.id).status == "draft"


def test_returned_project_cannot_be_resubmitted_after_closing(db, users):
    member = english(users["association"])
    call = factories.CallFactory(open=True)
    project = ready_project(member, call=call)
    submit_project(project, member)
    from codev.projects.services import return_project

    return_project(project, users["officer"], "Corrigez le budget")
    call.closes_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    with _locale("en"):
        assert any("The call closed on" in p for p in refused_problems(project, member))


def test_an_association_no_longer_verified_cannot_submit(db, users):
    member = english(users["association"])
    project = ready_project(member)
    member.association.status = AssociationStatus.REJECTED
    db.session.flush()
    with _locale("en"):
        assert refused_problems(project, member) == [
            "Your association must be verified by the ministry before it can submit a project."]


def test_only_a_member_of_the_association_submits(client, db, users, login_as):
    project = ready_project()
    db.session.commit()
    login_as(users["association"])  # a member of another association
    assert client.post(f"/projects/{project.id}/submit").status_code == 404
    with pytest.raises(TransitionRefused):
        submit_project(project, users["officer"])
    _db.session.rollback()


def test_references_follow_each_other_within_a_year(db):
    assert [next_reference(2031) for _ in range(3)] == ["CODEV-2031-0001", "CODEV-2031-0002", "CODEV-2031-0003"]
    assert next_reference(2032) == "CODEV-2032-0001"


@pytest.mark.backends
def test_concurrent_submissions_never_share_a_reference(app, db, backend):
    """20 members submit 20 projects at once, each in its own thread, app context and session."""
    pairs = []
    for _ in range(20):
        member = factories.UserFactory(member=True)
        pairs.append((ready_project(member).id, member.id))
    db.session.commit()
    from codev.accounts.models import User

    barrier = threading.Barrier(len(pairs))
    errors: list[BaseException] = []

    def submit(project_id: int, user_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)  # all start together (the pool holds fewer connections than 20)
                project = _db.session.get(Project, project_id)
                user = _db.session.get(User, user_id)
                submit_project(project, user)
                _db.session.commit()
            except BaseException as exc:  # noqa: BLE001 (reported below)
                _db.session.rollback()
                errors.append(exc)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=submit, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    db.session.expire_all()
    references = db.session.scalars(select(Project.reference).where(Project.status == "submitted")).all()
    assert len(references) == 20 and len(set(references)) == 20
    year = utcnow().year
    assert sorted(references) == [f"CODEV-{year}-{n:04d}" for n in range(1, 21)]
    assert all(re.fullmatch(r"CODEV-\d{4}-\d{4}", r) for r in references)
    assert db.session.get(ReferenceCounter, year).last_number == 20


def _locale(lang):
    from flask_babel import force_locale

    return force_locale(lang)


def test_a_save_or_submission_crossing_another_members_is_refused_not_a_500(db, users):
    member = english(users["association"])
    project = ready_project(member)
    db.session.commit()
    project.title  # noqa: B018 (loaded, as by a request that started before the other member's save)
    db.session.execute(text("UPDATE projects SET version = version + 1 WHERE id = :id"), {"id": project.id})
    data = {**step_data(project, Step.GENERAL), "title": "B"}
    with pytest.raises(StaleProject), _locale("en"):
        save_step(project, Step.GENERAL, data, member, project.version)
    db.session.rollback()
    project = db.session.get(Project, project.id)
    project.title  # noqa: B018
    db.session.execute(text("UPDATE projects SET version = version + 1 WHERE id = :id"), {"id": project.id})
    with pytest.raises(TransitionRefused, match="Someone else saved this project meanwhile"), _locale("en"):
        submit_project(project, member)
    db.session.rollback()
    assert db.session.get(Project, project.id).reference is None
