"""Step-up (codev/accounts/two_factor/step_up.py): the second factor's code asked again on the confirm step of
approving a grant and of a disbursement's second signature, and on a change of role; each code once."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from codev.core.models import AuditEvent
from codev.core.timeutil import utcnow
from codev.grants.disbursements.payments import record_disbursement
from codev.grants.models import Disbursement, Grant
from tests.confirm_support import confirmed
from tests.factories import UserFactory
from tests.factories_grants import approved_project, approver
from tests.factories_ledger import make_grant, verified
from tests.two_factor_support import fresh_code, step_up

APPROVAL = {"amount": "4 000 000", "signatory_name": "Essi Lawson", "signatory_title": "Directrice"}


def grants(db, project) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Grant.id)).where(Grant.project_id == project.id))


def test_approving_a_grant_asks_for_the_code_on_the_confirm_step(client, db, login_as):
    project = approved_project()
    by = login_as(approver(locale="en"))
    asked = client.post(f"/grants/approve/{project.id}", data=APPROVAL)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'name="step_up_code"' in page and "Two-factor code" in page

    without = client.post(f"/grants/approve/{project.id}", data=confirmed(APPROVAL))
    assert without.status_code == 400 and grants(db, project) == 0
    text = without.get_data(as_text=True)
    assert "Type the code your authenticator app shows now to confirm." in text
    assert 'name="signatory_title" value="Directrice"' in text  # what was typed goes on with the page

    wrong = client.post(f"/grants/approve/{project.id}", data={**confirmed(APPROVAL), "step_up_code": "123456"})
    assert wrong.status_code == 400 and grants(db, project) == 0 and "This code is wrong" in wrong.get_data(
        as_text=True)
    assert 'value="123456"' not in wrong.get_data(as_text=True)  # a code is never carried back

    code = fresh_code(by)
    done = client.post(f"/grants/approve/{project.id}", data={**confirmed(APPROVAL), "step_up_code": code})
    assert done.status_code == 302 and grants(db, project) == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "two_factor.step_up")) == 1
    again = client.post(f"/grants/approve/{project.id}", data={**confirmed(APPROVAL), "step_up_code": code})
    assert again.status_code == 302 and grants(db, project) == 1  # sent twice: already approved, no error


def test_a_step_up_code_works_once(client, db, login_as):
    first, second = approved_project(), approved_project()
    by = login_as(approver(locale="en"))
    code = fresh_code(by)
    assert client.post(f"/grants/approve/{first.id}", data={**confirmed(APPROVAL), "step_up_code": code}
                       ).status_code == 302
    replay = client.post(f"/grants/approve/{second.id}", data={**confirmed(APPROVAL), "step_up_code": code})
    assert replay.status_code == 400 and "already been used" in replay.get_data(as_text=True)
    assert grants(db, second) == 0


def test_the_second_signature_of_a_disbursement_asks_for_the_code(client, app, db, users, login_as):
    app.config["FOUR_EYES_THRESHOLD_XOF"] = 1_000_000
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=20_000_000)
    verified(grant, member, officer, 20_000_000)
    db.session.commit()
    waiting = record_disbursement(grant, officer, tranche_number=1, amount_xof=2_000_000, value_date=utcnow().date(),
                                  bank_reference="VIR-1", idempotency_key=str(uuid.uuid4())).request
    db.session.commit()
    signer = login_as(users["approver"])
    url = f"/grants/{grant.id}/disbursement-requests/{waiting.id}/approve"
    asked = client.post(url)
    assert asked.status_code == 200 and 'name="step_up_code"' in asked.get_data(as_text=True)
    assert client.post(url, data=confirmed()).status_code == 400
    assert client.post(url, data=confirmed({"step_up_code": "000000"})).status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Disbursement.id))) == 0
    assert client.post(url, data=step_up(signer, confirmed())).status_code == 302
    assert db.session.scalar(select(func.count(Disbursement.id))) == 1


def test_a_change_of_role_asks_for_the_admins_code(client, db, users, login_as):
    admin = login_as(users["admin"])
    admin.locale = "en"
    target = UserFactory(officer=True)
    db.session.commit()
    form = {"name": target.name, "role": "approver", "locale": "fr", "active": "y"}
    page = client.get(f"/admin/users/{target.id}/edit").get_data(as_text=True)
    assert 'name="step_up_code"' in page
    refused = client.post(f"/admin/users/{target.id}/edit", data=form)
    assert refused.status_code == 400 and "Type the code your authenticator app shows now" in refused.get_data(
        as_text=True)
    db.session.expire_all()
    assert target.role == "officer"
    renamed = client.post(f"/admin/users/{target.id}/edit", data={**form, "role": "officer", "name": "Nouveau Nom"})
    assert renamed.status_code == 302  # other changes need no code
    done = client.post(f"/admin/users/{target.id}/edit", data=step_up(admin, form))
    assert done.status_code == 302
    db.session.expire_all()
    assert target.role == "approver"
