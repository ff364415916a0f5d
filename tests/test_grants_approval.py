"""Approving a grant: the amount within every rule and the envelope (rule 3 at the boundary), the rules'
snapshot, the tranches, approved → funded, letters issued at once, emails, the approval page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from codev.calls.models import Call
from codev.core.models import AuditEvent
from codev.core.money import Ratio
from codev.core.timeutil import utcnow
from codev.grants.award.approval import GrantError, approve_grant, split_tranches
from codev.grants.models import AwardLetter, Grant, GrantStatus
from codev.projects.models import ProjectEvent, ProjectStatus
from tests.confirm_support import confirmed
from tests.factories import CallFactory, UserFactory
from tests.factories_grants import approved_project, approver, awarded_grant
from tests.sql_count import statements_of
from tests.two_factor_support import step_up


def _call(envelope: int, committed: int = 0) -> Call:
    return CallFactory(open=True, envelope_xof=envelope, committed_xof=committed)


def test_an_approval_that_fills_the_envelope_exactly_passes(db):
    call = _call(envelope=10_000_000, committed=6_000_000)
    grant = awarded_grant(approved_project(call=call), amount=4_000_000)
    db.session.expire_all()
    assert db.session.get(Call, call.id).committed_xof == 10_000_000
    assert grant.amount_xof == 4_000_000


def test_one_franc_more_than_the_envelope_is_refused_and_names_what_remains(db):
    call = _call(envelope=10_000_000, committed=6_000_001)
    project, by = approved_project(call=call), approver()
    db.session.commit()
    with pytest.raises(GrantError) as refused:
        approve_grant(project, by, 4_000_000, "Essi Lawson", "Ordonnatrice")
    db.session.rollback()
    assert "3 999 999" in str(refused.value).replace("\u202f", " ").replace("\xa0", " ")
    db.session.expire_all()
    assert db.session.get(Call, call.id).committed_xof == 6_000_001
    assert db.session.scalar(select(func.count(Grant.id))) == 0
    assert db.session.get(type(project), project.id).status == ProjectStatus.APPROVED


def test_an_amount_above_what_the_rules_allow_is_refused(db):
    # Request 4 500 000 = the most the rules allow (A = 4 000 000 cash + 50 % of 1 000 000 in kind, 1:1).
    project = approved_project(requested_grant_xof=4_500_000)
    by = approver()
    db.session.commit()
    with pytest.raises(GrantError, match="règles de l'appel|call's rules"):
        approve_grant(project, by, 4_500_001, by.name, by.title)
    db.session.rollback()
    grant = approve_grant(project, by, 4_500_000, by.name, by.title)
    assert grant.amount_xof == 4_500_000


def test_an_amount_above_the_request_is_refused(db):
    project = approved_project()  # asks for 4 000 000
    by = approver()
    with pytest.raises(GrantError):
        approve_grant(project, by, 4_000_001, by.name, by.title)


def test_only_an_approved_project_without_a_grant_can_be_approved(db):
    by = approver()
    qualified = approved_project(status=ProjectStatus.QUALIFIED)
    with pytest.raises(GrantError):
        approve_grant(qualified, by, 1_000_000, by.name, by.title)
    grant = awarded_grant(by=by)
    with pytest.raises(GrantError):
        approve_grant(grant.project, by, 1_000_000, by.name, by.title)


def test_tranches_add_up_exactly_floor_per_share_and_the_last_takes_the_rest():
    plan = [(3333, "contribution_verified"), (3333, "progress_report_accepted"), (3334, "final_report_accepted")]
    rows = split_tranches(1_000_001, plan)
    assert [amount for _n, _s, amount, _c in rows] == [333_300, 333_300, 333_401]
    assert sum(amount for _n, _s, amount, _c in rows) == 1_000_001
    assert split_tranches(999, []) == [(1, 10_000, 999, "contribution_verified")]


def test_required_association_money_is_rounded_up():
    assert Ratio(1, 1).required_for(4_000_000) == 4_000_000
    assert Ratio(3, 1).required_for(1_000_000) == 333_334  # 3 × 333 334 ≥ 1 000 000
    assert Ratio(2, 1).required_for(1_000_001) == 500_001


def test_approval_snapshots_the_rules_fires_funded_and_issues_both_letters(db, outbox):
    call = CallFactory(open=True, ratio_num=2, ratio_den=1, contribution_deadline_days=60)
    project = approved_project(call=call)
    member = UserFactory(role="association", association=project.association, locale="en",
                         email="second@asso.example.org")
    UserFactory(officer=True, email="officer@ministry.example.tg")
    grant = awarded_grant(project, amount=3_000_000)

    assert grant.status == GrantStatus.AWARDED
    assert (grant.ratio_num, grant.ratio_den, grant.in_kind_counts_bps) == (2, 1, 5000)
    assert grant.required_association_xof == 1_500_000
    assert grant.contribution_deadline == utcnow().date() + timedelta(days=60)
    snapshot = grant.rules_snapshot
    assert snapshot["max_grant_xof"] == 20_000_000 and snapshot["max_grant_share_bps"] == 7000
    assert snapshot["tranches"][0] == {"number": 1, "share_bps": 4000, "condition": "contribution_verified"}
    assert snapshot["plan"]["total_budget"] == 10_000_000
    assert [(t.number, t.amount_xof) for t in grant.tranches] == [(1, 1_200_000), (2, 1_200_000), (3, 600_000)]

    # The call's rules change later: the grant keeps its own.
    call.ratio_num = 1
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Grant, grant.id).ratio_num == 2

    assert db.session.get(type(project), project.id).status == ProjectStatus.FUNDED
    event = db.session.scalars(select(ProjectEvent).where(ProjectEvent.project_id == project.id)).all()[-1]
    assert (event.from_status, event.to_status, event.action) == ("approved", "funded", "funded")
    letters = db.session.scalars(select(AwardLetter).where(AwardLetter.grant_id == grant.id)).all()
    assert sorted(letter.reference for letter in letters) == [
        f"{project.reference}-L1-EN", f"{project.reference}-L1-FR"]
    assert all(letter.status == "valid" and letter.pdf.startswith(b"%PDF-") for letter in letters)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "grant.approved")) is not None

    first = outbox(project.association.members[0].email)[-1]
    assert first.subject.startswith("codev") and "subvention attribuée" in first.subject
    assert f"{project.reference}-L1-FR" in first.body
    english = outbox(member.email)[-1]
    assert "grant" in english.subject and "3,000,000" in english.body
    assert outbox("officer@ministry.example.tg")


def test_the_approval_page_proposes_the_committee_amount_and_approves(client, db, login_as):
    from codev.reviews.models import CommitteeDecision, CommitteeSession

    project = approved_project()
    by = login_as(approver())
    session = CommitteeSession(call_id=project.call_id, held_on=utcnow().date(), members="A, B", created_by_id=by.id)
    db.session.add(session)
    db.session.flush()
    db.session.add(CommitteeDecision(session_id=session.id, project_id=project.id, outcome="approved",
                                     reason="Bon projet", amount_proposed_xof=3_500_000, decided_by_id=by.id))
    db.session.commit()

    page = client.get(f"/grants/approve/{project.id}")
    assert page.status_code == 200
    assert 'value="3 500 000"' in page.text and "Essi Lawson" in page.text

    refused = client.post(f"/grants/approve/{project.id}", data=confirmed({
        "amount": "9 000 000", "signatory_name": "Essi Lawson", "signatory_title": "Ordonnatrice"}))
    assert refused.status_code == 400
    assert 'value="9 000 000"' in refused.text
    assert db.session.scalar(select(func.count(Grant.id))) == 0

    done = client.post(f"/grants/approve/{project.id}", data=step_up(by, confirmed({
        "amount": "3 500 000", "signatory_name": "Essi Lawson", "signatory_title": "Ordonnatrice"})))
    assert done.status_code == 302
    grant = db.session.scalar(select(Grant))
    assert done.headers["Location"].endswith(f"/grants/{grant.id}")
    assert grant.amount_xof == 3_500_000
    # Approved once: the page is gone for this project.
    assert client.get(f"/grants/approve/{project.id}").status_code == 404


def test_the_approval_page_refuses_beyond_the_envelope_with_a_message(client, db, login_as):
    project = approved_project(call=_call(envelope=5_000_000, committed=2_000_000))
    by = login_as(approver())
    response = client.post(f"/grants/approve/{project.id}", data=step_up(by, confirmed({
        "amount": "4 000 000", "signatory_name": "Essi Lawson", "signatory_title": "Ordonnatrice"})))
    assert response.status_code == 400
    assert "3 000 000" in response.text.replace("\u202f", " ").replace("\xa0", " ")
    assert db.session.scalar(select(func.count(Grant.id))) == 0


def _count_queries(db, fn) -> int:
    db.session.expire_all()
    with statements_of(db.engine) as found:
        fn()
    return len(found)


def test_the_grant_list_issues_as_many_queries_for_one_grant_as_for_many(client, db, login_as):
    by = approver()
    call = CallFactory(open=True)
    awarded_grant(approved_project(call=call), by=by)
    approved_project(call=call)  # awaiting a grant
    login_as(UserFactory(officer=True))
    small = _count_queries(db, lambda: client.get("/grants/"))
    for _ in range(4):
        awarded_grant(approved_project(call=call), by=by)
    approved_project(call=call)  # awaiting a grant
    approved_project(call=call)
    large = _count_queries(db, lambda: client.get("/grants/"))
    assert small == large


def test_the_demo_approves_the_approved_projects_and_reissues_one_letter(db):
    from codev.demo.grants import seed_grants

    assert seed_grants() == []  # no approver, no approved project: nothing, no error
    by = approver()
    UserFactory(officer=True)
    call = CallFactory(open=True)
    first, second = approved_project(call=call), approved_project(call=call)
    grants = seed_grants()
    db.session.commit()
    assert [g.project_id for g in grants] == [first.id, second.id]
    assert {(letter.version, letter.status) for letter in grants[0].letters} == {(1, "valid")}
    assert {(letter.version, letter.status) for letter in grants[1].letters} == {(1, "superseded"), (2, "valid")}
    assert grants[0].approved_by_id == by.id
    assert seed_grants() == []  # run again: nothing left to approve
