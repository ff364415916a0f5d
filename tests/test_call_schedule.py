"""Calls that open and close on time by themselves (``flask open-close-calls``, issue 14).

A draft set to open by itself opens at its date when complete (the associations told, the audit naming no
person); one still incomplete stays a draft, its automatic opening off, the officers told what it lacks in
their language; an open call past its closing date closes, each association with projects in it told what
became of them; nothing happens twice when runs overlap or repeat.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from codev.calls.models import Call, CallStatus
from codev.core import jobs
from codev.core.models import AuditEvent
from codev.core.timeutil import utcnow
from codev.projects import call_schedule as schedule
from codev.projects.models import ProjectStatus
from tests import factories
from tests.factories_projects import ProjectFactory

pytestmark = pytest.mark.backends


def scheduled_draft(db, *, opens_in: timedelta = -timedelta(minutes=5), **kwargs) -> Call:
    call = factories.CallFactory(opens_automatically=True, opens_at=utcnow() + opens_in,
                                 closes_at=utcnow() + timedelta(days=30), **kwargs)
    db.session.commit()
    return call


def run(runner) -> str:
    result = runner.invoke(args=["open-close-calls"])
    assert result.exit_code == 0, result.output
    return result.output


def status_of(db, call: Call) -> str:
    db.session.expire_all()
    return db.session.get(Call, call.id).status


def test_a_complete_draft_opens_by_itself_at_its_date_and_the_associations_are_told(db, users, runner, outbox):
    told = factories.AssociationFactory(verified=True, contact_email="asso@example.org", locale="en")
    db.session.commit()
    call = scheduled_draft(db)
    later = scheduled_draft(db, opens_in=timedelta(days=2))
    assert run(runner).endswith("1 call opened, 0 left in draft (incomplete), 0 closed\n")
    assert status_of(db, call) == CallStatus.OPEN and status_of(db, later) == CallStatus.DRAFT
    assert db.session.get(Call, call.id).is_accepting()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "call.open")).one()
    assert (event.object_id, event.actor_id, event.after) == (call.id, None, {"status": "open"})
    mail = outbox(told.contact_email)[0]
    assert mail.subject.startswith("New call for projects") and f"/calls/{call.id}" in mail.body
    assert "0 calls opened" in run(runner)  # a second run finds nothing to do
    assert len(outbox(told.contact_email)) == 1


def test_an_incomplete_draft_stays_a_draft_and_the_officers_learn_what_it_lacks(db, users, runner, outbox):
    users["officer"].locale = "fr"
    english = factories.UserFactory(officer=True, email="officer2@ministry.example.tg", locale="en")
    call = scheduled_draft(db, envelope_xof=0)
    call.criteria[0].weight = 39
    db.session.commit()
    result = runner.invoke(args=["open-close-calls"])
    assert result.exit_code == 0
    assert f"call {call.id} not opened" in result.output and "0 calls opened, 1 left in draft" in result.output
    db.session.expire_all()
    saved = db.session.get(Call, call.id)
    assert (saved.status, saved.opens_automatically) == (CallStatus.DRAFT, False)  # not tried again each run
    french = outbox(users["officer"].email)[0]
    assert french.subject == f"codev : l’appel « {call.title} » ne s’est pas ouvert de lui-même"
    assert "- L'enveloppe est de 0 F CFA : saisissez le montant disponible pour l'appel." in french.body
    assert "- Les pondérations des critères totalisent 99 ; leur total doit être de 100." in french.body
    mail = outbox(english.email)[0]
    assert "did not open by itself" in mail.subject
    assert "The envelope is 0 F CFA" in mail.body and "add up to 99" in mail.body
    assert f"/calls/{call.id}/manage" in mail.body
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "call.not_opened")).one()
    assert event.object_id == call.id and event.after["opens_automatically"] is False
    assert "0 left in draft" in run(runner) and len(outbox(english.email)) == 1


def test_an_open_call_closes_at_its_date_and_each_association_learns_what_became_of_its_projects(
        db, users, runner, outbox):
    call = factories.CallFactory(open=True)
    still_open = factories.CallFactory(open=True)
    sent = factories.AssociationFactory(verified=True, contact_email="sent@example.org", locale="en")
    mixed = factories.AssociationFactory(verified=True, contact_email="mixed@example.org", locale="fr")
    gone = factories.AssociationFactory(verified=True, contact_email="gone@example.org", locale="en")
    for n, (association, status) in enumerate(((sent, ProjectStatus.SUBMITTED), (sent, ProjectStatus.SUBMITTED),
                                               (mixed, ProjectStatus.SUBMITTED), (mixed, ProjectStatus.DRAFT),
                                               (mixed, ProjectStatus.RETURNED), (gone, ProjectStatus.WITHDRAWN))):
        sent_once = status != ProjectStatus.DRAFT
        ProjectFactory(call=call, association=association, status=status,
                       reference=f"CODEV-2026-{900 + n}" if sent_once else None,
                       submitted_at=utcnow() - timedelta(days=3) if sent_once else None)
    call.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert run(runner).endswith("0 calls opened, 0 left in draft (incomplete), 1 closed\n")
    assert status_of(db, call) == CallStatus.CLOSED and status_of(db, still_open) == CallStatus.OPEN
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "call.closed")).one()
    assert (event.object_id, event.actor_id) == (call.id, None)
    english = outbox(sent.contact_email)[0]
    assert "is closed" in english.subject
    assert "Your 2 submitted projects will now be screened" in english.body
    assert "can no longer be sent" not in english.body
    french = outbox(mixed.contact_email)[0].body
    assert "Votre projet soumis va maintenant être examiné puis évalué" in french
    assert "Vos 2 projets qui n’ont pas été soumis ne peuvent plus être envoyés à cet appel." in french
    assert outbox(gone.contact_email) == []  # only withdrawn projects: nothing to tell
    assert "0 closed" in run(runner)


def test_a_run_while_another_holds_the_lock_does_nothing(db, users, runner, outbox):
    call = scheduled_draft(db)
    with jobs.job_lock("open-close-calls"):
        output = runner.invoke(args=["open-close-calls"]).output
    assert "already running" in output
    assert status_of(db, call) == CallStatus.DRAFT
    assert "1 call opened" in run(runner)


def test_a_call_moved_on_meanwhile_is_left_as_it_is(db, users, outbox):
    """The state is read again under the row lock: a call opened by an officer (or another run) since
    the list of due calls was drawn is not opened again, and its associations are not told twice."""
    call = scheduled_draft(db)
    due = schedule.due_openings()
    assert due == [call.id]
    call.status = CallStatus.OPEN  # as the other run left it
    db.session.commit()
    assert schedule.open_due(call.id).action == ""
    db.session.commit()
    assert outbox() == []


def test_the_officer_sets_a_draft_to_open_by_itself_and_it_needs_an_opening_date(client, db, users, login_as):
    from tests.test_calls_forms import payload

    users["officer"].locale = "en"
    login_as(users["officer"])
    refused = client.post("/calls/new", data=payload(opens_automatically="y", opens_date="", opens_time=""))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Give the date the call opens on by itself." in page
    assert re.search(r'<input[^>]* checked [^>]*name="opens_automatically"', page)  # what was ticked stays ticked
    assert db.session.scalar(select(Call.id)) is None
    assert client.post("/calls/new", data=payload(opens_automatically="y")).status_code == 302
    call = db.session.scalars(select(Call)).one()
    assert call.opens_automatically is True
    detail = client.get(f"/calls/{call.id}/manage").get_data(as_text=True)
    assert "By itself on its opening date, if the call is complete by then" in detail
