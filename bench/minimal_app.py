"""The yardstick of the throughput figures: a minimal Flask + SQLAlchemy app on the same database.

    CODEV_BENCH_DB=sqlite:///… gunicorn -w 2 bench.minimal_app:app

It serves what the two measured pages of codev serve, with nothing else — no sign-in, no navigation, no
translations, no access rules:

- ``/projects/``: the first 50 rows of the officer's project list (reference, title, association, call,
  status, submission date, total budget), in the list's order;
- ``/projects/<id>``: one project with its budget lines, financing plan and history.

The ratio codev / minimal, measured in the same run on the same rows, says what the app's own work costs.
"""

from __future__ import annotations

import os

from flask import Flask, abort, render_template_string
from sqlalchemy import create_engine, text

LIST = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Projets</title></head><body>
<h1>Projets</h1><table><tr><th>Référence</th><th>Titre</th><th>Association</th><th>Appel</th><th>Statut</th>
<th>Soumis le</th><th>Budget</th></tr>
{% for r in rows %}<tr><td><a href="/projects/{{ r.id }}">{{ r.reference or "" }}</a></td><td>{{ r.title }}</td>
<td>{{ r.name }} ({{ r.acronym }})</td><td>{{ r.call_title }}</td><td>{{ r.status }}</td>
<td>{{ r.submitted_at or "" }}</td><td>{{ "{:,}".format(r.budget or 0) }} F CFA</td></tr>{% endfor %}
</table></body></html>"""

DETAIL = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{{ p.title }}</title></head><body>
<h1>{{ p.title }}</h1><p>{{ p.reference }} — {{ p.status }} — {{ p.name }}</p><p>{{ p.summary }}</p>
<p>{{ p.problem }}</p><p>{{ p.objectives }}</p><p>{{ p.activities }}</p>
<h2>Budget</h2><table>{% for b in budget %}<tr><td>{{ b.description }}</td><td>{{ b.quantity }}</td>
<td>{{ "{:,}".format(b.amount_xof) }}</td></tr>{% endfor %}</table>
<h2>Plan</h2><table>{% for f in financing %}<tr><td>{{ f.source }}</td><td>{{ "{:,}".format(f.amount_xof) }}</td>
</tr>{% endfor %}<tr><td>grant</td><td>{{ "{:,}".format(p.requested_grant_xof) }}</td></tr></table>
<h2>History</h2><ul>{% for e in events %}<li>{{ e.at }} {{ e.action }} {{ e.message or "" }}</li>{% endfor %}</ul>
</body></html>"""

app = Flask(__name__)
engine = create_engine(os.environ.get("CODEV_BENCH_DB", "sqlite:///instance/codev.sqlite3"), pool_pre_ping=False)


@app.get("/projects/")
def projects():
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT p.id, p.reference, p.title, p.status, p.submitted_at, a.name, a.acronym, c.title AS call_title, "
            "(SELECT SUM(b.amount_xof) FROM budget_lines b WHERE b.project_id = p.id) AS budget "
            "FROM projects p JOIN associations a ON a.id = p.association_id JOIN calls c ON c.id = p.call_id "
            "ORDER BY p.submitted_at DESC NULLS LAST, p.id DESC LIMIT 50")).all()
    return render_template_string(LIST, rows=rows)


@app.get("/projects/<int:project_id>")
def project(project_id: int):
    with engine.connect() as connection:
        p = connection.execute(text(
            "SELECT p.*, a.name FROM projects p JOIN associations a ON a.id = p.association_id WHERE p.id = :id"),
            {"id": project_id}).first()
        if p is None:
            abort(404)
        budget = connection.execute(text("SELECT * FROM budget_lines WHERE project_id = :id ORDER BY position"),
                                    {"id": project_id}).all()
        financing = connection.execute(text("SELECT * FROM financing_lines WHERE project_id = :id ORDER BY position"),
                                       {"id": project_id}).all()
        events = connection.execute(text("SELECT * FROM project_events WHERE project_id = :id ORDER BY id"),
                                    {"id": project_id}).all()
    return render_template_string(DETAIL, p=p, budget=budget, financing=financing, events=events)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
