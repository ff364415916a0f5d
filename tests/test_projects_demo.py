"""The demo projects: every state of this step, realistic places, balanced plans (one in euros)."""

from __future__ import annotations

from sqlalchemy import select

from codev.accounts.models import Association, Role, User
from codev.calls.models import Call
from codev.calls.rules import check_plan
from codev.demo import seed_demo
from codev.demo.calls import seed_calls
from codev.demo.projects import seed_projects
from codev.projects.models import Project
from codev.projects.workflow import plan_figures


def test_seed_projects_gives_every_state_with_balanced_plans(app, db):
    seed_demo()  # staff, associations and (once the calls are wired in) the demo calls
    call = db.session.scalar(select(Call).where(Call.status == "open").order_by(Call.closes_at.desc()))
    if call is None or not call.is_accepting():
        call = seed_calls(db.session.scalar(select(User).where(User.role == Role.OFFICER)))["open"]
    calls = {"open": call}
    associations = db.session.scalars(select(Association).order_by(Association.id)).all()
    seed_projects(calls, list(associations), {})
    db.session.commit()

    projects = {p.title: p for p in db.session.scalars(select(Project))}
    states = {p.status for p in projects.values()}
    assert {"draft", "submitted", "returned", "withdrawn"} <= states
    borehole = projects["Forage équipé d'une pompe solaire à Kpimé-Séva"]
    assert (borehole.commune, borehole.prefecture, borehole.region) == ("Kloto 1", "Kloto", "TG-P")
    assert [e.action for e in borehole.events if e.to_status] == ["created", "submitted", "returned", "submitted"]
    assert any(line.currency == "EUR" and line.amount_xof == 5_575_635 for line in borehole.financing_lines)
    assert projects["Case de santé de Lama-Tessi"].commune == "Kozah 2"
    latrines = projects["Latrines scolaires à l'EPP de Nassablé"]
    assert latrines.status == "draft" and latrines.steps_done == "general,location,description,budget"
    assert latrines.commune == "Tône 1"
    for project in projects.values():
        if project.status != "draft":
            assert project.reference and all(c.ok for c in check_plan(project.call, plan_figures(project)))
