"""The fixed nasty values of issue 8 posted to every field of every form of every role (no randomness).

Each form a role's demo accounts see is posted eight times with every field nasty at once (field i
gets value (i + k) mod 8 in post k, so each field meets each value), then with one field nasty at a
time and the rest as a person completes it (so that the rest of the form passes and the view's own code
runs on the value): each value in a field one types into, the values an id's coercion could take in a
field of offered choices. File fields get the value as the file's name. Every answer is below 500, and
a refused form leaves the database and the upload folder as they were. The harness itself is checked
first: it sees an accepted change, forgives a counted sign-in failure and nothing else, and tells a
refusal that redirects (with an error message) from an accepted form.
"""

from __future__ import annotations

import re

import pytest

from tests.fuzz_pages import ISSUE_VALUES, PDF, FormSpec, body_of
from tests.fuzz_support import (
    ALLOWED_TABLES,
    AUDIT_TABLE,
    NOT_SHOWN,
    VERSIONS_TABLE,
    post_cases,
    shared_harness,
    targets,
)

# The seven values of issue 8, and a number beyond a float's range (for a validator comparing floats).
NASTY = [*ISSUE_VALUES, "9" * 400]
# Fields whose page offers the values (select, checkbox, radio, button): alone, they get the values a
# choice's coercion could take for an id; all the values reach them in the rotations.
CLOSED = {"select", "checkbox", "radio", "submit"}
CLOSED_VALUES = ["99999999999999999999", "-1", "１２３", "\x00"]
ROW = re.compile(r"^(?P<prefix>\w+)-(?P<index>\d+)-(?P<name>\w+)$")
CASES = post_cases()


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    return shared_harness(tmp_path_factory)


def distinct_forms(harness, endpoint: str, who: str) -> list:
    """One form per set of field names (the same form on twelve users' pages is posted once)."""
    seen = {}
    for account, form in targets(harness, endpoint, who):
        seen.setdefault(tuple(f.name for f in form.fields), (account, form))
    return list(seen.values())


def posts(form: FormSpec, completed: dict[str, list[str]]):
    """(label, pairs, files) of every post of ``form``: all fields nasty at once, then one at a time."""
    fields = form.fields
    for k in range(len(NASTY)):
        chosen = {f.name: NASTY[(i + k) % len(NASTY)] for i, f in enumerate(fields)}
        yield f"all fields, rotation {k}", *_body(form, chosen, completed)
    for f in one_at_a_time(fields):
        for value in (CLOSED_VALUES if f.kind in CLOSED else NASTY):
            yield f"{f.name}={value[:30]!r}", *_body(form, {f.name: value}, completed)


def one_at_a_time(fields) -> list:
    """The fields given each value alone: a repeated row (budget lines, criteria) by its first; the
    CSRF token is not checked in tests."""
    return [f for f in fields
            if f.name != "csrf_token" and (not ROW.match(f.name) or ROW.match(f.name)["index"] == "0")]


def _body(form: FormSpec, chosen: dict[str, str], completed: dict[str, list[str]]):
    """``chosen`` values, the rest as a person completes the form (a valid PDF in each file field)."""
    pairs, files = [], []
    for f in form.fields:
        if f.kind == "file":
            files.append((f.name, chosen.get(f.name, "piece.pdf"), PDF))
        elif f.name in chosen:
            pairs.append((f.name, chosen[f.name]))
        else:
            pairs += [(f.name, v) for v in completed[f.name]]
    return pairs, files


def test_the_harness_sees_an_accepted_change_and_forgives_only_counted_attempts(harness):
    """A saved profile changes the users table; a wrong password only adds the counted attempt; a
    refusal that redirects is told by its error message."""
    account = harness.accounts["association@codev.demo"]
    harness.restore()
    body, content_type = body_of([("name", "Komi A."), ("locale", "en")], [], False)
    response = harness.client(account).open("/account/profile", method="POST", data=body,
                                            content_type=content_type)
    assert response.status_code == 302
    assert not harness.untouched()
    changed = {t for t, v in harness.fingerprint().items() if v != harness.fingerprint0[t]}
    assert "users" in changed
    harness.dirty = True

    body, content_type = body_of([("email", "association@codev.demo"), ("password", "wrong-password-1")], [], False)
    assert harness.check(harness.accounts["anonymous"], "/account/login", body, content_type) == "refused"
    changed = {t for t, v in harness.fingerprint().items() if v != harness.fingerprint0[t]}
    assert changed and changed <= set(ALLOWED_TABLES) | {AUDIT_TABLE, VERSIONS_TABLE}
    assert harness.new_audit_actions() == ["login.failed"]
    harness.restore()
    assert harness.untouched() and harness.fingerprint() == harness.fingerprint0

    # A refusal may also redirect, with an error message: verifying an association verified already.
    body, content_type = body_of([], [], False)
    assert harness.check(harness.accounts["agent@codev.demo"], "/associations/1/verify", body,
                         content_type) == "refused"


def test_every_form_is_found_on_a_page(harness):
    """Each role's demo accounts find a form for every POST rule, but for the buttons listed as not shown."""
    bare = {(e, w) for e, w in CASES if all(form.page == "" for _account, form in targets(harness, e, w))}
    assert bare == set(NOT_SHOWN)


@pytest.mark.parametrize(("endpoint", "who"), CASES, ids=[f"{e}-{w}" for e, w in CASES])
def test_fixed_nasty_values_in_every_field(harness, endpoint, who):
    """Each nasty value in each field: no 500; refused, nothing changed."""
    problems = []
    forms = distinct_forms(harness, endpoint, who)
    assert forms, f"no demo account of {who} reaches {endpoint}"
    for account, form in forms:
        for label, pairs, files in posts(form, harness.completed(account, form)):
            body, content_type = body_of(pairs, files, form.multipart or bool(files))
            try:
                harness.check(account, form.action, body, content_type)
            except AssertionError as exc:
                problems.append(f"[{label}] {str(exc).splitlines()[0]}")
    assert problems == [], "\n".join(problems)
