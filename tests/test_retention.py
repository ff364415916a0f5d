"""Data retention (``flask apply-retention``, issue 14): idle drafts and old withdrawn or rejected applications
are noticed once to their association, in its language, then anonymised once the notice period has passed if
nobody changed them — personal data gone (texts, names, files, from the store too), figures kept; an edit
resets the notice; projects with money are never touched; every step is audited; overlapping runs do the
work once; the dry run changes nothing.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from codev.core import jobs
from codev.core.models import Attachment, AuditEvent, OutboxMessage
from codev.core.storage import storage
from codev.core.timeutil import utcnow
from codev.extensions import db as _db
from codev.oversight import retention
from codev.oversight.retention import RetentionNotice
from codev.projects.models import BudgetLine, FinancingLine, Project, ProjectEvent, ProjectStatus
from tests import factories
from tests.factories_grants import awarded_grant
from tests.factories_projects import member_of, ready_project

pytestmark = pytest.mark.backends


def aged(db, project: Project, days: int) -> Project:
    """The project as if nobody had touched it for ``days`` (a plain UPDATE: the version stays)."""
    db.session.commit()
    past = utcnow() - timedelta(days=days)
    db.session.execute(update(Project).where(Project.id == project.id).values(updated_at=past))
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Project, project.id)


def notice_period_over(db) -> None:
    """As if the notices had been sent 30 days ago (RETENTION_NOTICE_DAYS)."""
    past = utcnow() - timedelta(minutes=1)
    db.session.execute(update(RetentionNotice).values(noticed_at=past - timedelta(days=30), anonymise_after=past))
    db.session.commit()


def run(runner, *args) -> str:
    result = runner.invoke(args=["apply-retention", *args])
    assert result.exit_code == 0, result.output
    return result.output


def actions(db, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def member(db):
    association = factories.AssociationFactory(verified=True, contact_email="bureau@asso.example.org", locale="en",
                                               name="Togo Diaspora Maryland")
    user = member_of(association)
    db.session.commit()
    return user


def test_an_idle_draft_is_noticed_once_in_english_then_anonymised_its_figures_kept(db, runner, outbox, member):
    draft = aged(db, ready_project(member, village="Kpimé", local_partner_name="Mme Afi Koudjo"), 400)
    stored = draft.attachments[0].file.stored_name
    fresh = ready_project(member, title="Latrines de l'école")  # edited today: not idle
    db.session.commit()
    assert storage().exists(stored)

    assert run(runner).endswith("1 application noticed, 0 anonymised (0 files removed), 0 notices reset (changed "
                                "since)\n")
    mail = outbox("bureau@asso.example.org")
    assert len(mail) == 1
    assert mail[0].subject.startswith("codev: the application “Forage équipé à Kpimé” will be anonymised on ")
    assert "change it before that date" in mail[0].body and f"/associations/{member.association_id}/export" in \
        mail[0].body
    (event,) = actions(db, "project.retention_notice")
    assert (event.object_id, event.actor_id, event.after["rule"]) == (draft.id, None, "draft_idle")

    assert "0 applications noticed, 0 anonymised" in run(runner)  # once: the notice period is not over
    assert len(outbox("bureau@asso.example.org")) == 1
    assert db.session.get(Project, draft.id).summary == "Un forage pour 1 200 habitants."

    notice_period_over(db)
    assert "0 applications noticed, 1 anonymised (1 file removed), 0 notices reset" in run(runner)
    db.session.expire_all()
    project = db.session.get(Project, draft.id)
    assert (project.title, project.summary, project.village, project.local_partner_name, project.problem,
            project.objectives, project.activities, project.created_by_id) == ("—", None, None, None, None, None,
                                                                               None, None)
    assert (project.status, project.sector, project.region, project.commune, project.requested_grant_xof,
            project.beneficiaries_total) == (ProjectStatus.DRAFT, "water", "TG-P", "Kloto 1", 4_000_000, 1200)
    assert [(b.category, b.amount_xof, b.description) for b in project.budget_lines] == [
        ("works", 7_000_000, "—"), ("equipment", 3_000_000, "—")]
    assert sum(f.amount_xof for f in project.financing_lines) == 6_000_000
    assert project.attachments == [] and not storage().exists(stored)
    assert db.session.scalar(select(func.count(Attachment.id)).where(Attachment.stored_name == stored)) == 0
    (event,) = actions(db, "project.anonymised")
    assert (event.object_id, event.actor_id, event.after["files_removed"]) == (draft.id, None, 1)
    assert db.session.get(Project, fresh.id).title == "Latrines de l'école"
    assert "0 applications noticed, 0 anonymised" in run(runner)  # done once


def test_withdrawn_and_rejected_applications_wait_for_the_longer_retention(db, runner, outbox, member):
    old_withdrawn = aged(db, ready_project(member, status=ProjectStatus.WITHDRAWN), 800)
    old_rejected = aged(db, ready_project(member, status=ProjectStatus.REJECTED, reference="CODEV-2024-0007"), 800)
    recent_withdrawn = aged(db, ready_project(member, status=ProjectStatus.WITHDRAWN), 400)  # a draft would be due
    returned = aged(db, ready_project(member, status=ProjectStatus.RETURNED, reference="CODEV-2024-0008"), 900)
    run(runner)
    rules = dict(db.session.execute(select(RetentionNotice.project_id, RetentionNotice.rule)).all())
    assert rules == {old_withdrawn.id: "withdrawn", old_rejected.id: "rejected"}
    lines = sorted(m.body.splitlines()[2] for m in outbox("bureau@asso.example.org"))
    assert lines == ["Your application “Forage équipé à Kpimé” (CODEV-2024-0007) was rejected long ago.",
                     "Your application “Forage équipé à Kpimé” was withdrawn long ago."]  # a draft withdrawn
    assert recent_withdrawn.id not in rules and returned.id not in rules


def test_projects_with_money_and_applications_under_way_are_never_touched(db, runner, outbox, member):
    grant = awarded_grant(ready_project(member, status=ProjectStatus.APPROVED, reference="CODEV-2023-0001"))
    funded = aged(db, grant.project, 2000)
    under_way = [aged(db, ready_project(member, status=s, reference=f"CODEV-2023-00{i + 10}"), 2000)
                 for i, s in enumerate((ProjectStatus.SUBMITTED, ProjectStatus.IN_REVIEW, ProjectStatus.QUALIFIED,
                                        ProjectStatus.FUNDED, ProjectStatus.COMPLETED, ProjectStatus.CLOSED,
                                        ProjectStatus.LAPSED))]
    assert retention.due_notices() == []
    # A rejected project holding a grant (it cannot happen through the workflow) is refused under its lock too.
    db.session.execute(update(Project).where(Project.id == funded.id).values(status=ProjectStatus.REJECTED))
    db.session.commit()
    assert retention.due_notices() == [] and retention.notice(funded.id) is None
    assert "0 applications noticed" in run(runner)
    assert all(db.session.get(Project, p.id).title == "Forage équipé à Kpimé" for p in under_way)


def test_an_edit_after_the_notice_resets_it_and_the_draft_is_kept(db, runner, outbox, member):
    draft = aged(db, ready_project(member), 400)
    run(runner)
    project = db.session.get(Project, draft.id)
    project.summary = "Toujours d'actualité : le forage est prévu pour 2027."  # a member edits the draft
    db.session.commit()
    notice_period_over(db)
    assert "0 anonymised (0 files removed), 1 notices reset (changed since)" in run(runner)
    db.session.expire_all()
    assert db.session.get(Project, draft.id).summary.startswith("Toujours d'actualité")
    assert db.session.scalar(select(func.count(RetentionNotice.id))) == 0
    (event,) = actions(db, "project.retention_reset")
    assert (event.object_id, event.before["rule"]) == (draft.id, "draft_idle")
    assert "0 applications noticed" in run(runner)  # edited today: idle again only in a year
    assert len(outbox("bureau@asso.example.org")) == 1


def test_the_dry_run_prints_what_would_happen_and_changes_nothing(db, runner, outbox, member):
    first = aged(db, ready_project(member), 400)
    second = aged(db, ready_project(member), 400)
    output = run(runner, "--dry-run")
    assert f"project {first.id}: would be noticed" in output and f"project {second.id}: would be noticed" in output
    assert output.endswith("dry run: 2 notices and 0 anonymisations due; nothing changed\n")
    assert outbox() == [] and db.session.scalar(select(func.count(RetentionNotice.id))) == 0
    run(runner)
    notice_period_over(db)
    assert "would be anonymised" in run(runner, "--dry-run")
    assert db.session.get(Project, first.id).title == "Forage équipé à Kpimé"


def test_statistics_stay_the_same_after_anonymisation(db, runner, member):
    from codev.oversight import dashboard
    from codev.oversight.queries import Filters

    for days in (400, 500):
        aged(db, ready_project(member), days)
    aged(db, ready_project(member, status=ProjectStatus.WITHDRAWN), 800)

    def figures():
        _db.session.expire_all()
        return (dashboard.project_counts(Filters()),
                _db.session.execute(select(Project.status, Project.sector, Project.commune,
                                           func.count(Project.id), func.sum(Project.requested_grant_xof))
                                    .group_by(Project.status, Project.sector, Project.commune)).all(),
                _db.session.scalar(select(func.sum(BudgetLine.amount_xof))),
                _db.session.scalar(select(func.sum(FinancingLine.amount_xof))))

    before = figures()
    run(runner)
    notice_period_over(db)
    assert "3 anonymised" in run(runner)
    assert figures() == before


def test_a_run_while_another_holds_the_lock_does_nothing(db, runner, outbox, member):
    aged(db, ready_project(member), 400)
    with jobs.job_lock("apply-retention"):
        assert "already running" in runner.invoke(args=["apply-retention"]).output
    assert outbox() == []
    assert "1 application noticed" in run(runner)


def test_a_second_run_finds_each_step_done_and_does_it_not_again(db, outbox, member):
    """The lists drawn before another run acted: the notice is not sent twice, the anonymisation not redone."""
    draft = aged(db, ready_project(member), 400)
    assert retention.due_notices() == [draft.id]
    assert retention.notice(draft.id) is not None
    db.session.commit()
    assert retention.notice(draft.id) is None  # the other run's list still named it
    db.session.commit()
    notice_period_over(db)
    assert retention.anonymise_due(draft.id).action == "anonymised"
    db.session.commit()
    assert retention.anonymise_due(draft.id).action == ""
    db.session.commit()
    assert len(outbox("bureau@asso.example.org")) == 1
    assert len(actions(db, "project.anonymised")) == 1


def test_two_runs_at_once_notice_each_application_once(app, db, member):
    """Two runs past the job lock (its courtesy left out) on the same project: one notice row, one email."""
    draft = aged(db, ready_project(member), 400)
    barrier, outcomes = threading.Barrier(2), []

    def one_run():
        with app.app_context():
            barrier.wait()
            try:
                outcomes.append(retention.notice(draft.id) is not None)
                _db.session.commit()
            except IntegrityError:
                _db.session.rollback()
                outcomes.append(False)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    db.session.expire_all()
    assert sorted(outcomes) == [False, True]
    assert db.session.scalar(select(func.count(RetentionNotice.id))) == 1
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.recipient == "bureau@asso.example.org")) == 1


def test_history_messages_go_and_the_events_stay(db, runner, member):
    draft = aged(db, ready_project(member, status=ProjectStatus.WITHDRAWN), 800)
    db.session.add(ProjectEvent(project_id=draft.id, action="withdrawn", from_status="draft", to_status="withdrawn",
                                message="Notre trésorier M. Kokou Mensah est parti.", actor_id=member.id))
    db.session.commit()
    aged(db, draft, 800)
    run(runner)
    notice_period_over(db)
    run(runner)
    events = db.session.scalars(select(ProjectEvent).where(ProjectEvent.project_id == draft.id)).all()
    assert [(e.action, e.to_status, e.message) for e in events] == [("withdrawn", "withdrawn", None)]


def test_the_project_page_says_when_its_personal_data_go_and_that_they_went(client, db, runner, login_as, member,
                                                                             users):
    draft = aged(db, ready_project(member), 400)
    member.locale = "en"
    login_as(member)
    page = client.get(f"/projects/{draft.id}").get_data(as_text=True)
    assert "Forage équipé à Kpimé" in page and "will be removed on" not in page
    run(runner)
    page = client.get(f"/projects/{draft.id}").get_data(as_text=True)
    assert "will be removed on" in page and "To keep the draft, change it before then." in page
    notice_period_over(db)
    run(runner)
    users["officer"].locale = "en"
    login_as(users["officer"])
    page = client.get(f"/projects/{draft.id}").get_data(as_text=True)
    assert "were removed on" in page and "Forage équipé à Kpimé" not in page


def test_an_anonymised_draft_written_again_gets_a_notice_of_its_own_once_idle(client, db, runner, login_as,
                                                                               outbox, member):
    draft = aged(db, ready_project(member), 400)
    run(runner)
    notice_period_over(db)
    run(runner)
    assert "0 applications noticed" in run(runner)  # anonymised and untouched: nothing more to do
    project = db.session.get(Project, draft.id)
    project.title, project.summary = "Forage de Kpimé, nouvelle version", "Nous reprenons le projet."
    db.session.commit()
    member.locale = "en"
    login_as(member)
    page = client.get(f"/projects/{draft.id}").get_data(as_text=True)
    assert "Forage de Kpimé, nouvelle version" in page and "were removed on" not in page
    aged(db, project, 400)
    assert "1 application noticed" in run(runner)
    (row,) = db.session.scalars(select(RetentionNotice)).all()
    assert row.anonymised_at is None and row.project_version == db.session.get(Project, draft.id).version
    assert len(outbox("bureau@asso.example.org")) == 2
    assert outbox("bureau@asso.example.org")[-1].subject.startswith(
        "codev: the application “Forage de Kpimé, nouvelle version” will be anonymised on ")
