"""Codes of the second factor in tests: the known key the factories enrol approvers and admins with, and a
code each time that the app accepts (a step not used yet for that person)."""

from __future__ import annotations

import pyotp

from codev.core.timeutil import utcnow

TEST_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 (a test fixture)


def current_step(secret: str = TEST_SECRET) -> int:
    return pyotp.TOTP(secret).timecode(utcnow())


def code_at(step: int, secret: str = TEST_SECRET) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def fresh_code(user, secret: str = TEST_SECRET) -> str:
    """A code the app accepts now for ``user``: the current step's, or the next one's when it is spent. When
    the steps it accepts are spent (many actions in one test), the remembered step is moved back in the
    database, as a test's shortcut for waiting for the next window."""
    from codev.accounts.two_factor.models import SecondFactor
    from codev.extensions import db

    table = SecondFactor.__table__
    db.session.commit()
    last = db.session.execute(db.select(table.c.last_step).where(table.c.user_id == user.id)).scalar()
    now = current_step(secret)  # the current step first: its code stays good longest (30 to 60 seconds)
    step = now if last is None else max(now, last + 1)
    if step > now + 1:
        db.session.execute(db.update(table).where(table.c.user_id == user.id).values(last_step=now - 1))
        db.session.commit()
        step = now
    return code_at(step, secret)


def step_up(user, data: dict | None = None) -> dict:
    """``data`` with the step-up code the confirmation page asks ``user`` for."""
    return {**(data or {}), "step_up_code": fresh_code(user)}


def complete_sign_in(client, response, secret: str = TEST_SECRET):
    """After the password's answer ``response``: when it asks for the second factor, type a fresh code of the
    person whose sign-in is pending (their key ``secret``); the answer of the last step."""
    if response.status_code != 302 or not response.headers["Location"].endswith("/account/login/code"):
        return response
    from codev.accounts.models import User
    from codev.extensions import db

    with client.session_transaction() as session:
        user_id = session["two_factor_pending"]["u"]
    return client.post("/account/login/code", data={"code": fresh_code(db.session.get(User, user_id), secret)})
