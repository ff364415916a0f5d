"""One unit of work: one place commits, every refusal is a DomainError, shown where the person reads it.

The class tests read the code: no view commits or rolls back by hand, no service commits, and every
exception class of the programme derives from :class:`DomainError`.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from flask import get_flashed_messages
from sqlalchemy import select
from wtforms import StringField

import codev
from codev.accounts.models import User
from codev.core.forms import BaseForm
from codev.core.unit_of_work import DomainError, unit_of_work
from codev.extensions import db as _db

CODEV = Path(codev.__file__).parent

# Modules that may commit, each for a reason: the unit of work itself, the error pages (rollback),
# command-line jobs (one transaction per item, outside any request), the mail worker (marks each
# message sent as it goes).
MAY_COMMIT = {
    "core/unit_of_work.py": "the one unit of work of a request",
    "core/errors.py": "the error pages roll back what a failed request left",
    "cli.py": "command-line jobs commit what they did",
    "core/mail.py": "the mail worker marks each message sent as it goes",
    "core/invariants.py": "the data checks only read, and roll back after each one (a broken one too)",
    "core/storage_s3.py": "storage-migrate (a command) ends its read before copying files for minutes",
}

# Errors meant for the operator, not for the person at a form: they never go through the unit of work's
# messages, each has its own way out.
OPERATOR_ERRORS = {
    "StorageError": "the file store cannot be reached: a 503 page (core/errors.py), or the command's message",
    "BackupError": "backup and restore stop with the reason, at the operator's terminal",
    "ApiError": "the partners' API answers it in JSON (code, status, message) to a program, never at a form",
}


def python_files():
    for path in sorted(CODEV.rglob("*.py")):
        relative = str(path.relative_to(CODEV))
        if not relative.startswith("migrations/"):
            yield relative, path


def session_calls(path: Path, names: set[str]) -> list[int]:
    """Lines where ``….commit()`` / ``….rollback()`` (or another of ``names``) is called on a session."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names:
            target = ast.unparse(node.func.value)
            if target.endswith("session"):
                lines.append(node.lineno)
    return lines


def test_no_code_commits_or_rolls_back_but_the_unit_of_work():
    outside = {relative: lines for relative, path in python_files() if relative not in MAY_COMMIT
               and (lines := session_calls(path, {"commit", "rollback"}))}
    assert outside == {}, f"commit or rollback outside the unit of work: {outside}"


def all_modules():
    for info in pkgutil.walk_packages(codev.__path__, "codev."):
        if ".migrations" not in info.name:
            yield importlib.import_module(info.name)


def test_every_error_of_the_programme_is_a_domain_error():
    errors = {obj for module in all_modules() for obj in vars(module).values()
              if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__.startswith("codev")}
    assert len(errors) > 5
    others = {e.__qualname__ for e in errors if not issubclass(e, DomainError)}
    assert others == set(OPERATOR_ERRORS), f"not a DomainError: {others - set(OPERATOR_ERRORS)}"


class NameForm(BaseForm):
    name = StringField("Name")


def rename(user: User, name: str) -> None:
    """A service: changes, flushes, refuses a name it does not like."""
    user.name = name
    _db.session.flush()
    if name == "refused":
        raise DomainError("This name is refused.", field="name")
    if name == "many":
        raise DomainError("The name cannot be saved:", ["It is too plain.", "It is taken."])


def stored_name(db, user_id: int) -> str:
    db.session.expire_all()
    return db.session.scalar(select(User.name).where(User.id == user_id))


def test_success_commits_and_flashes(app, db, users):
    user_id = users["officer"].id
    with app.test_request_context("/", method="POST"):
        with unit_of_work(success="Saved.") as work:
            rename(db.session.get(User, user_id), "Kodjo")
        assert work and work.error is None
        assert get_flashed_messages(with_categories=True) == [("success", "Saved.")]
    db.session.rollback()  # a rollback after the commit keeps the change
    assert stored_name(db, user_id) == "Kodjo"


def test_a_refusal_rolls_back_and_goes_beside_its_field(app, db, users):
    user_id, before = users["officer"].id, users["officer"].name
    with app.test_request_context("/", method="POST", data={"name": "refused"}):
        form = NameForm(meta={"csrf": False})
        form.validate()
        with unit_of_work(form, success="Saved.") as work:
            rename(db.session.get(User, user_id), "refused")
        assert not work and str(work.error) == "This name is refused."
        assert form.name.errors == ["This name is refused."] and form.form_errors == []
        assert form.name.data == "refused"  # what was typed stays for the page
        assert get_flashed_messages() == []
    assert stored_name(db, user_id) == before


def test_a_refusal_with_problems_heads_the_form(app, db, users):
    user_id = users["officer"].id
    with app.test_request_context("/", method="POST"):
        form = NameForm(meta={"csrf": False})
        with unit_of_work(form) as work:
            rename(db.session.get(User, user_id), "many")
        assert not work
        assert form.form_errors == ["The name cannot be saved:", "It is too plain.", "It is taken."]


def test_without_a_form_the_refusal_is_flashed(app, db, users):
    with app.test_request_context("/", method="POST"):
        with unit_of_work(success="Saved.") as work:
            rename(db.session.get(User, users["officer"].id), "many")
        assert not work
        assert get_flashed_messages(with_categories=True) == [
            ("error", "The name cannot be saved: It is too plain. It is taken.")]


def test_a_page_that_lists_the_refusal_itself_gets_it_unshown(app, db, users):
    user_id, before = users["officer"].id, users["officer"].name
    with app.test_request_context("/", method="POST"):
        with unit_of_work(show=False, success="Saved.") as work:
            rename(db.session.get(User, user_id), "many")
        assert not work and work.error.problems == ["It is too plain.", "It is taken."]
        assert get_flashed_messages() == []
    assert stored_name(db, user_id) == before


def test_any_other_error_rolls_back_and_goes_on(app, db, users):
    user_id, before = users["officer"].id, users["officer"].name
    with app.test_request_context("/", method="POST"):
        with pytest.raises(ZeroDivisionError), unit_of_work(success="Saved."):
            rename(db.session.get(User, user_id), "Half done")
            _ = 1 / 0
        assert get_flashed_messages() == []
    assert stored_name(db, user_id) == before
