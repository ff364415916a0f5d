"""Two-factor sign-in (codev/accounts/two_factor): enrolment by QR code, the sign-in's second step, codes that
work once, recovery codes, the rule that approvers and admins reach nothing but enrolment without one, the
admin's reset, throttling, the security emails and the audit events."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import func, select

from codev.accounts.two_factor.models import RecoveryCode, SecondFactor
from codev.accounts.two_factor.services import decrypt_secret
from codev.core.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from tests.two_factor_support import TEST_SECRET, code_at, current_step, fresh_code


def sign_in(client, user, password=PASSWORD):
    return client.post("/account/login", data={"email": user.email, "password": password})


def actions(db, user) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "users",
                                                                   AuditEvent.object_id == user.id)
                                   .order_by(AuditEvent.id)))


def factor(db, user) -> SecondFactor | None:
    db.session.expire_all()
    return db.session.get(SecondFactor, user.id)


def english(db, user):
    user.locale = "en"
    db.session.commit()
    return user


def enrol_secret(client) -> str:
    """The key the enrolment page shows (as the person types it into an app)."""
    page = client.get("/account/two-factor/enrol").get_data(as_text=True)
    return re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")


# --- required for approvers and admins -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["approver", "admin"])
def test_without_a_second_factor_an_approver_or_admin_reaches_nothing_but_enrolment(client, db, role):
    person = english(db, UserFactory(role=role, second_factor=False))
    response = sign_in(client, person)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    for url in ("/", "/grants/", "/account/profile", "/admin/users", "/oversight/audit", "/account/two-factor",
                "/register"):
        response = client.get(url)
        if response.status_code != 403:  # a page of another role stays refused
            assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor/enrol", url
    page = client.get("/account/two-factor/enrol")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Your role requires a second factor" in text
    assert "<svg" in text and "<script" not in text.split("<main", 1)[-1].split("</main>", 1)[0]
    assert client.post("/account/logout").status_code == 302  # signing out stays possible


def test_an_officer_may_go_without_and_is_offered_one(client, db, users, login_as):
    login_as(english(db, users["officer"]))
    assert client.get("/").status_code == 200
    page = client.get("/account/profile").get_data(as_text=True)
    assert 'href="/account/two-factor"' in page and "Two-factor sign-in" in page
    assert "Set up two-factor sign-in" in client.get("/account/two-factor").get_data(as_text=True)


# --- enrolment ---------------------------------------------------------------------------------------------


def test_enrolment_by_qr_code_then_a_first_code_gives_ten_recovery_codes(client, db, outbox):
    person = english(db, UserFactory(approver=True, second_factor=False))
    sign_in(client, person)
    secret = enrol_secret(client)
    assert decrypt_secret(factor(db, person).secret) == secret and not factor(db, person).enabled
    assert secret not in factor(db, person).secret  # stored encrypted
    wrong = client.post("/account/two-factor/enrol", data={"code": "000000"})
    assert wrong.status_code == 400 and "This code is wrong" in wrong.get_data(as_text=True)
    assert 'value="000000"' in wrong.get_data(as_text=True)  # what was typed is kept
    assert enrol_secret(client) == secret  # the same key until it is confirmed
    done = client.post("/account/two-factor/enrol", data={"code": pyotp.TOTP(secret).now()})
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and "Two-factor sign-in is on." in page
    codes = re.findall(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>", page)
    assert len(set(codes)) == 10
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == person.id)).all()
    assert len(stored) == 10 and not any(code in h or code.replace("-", "") in h for code in codes for h in stored)
    assert factor(db, person).enabled
    assert client.get("/").status_code == 200  # the session goes on, the rest of codev opens
    assert "two_factor.enable" in actions(db, person)
    [mail] = [m for m in outbox(person.email) if "two-factor" in m.subject]
    assert "turned on" in mail.body
    again = client.get("/account/two-factor/enrol")
    assert again.status_code == 302 and again.headers["Location"] == "/account/two-factor"


@pytest.mark.parametrize(("typed", "said"), [
    ("１２３４５６", "Type the digits 0 to 9"), ("١٢٣٤٥٦", "Type the digits 0 to 9"),
    ("12345", "Type the 6 digits your authenticator app shows now."), ("1 200", "Type the 6 digits"),
    ("12a456", "Type the 6 digits"), ("9" * 19, "Type the 6 digits")])
def test_enrolment_takes_six_digits_and_says_what_else_is_wrong(client, db, typed, said):
    """The enrolment code is typed on the digit pad: six digits 0 to 9, spaces between them ignored."""
    person = english(db, UserFactory(approver=True, second_factor=False))
    sign_in(client, person)
    secret = enrol_secret(client)
    refused = client.post("/account/two-factor/enrol", data={"code": typed})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and said in page and 'inputmode="numeric"' in page
    assert not factor(db, person).enabled
    spaced = " ".join(pyotp.TOTP(secret).now()[i:i + 3] for i in (0, 3))  # "123 456", as some apps show it
    assert client.post("/account/two-factor/enrol", data={"code": spaced}).status_code == 200
    db.session.expire_all()
    assert factor(db, person).enabled


# --- the sign-in's second step -------------------------------------------------------------------------


def test_sign_in_asks_for_the_code_and_a_replayed_code_is_refused(client, app, db, users, outbox):
    approver = english(db, users["approver"])
    response = sign_in(client, approver)
    assert response.headers["Location"] == "/account/login/code"
    assert client.get("/account/profile").headers["Location"].startswith("/account/login")  # not signed in yet
    code = code_at(current_step())
    assert client.post("/account/login/code", data={"code": "12345"}).status_code == 400
    done = client.post("/account/login/code", data={"code": code})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    [mail] = [m for m in outbox(approver.email) if "new sign-in" in m.subject]
    assert "signed in to your codev account" in mail.body
    assert "login.second_factor" in actions(db, approver)

    thief = app.test_client()  # the same code, seen over a shoulder, a moment later
    sign_in(thief, approver)
    replay = thief.post("/account/login/code", data={"code": code})
    assert replay.status_code == 400 and "already been used" in replay.get_data(as_text=True)
    assert thief.get("/account/profile").headers["Location"].startswith("/account/login")
    assert "two_factor.replayed" in actions(db, approver)
    older = thief.post("/account/login/code", data={"code": code_at(current_step() - 1)})
    assert older.status_code == 400  # nor a code older than the one used


def test_a_recovery_code_works_once(client, app, db, outbox):
    person = english(db, UserFactory(approver=True, second_factor=False))
    sign_in(client, person)
    secret = enrol_secret(client)
    page = client.post("/account/two-factor/enrol", data={"code": pyotp.TOTP(secret).now()}).get_data(as_text=True)
    recovery = re.findall(r"<li><code>([a-z2-9-]{14})</code></li>", page)[3]
    client.post("/account/logout")

    first = app.test_client()
    sign_in(first, person)
    done = first.post("/account/login/code", data={"code": recovery.upper().replace("-", " ")})
    home = first.get("/")
    assert done.status_code == 302 and home.status_code == 200
    assert "You signed in with a recovery code; 9 are left." in home.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == person.id, RecoveryCode.used_at.is_(None))) == 9
    assert "two_factor.recovery_used" in actions(db, person)
    assert any("recovery code was used" in m.body for m in outbox(person.email))

    second = app.test_client()
    sign_in(second, person)
    refused = second.post("/account/login/code", data={"code": recovery})
    assert refused.status_code == 400 and "This code is wrong" in refused.get_data(as_text=True)
    assert second.get("/account/profile").headers["Location"].startswith("/account/login")


def test_a_sign_in_left_waiting_expires(client, app, db, users):
    sign_in(client, users["approver"])
    app.config["TWO_FACTOR_PENDING_MAX_AGE"] = -1
    response = client.post("/account/login/code", data={"code": fresh_code(users["approver"])})
    assert response.status_code == 302 and response.headers["Location"] == "/account/login"


@pytest.mark.parametrize("typed", ["", " ", "x" * 5000, "١٢٣٤٥٦", "12 34 56", "<script>", "0" * 40, "%00"])
def test_odd_codes_are_refused_with_a_message_never_a_500(client, db, users, typed):
    english(db, users["approver"])
    sign_in(client, users["approver"])
    response = client.post("/account/login/code", data={"code": typed})
    assert response.status_code == 400
    assert "Code" in response.get_data(as_text=True)


# --- throttling ----------------------------------------------------------------------------------------------


def test_wrong_codes_are_throttled_like_passwords(client, app, db, users):
    approver = english(db, users["approver"])
    sign_in(client, approver)
    limit = app.config["TOTP_MAX_FAILURES_PER_USER"]
    for _ in range(limit):
        assert client.post("/account/login/code", data={"code": "000000"}).status_code == 400
    refused = client.post("/account/login/code", data={"code": fresh_code(approver)})  # even a good one
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "Too many wrong codes" in refused.get_data(as_text=True)
    assert "two_factor.throttled" in actions(db, approver)
    assert client.get("/account/profile").headers["Location"].startswith("/account/login")


def test_a_good_code_does_not_count_against_the_limit(client, app, db, users):
    app.config["TOTP_MAX_FAILURES_PER_USER"] = 2
    approver = users["approver"]
    for _ in range(3):
        browser = app.test_client()
        sign_in(browser, approver)
        assert browser.post("/account/login/code", data={"code": fresh_code(approver)}).status_code == 302


# --- recovery codes, turning it off ------------------------------------------------------------------------


def test_new_recovery_codes_need_a_code_and_replace_the_old_ones(client, db, users, login_as, outbox):
    admin = login_as(english(db, users["admin"]))
    assert "0 unused recovery codes are left" in client.get("/account/two-factor").get_data(as_text=True)
    refused = client.post("/account/two-factor/recovery-codes", data={"code": "999999"})
    assert refused.status_code == 400 and "This code is wrong" in refused.get_data(as_text=True)
    done = client.post("/account/two-factor/recovery-codes", data={"code": fresh_code(admin)})
    assert done.status_code == 200 and len(re.findall(r"<li><code>", done.get_data(as_text=True))) == 10
    assert "two_factor.recovery_renewed" in actions(db, admin)
    assert any("New recovery codes" in m.body for m in outbox(admin.email))
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "10 unused recovery codes are left" in page and "Turn two-factor sign-in off" not in page


def test_an_officer_turns_it_on_and_off(client, db, users, login_as, outbox):
    officer = login_as(english(db, users["officer"]))
    secret = enrol_secret(client)
    client.post("/account/two-factor/enrol", data={"code": pyotp.TOTP(secret).now()})
    login_as(officer)  # the enrolment ended older sessions; this test's one goes on
    response = client.post("/account/two-factor/disable", data={"code": fresh_code(officer, secret)})
    assert response.status_code == 302 and factor(db, officer) is None
    assert actions(db, officer)[-1] == "two_factor.disable"
    assert any("turned off" in m.body for m in outbox(officer.email))


def test_an_approver_cannot_turn_it_off(client, db, users, login_as):
    approver = login_as(users["approver"])
    client.post("/account/two-factor/disable", data={"code": fresh_code(approver)})
    assert factor(db, approver).enabled


# --- the admin's reset ---------------------------------------------------------------------------------------


def test_an_admin_resets_a_lost_second_factor_after_a_confirm_step(app, client, db, users, login_as, outbox):
    approver = english(db, users["approver"])
    phone = app.test_client()
    sign_in(phone, approver)
    phone.post("/account/login/code", data={"code": fresh_code(approver)})
    assert phone.get("/").status_code == 200
    admin = login_as(users["admin"])
    page = client.get(f"/admin/users/{approver.id}/edit").get_data(as_text=True)
    assert f"/admin/users/{approver.id}/two-factor/reset" in page
    asked = client.post(f"/admin/users/{approver.id}/two-factor/reset")
    assert asked.status_code == 200 and factor(db, approver) is not None
    assert 'name="confirm" value="yes"' in asked.get_data(as_text=True)
    done = client.post(f"/admin/users/{approver.id}/two-factor/reset", data={"confirm": "yes"})
    assert done.status_code == 302 and factor(db, approver) is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "two_factor.reset")).one()
    assert event.actor_id == admin.id and event.object_id == approver.id
    assert any("reset the second factor" in m.body for m in outbox(approver.email))
    assert phone.get("/account/profile").headers["Location"].startswith("/account/login")  # signed out everywhere
    again = client.post(f"/admin/users/{approver.id}/two-factor/reset", data={"confirm": "yes"})
    assert again.status_code == 302  # sent twice: nothing more, no error
    sign_in(phone, approver)  # the next sign-in goes to enrolment
    assert phone.get("/").headers["Location"] == "/account/two-factor/enrol"  # (after the password)


# --- the password's email --------------------------------------------------------------------------------


def test_a_changed_password_is_told_by_email(client, db, users, login_as, outbox):
    officer = login_as(english(db, users["officer"]))
    new = "a brand new passphrase"
    client.post("/account/password", data={"current_password": PASSWORD, "password": new, "confirm": new})
    [mail] = [m for m in outbox(officer.email) if "password" in m.subject]
    assert "was changed" in mail.body and "/account/reset" in mail.body


def test_the_key_is_the_test_key_for_factory_approvers(db, users):
    assert decrypt_secret(factor(db, users["approver"]).secret) == TEST_SECRET
