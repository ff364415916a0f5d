"""Factories and helpers for the projects tests: drafts ready to submit, files, form data."""

from __future__ import annotations

import io
import secrets

import factory
from werkzeug.datastructures import FileStorage

from codev.core.models import Attachment
from codev.core.storage import storage
from codev.extensions import db
from codev.projects.models import BudgetLine, FinancingLine, Project, ProjectAttachment
from codev.projects.workflow import Step
from tests.factories import AssociationFactory, Base, CallFactory, UserFactory

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE_BYTES = b"MZ\x90\x00" + b"\x00" * 200  # a Windows executable renamed devis.pdf
ALL_STEPS = ",".join(step.value for step in Step)

# A plan that meets CallFactory's rules: B = 10 000 000; A = 4 000 000 cash + 50 % of 1 000 000 in kind.
BUDGET = [("works", "Forage et pompe", 1, 7_000_000), ("equipment", "Château d'eau 10 m3", 2, 1_500_000)]
FINANCING = [("association_cash", 4_000_000), ("association_in_kind", 1_000_000), ("community", 500_000),
             ("commune", 500_000)]
GRANT = 4_000_000


class ProjectFactory(Base):
    """A draft with only a title; use :func:`ready_project` for one that can be submitted."""

    class Meta:
        model = Project

    association = factory.SubFactory(AssociationFactory, verified=True)
    call = factory.SubFactory(CallFactory, open=True)
    title = factory.Sequence(lambda n: f"Adduction d'eau potable du village {n}")
    requested_grant_xof = 0
    steps_done = ""


def member_of(association, **kwargs):
    from codev.accounts.models import Role

    return UserFactory(role=Role.ASSOCIATION, association=association, **kwargs)


def stored_file(data: bytes = PDF_BYTES, name: str = "devis.pdf", kind: str = "quote") -> Attachment:
    """An Attachment whose bytes are in the file store, as store_upload leaves them."""
    stored_name = f"{secrets.token_hex(16)}.pdf"
    storage().put(stored_name, data)
    import hashlib

    attachment = Attachment(kind=kind, original_name=name, stored_name=stored_name, content_type="application/pdf",
                            size=len(data), sha256=hashlib.sha256(data).hexdigest())
    db.session.add(attachment)
    db.session.flush()
    return attachment


def ready_project(member=None, call=None, **overrides) -> Project:
    """A complete draft: every step done, a balanced plan within the call's rules, the quote attached."""
    if member is None:
        member = UserFactory(member=True)
    call = call or CallFactory(open=True)
    values = dict(
        title="Forage équipé à Kpimé", sector="water", summary="Un forage pour 1 200 habitants.",
        region="TG-P", prefecture="Kloto", commune="Kloto 1", village="Kpimé",
        local_partner_name="Comité villageois de développement de Kpimé", local_partner_kind="committee",
        local_partner_commitment="Terrain et main-d'œuvre", problem="Pas d'eau potable", objectives="Eau potable",
        activities="Forage, pompe, château d'eau", beneficiaries_total=1200, beneficiaries_women=640,
        beneficiaries_youth=400, duration_months=10, requested_grant_xof=GRANT, steps_done=ALL_STEPS,
    )
    from datetime import date

    values["start_date"] = date(2026, 3, 1)
    values.update(overrides)
    project = ProjectFactory(association=member.association, call=call, created_by_id=member.id, **values)
    project.budget_lines = [
        BudgetLine(position=i, category=c, description=d, quantity=q, unit_cost_xof=u, amount_xof=q * u)
        for i, (c, d, q, u) in enumerate(BUDGET)
    ]
    project.financing_lines = [
        FinancingLine(position=i, source=s, currency="XOF", amount_minor=a, rate_millionths=1_000_000, amount_xof=a)
        for i, (s, a) in enumerate(FINANCING)
    ]
    quote = stored_file()
    project.attachments = [ProjectAttachment(attachment_id=quote.id, kind="quote", file=quote)]
    db.session.flush()
    return project


def submitted_project(member=None, call=None, **overrides) -> Project:
    """A project submitted through the service (reference, event, emails)."""
    from codev.projects.services import submit_project

    if member is None:
        member = UserFactory(member=True)
    project = ready_project(member, call, **overrides)
    submit_project(project, member)
    db.session.commit()
    return project


def upload(data: bytes = PDF_BYTES, name: str = "devis.pdf") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="application/pdf")


def budget_form(lines, version) -> dict:
    """Form data of the budget step: ``lines`` as (category, description, quantity, unit cost) text."""
    data = {"version": str(version)}
    for i, (category, description, quantity, unit_cost) in enumerate(lines):
        data.update({f"lines-{i}-category": category, f"lines-{i}-description": description,
                     f"lines-{i}-quantity": quantity, f"lines-{i}-unit_cost": unit_cost})
    return data


def financing_form(lines, grant, version) -> dict:
    """Form data of the financing step: ``lines`` as (source, currency, amount text)."""
    data = {"version": str(version), "requested_grant": grant}
    for i, (source, currency, amount) in enumerate(lines):
        data.update({f"lines-{i}-source": source, f"lines-{i}-description": "", f"lines-{i}-currency": currency,
                     f"lines-{i}-amount": amount})
    return data
