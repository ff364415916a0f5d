"""Factories and helpers for the grants tests: projects the committee approved, approved grants."""

from __future__ import annotations

import io
import itertools

from pypdf import PdfReader

from codev.extensions import db
from codev.grants.award.approval import approve_grant
from codev.grants.models import Grant
from codev.projects.models import Project, ProjectStatus
from tests.factories import CallFactory, UserFactory
from tests.factories_projects import GRANT, ready_project

_numbers = itertools.count(1)


def approved_project(member=None, call=None, **overrides) -> Project:
    """A project in the state ``approved`` (as the committee leaves it), with a reference and a full plan.

    The plan (CallFactory's rules): B = 10 000 000, A = 4 000 000 cash + 50 % of 1 000 000 in kind = 4 500 000,
    requested grant 4 000 000; the most the rules allow is min(1 × A, 20 000 000, 70 % × B) = 4 500 000.
    """
    if member is None:
        member = UserFactory(member=True)
    values = {"status": ProjectStatus.APPROVED, "reference": f"CODEV-2026-{next(_numbers):04d}"}
    values.update(overrides)
    project = ready_project(member, call or CallFactory(open=True), **values)
    db.session.flush()
    return project


def approver(**kwargs):
    kwargs.setdefault("name", "Essi Lawson")
    kwargs.setdefault("title", "Directrice des Togolais de l'extérieur")
    return UserFactory(approver=True, **kwargs)


def awarded_grant(project: Project | None = None, by=None, amount: int = GRANT) -> Grant:
    """A grant approved through the service (letters rendered, emails queued), committed."""
    project = project or approved_project()
    by = by or approver()
    grant = approve_grant(project, by, amount, by.name, by.title or "Ordonnateur")
    db.session.commit()
    return grant


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF, lines joined with spaces (words split across lines still read)."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())
