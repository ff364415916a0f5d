"""The programme's packages are layers: core ← accounts ← calls ← projects ← reviews ← grants ← oversight
← api ← demo.

A package imports only from the packages before it (and ``codev.extensions``, which everybody uses and
which imports none of them). The test reads every import of every module under ``codev/``: at the top,
inside functions (lazy imports count too), under ``TYPE_CHECKING``, relative ones, and
``import_module("codev.…")`` with a written name. A later step of the programme that must add to an
earlier one does it by registering with it (``Workflow.attach``, ``allow_evaluators``,
``count_projects_with``), never by the earlier one reaching up.

The top of the package (``codev/__init__.py``, ``cli.py``, ``config.py``) builds the app and may import
anything; the migrations may import ``core``.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

import codev
from codev.reviews import evaluations
from codev.reviews.models import Assignment
from tests.factories import CallFactory
from tests.factories_projects import ProjectFactory, submitted_project
from tests.factories_reviews import assign, evaluator, in_review_project

CODEV = Path(codev.__file__).parent
# The steps of the programme in the order money and paper flow; oversight reads them all (registers,
# exports); the partners' API reads what oversight reads; the demo seeds them all.
LAYERS = ("core", "accounts", "calls", "projects", "reviews", "grants", "oversight", "api", "demo")
EVERYONE_MAY_IMPORT = {"extensions"}
TOP = {"__init__", "cli", "config", "wsgi"}  # build the app: may import anything
MIGRATIONS_MAY_IMPORT = {"core"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(CODEV.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _called(func: ast.expr) -> str | None:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every ``codev.…`` module ``source`` imports, with its line (``from codev import x`` names ``codev.x``)."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "codev":  # from codev import accounts, cli: the modules themselves
                found += [(node.lineno, f"codev.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
        elif isinstance(node, ast.Call) and _called(node.func) == "import_module" and node.args:
            name = node.args[0]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found.append((node.lineno, name.value))
    return [(line, name) for line, name in found if name == "codev" or name.startswith("codev.")]


def allowed(importer: str, imported: str) -> bool:
    """Whether module ``importer`` (``codev.calls.services``) may import ``imported``."""
    source = importer.split(".")[1] if importer.count(".") else "__init__"
    target = imported.split(".")[1] if imported.count(".") else "__init__"
    if source in TOP:
        return True
    if target in EVERYONE_MAY_IMPORT:
        return True
    if source in EVERYONE_MAY_IMPORT:  # under everybody: it imports none of the packages
        return False
    if source == "migrations":
        return target in MIGRATIONS_MAY_IMPORT
    if source not in LAYERS or target not in LAYERS:
        return False
    return LAYERS.index(target) <= LAYERS.index(source)


def upward_imports() -> dict[str, list[str]]:
    found = {}
    for path in sorted(CODEV.rglob("*.py")):
        module = module_name(path)
        imports = imported_modules(path.read_text(), module, is_package=path.name == "__init__.py")
        bad = [f"{line}: {name}" for line, name in imports if not allowed(module, name)]
        if bad:
            found[str(path.relative_to(CODEV))] = bad
    return found


def test_every_package_is_one_of_the_layers():
    packages = {p.name for p in CODEV.iterdir() if p.is_dir() and any(p.rglob("*.py"))} - {"migrations"}
    assert packages <= set(LAYERS), f"place the new package among the layers: {packages - set(LAYERS)}"
    modules = {p.stem for p in CODEV.glob("*.py")}
    assert modules <= TOP | EVERYONE_MAY_IMPORT, modules - TOP - EVERYONE_MAY_IMPORT


def test_no_package_imports_a_later_one():
    assert upward_imports() == {}


@pytest.mark.parametrize(("importer", "imported", "ok"), [
    ("codev.calls.services", "codev.projects.models", False),
    ("codev.projects.services", "codev.reviews.assignments", False),
    ("codev.reviews.evaluations", "codev.projects.workflow", True),
    ("codev.grants.award.approval", "codev.reviews.models", True),
    ("codev.demo", "codev.grants.models", True),
    ("codev.core.audit", "codev.accounts.models", False),
    ("codev.core.audit", "codev.extensions", True),
    ("codev.accounts.models", "codev", False),
    ("codev.accounts.models", "codev.cli", False),
    ("codev.extensions", "codev.core.models", False),
    ("codev.migrations.env", "codev.core.timeutil", True),
    ("codev.migrations.env", "codev.grants.models", False),
    ("codev", "codev.demo", True),
    ("codev.cli", "codev.grants.life.lapse", True),
])
def test_the_rule(importer, imported, ok):
    assert allowed(importer, imported) is ok


def test_every_kind_of_import_is_read():
    source = textwrap.dedent('''
        import codev.core.audit
        from codev.projects import models
        from codev import cli
        from . import forms
        from ..projects.models import Project
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from codev.reviews.models import Assignment

        def later():
            from codev.grants.models import Grant
            importlib.import_module("codev.demo")
            import sqlalchemy
    ''')
    found = imported_modules(source, "codev.calls.services", is_package=False)
    assert sorted(found) == [
        (2, "codev.core.audit"), (3, "codev.projects"), (4, "codev.cli"), (5, "codev.calls"),
        (6, "codev.projects.models"), (9, "codev.reviews.models"), (12, "codev.grants.models"), (13, "codev.demo"),
    ]


# --- what the upward imports did, done by registration ----------------------------------------------


def test_the_calls_list_counts_the_projects_through_the_projects_step(client, db, users, login_as):
    call = CallFactory(open=True, title="Appel compté")
    submitted_project(call=call)
    submitted_project(call=call)
    ProjectFactory(call=call)  # a draft is not counted
    db.session.commit()
    login_as(users["officer"])
    page = client.get("/calls/manage").get_data(as_text=True)
    row = next(r for r in page.split("<tr>") if "Appel compté" in r)
    assert re.findall(r'<td class="num"[^>]*>([^<]*)</td>', row)[-1] == "2"


def test_an_evaluator_sees_a_project_through_the_reviews_rule(client, db, login_as):
    project = in_review_project()
    reviewer = evaluator()
    row = assign(project, reviewer)
    login_as(reviewer)
    assert client.get(f"/projects/{project.id}").status_code == 404  # no declaration yet
    evaluations.declare(db.session.get(Assignment, row.id), reviewer, False, None)
    db.session.commit()
    assert client.get(f"/projects/{project.id}").status_code == 200
