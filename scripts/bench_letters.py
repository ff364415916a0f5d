"""Benchmark of the award letters: milliseconds per letter through the app's path, against WeasyPrint alone.

    .venv/bin/python scripts/bench_letters.py [-n 30]      (or: make bench-letters)

Builds the app on a temporary SQLite database with demo-like data (a call, a verified association, a
project with its budget and financing plan, approved by the committee), approves its grant through the
service (which issues its first two letters and pays the process's one-off font setup), then renders
N letters through the app's path — :func:`codev.grants.award.letters.render_letter`: the letter's facts and
content fingerprint, the plain data in its language, the QR code, Jinja and
:func:`codev.core.pdf.render_pdf` — alternating French and English. It then renders the same HTML
N times with WeasyPrint alone (``HTML(...).write_pdf`` with the same font configuration, stylesheet and
fetcher) and prints the medians, the p95 and the app's overhead. Targets: median < 150 ms, overhead < 30 %.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_MEDIAN_MS = 150
TARGET_OVERHEAD_PCT = 30


def build_data():
    """A call, an association, an approver and a project the committee approved (committed)."""
    from codev.accounts.models import Association, AssociationStatus, Role, User
    from codev.calls.models import Call, CallStatus, CallTranche, TrancheCondition
    from codev.core.timeutil import utcnow
    from codev.extensions import db
    from codev.projects.models import BudgetLine, FinancingLine, Project, ProjectStatus

    approver = User(email="ordonnateur@codev.bench", name="Essi Lawson", role=Role.APPROVER, locale="fr",
                    title="Directrice des Togolais de l'extérieur")
    association = Association(
        name="Amicale des ressortissants de Kpimé-Séva en France (Ɖokuibɔ ƒe habɔbɔ)", acronym="ARKF",
        country="FR", city="Paris", contact_name="Kossi Amégnran", contact_email="arkf@codev.bench",
        status=AssociationStatus.VERIFIED, verified_at=utcnow(), locale="fr",
    )
    call = Call(
        title="Appel à projets de coréalisation 2026", status=CallStatus.OPEN, envelope_xof=500_000_000,
        ratio_num=1, ratio_den=1, max_grant_xof=25_000_000, max_grant_share_bps=7000,
        min_association_share_bps=2000, in_kind_counts_bps=5000, contribution_deadline_days=90,
        tranches=[CallTranche(number=1, share_bps=4000, condition=TrancheCondition.CONTRIBUTION_VERIFIED),
                  CallTranche(number=2, share_bps=4000, condition=TrancheCondition.PROGRESS_REPORT),
                  CallTranche(number=3, share_bps=2000, condition=TrancheCondition.FINAL_REPORT)],
    )
    db.session.add_all([approver, association, call])
    db.session.flush()
    member = User(email="membre@codev.bench", name="Kossi Amégnran", role=Role.ASSOCIATION, locale="fr",
                  association_id=association.id)
    project = Project(
        reference="CODEV-2026-0042", association_id=association.id, call_id=call.id,
        status=ProjectStatus.APPROVED, title="Forage équipé d'une pompe solaire à Kpimé-Séva", sector="water",
        region="TG-P", prefecture="Kloto", commune="Kloto 1", village="Kpimé-Séva", duration_months=8,
        start_date=date(2026, 3, 1), requested_grant_xof=5_575_000,
    )
    budget = [("works", "Forage à 80 m", 6_500_000), ("equipment", "Pompe solaire et panneaux", 3_200_000),
              ("works", "Château d'eau et bornes-fontaines", 2_800_000), ("training", "Comité de gestion", 350_000),
              ("monitoring", "Suivi technique", 650_000)]
    financing = [("association_cash", 5_575_000), ("association_in_kind", 600_000), ("community", 750_000),
                 ("commune", 1_000_000)]
    project.budget_lines = [BudgetLine(position=i, category=c, description=d, quantity=1, unit_cost_xof=a,
                                       amount_xof=a) for i, (c, d, a) in enumerate(budget)]
    project.financing_lines = [FinancingLine(position=i, source=s, currency="XOF", amount_minor=a,
                                             rate_millionths=1_000_000, amount_xof=a)
                               for i, (s, a) in enumerate(financing)]
    db.session.add_all([member, project])
    db.session.commit()
    return project, approver


def percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="letters to render (default 30)")
    args = parser.parse_args()

    from flask import render_template
    from flask_babel import force_locale
    from weasyprint import HTML

    from codev import create_app
    from codev.core import pdf as pdfmod
    from codev.extensions import db
    from codev.grants.award import letters
    from codev.grants.award.approval import approve_grant

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "ENV_NAME": "test", "SECRET_KEY": "bench-" + "x" * 32, "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3", "UPLOAD_FOLDER": f"{tmp}/uploads",
        })
        with app.app_context(), app.test_request_context(base_url=app.config["PUBLIC_BASE_URL"]):
            db.create_all()
            project, approver = build_data()
            started = time.perf_counter()
            grant = approve_grant(project, approver, 5_575_000, approver.name, approver.title)
            db.session.commit()
            first_ms = (time.perf_counter() - started) * 1000

            app_ms, sizes = [], []
            for i in range(args.n):
                language = ("fr", "en")[i % 2]
                started = time.perf_counter()
                _facts, _fingerprint, pdf = letters.render_letter(
                    grant, project, language=language, version=100 + i, issued_at=grant.approved_at,
                    signatory_name=approver.name, signatory_title=approver.title)
                app_ms.append((time.perf_counter() - started) * 1000)
                sizes.append(len(pdf))

            # The same HTML, WeasyPrint alone: same fonts, stylesheet and fetcher, no app work around it.
            facts = letters.letter_facts(grant, project, language="fr", version=1, issued_at=grant.approved_at,
                                         signatory_name=approver.name, signatory_title=approver.title)
            with force_locale("fr"):
                html = render_template("pdf/award_letter.html",
                                       **letters.letter_data(grant, project, facts, letters.content_fingerprint(facts)))
            static = app.static_folder
            stylesheet = pdfmod._stylesheet(static, letters.STYLESHEET)
            fonts = pdfmod._font_config()
            weasy_ms = []
            for _ in range(args.n):
                started = time.perf_counter()
                document = HTML(string=html, base_url=pdfmod.STATIC_BASE, url_fetcher=pdfmod.RestrictedFetcher(static))
                document.write_pdf(stylesheets=[stylesheet], font_config=fonts)
                weasy_ms.append((time.perf_counter() - started) * 1000)
            db.session.remove()
            db.engine.dispose()

    app_median, weasy_median = statistics.median(app_ms), statistics.median(weasy_ms)
    overhead = (app_median - weasy_median) / weasy_median * 100
    size_kb = statistics.median(sizes) // 1024
    print(f"award letters: {args.n} rendered through the app (fr/en alternately), ~{size_kb} kB each")
    print(f"  approval with its first 2 letters (includes the process's font setup): {first_ms:.0f} ms")
    print(f"  app path       median {app_median:.1f} ms   p95 {percentile(app_ms, 95):.1f} ms per letter")
    print(f"  WeasyPrint     median {weasy_median:.1f} ms   p95 {percentile(weasy_ms, 95):.1f} ms (same HTML alone)")
    print(f"  app overhead   {overhead:.1f} %")
    ok = app_median < TARGET_MEDIAN_MS and overhead < TARGET_OVERHEAD_PCT
    verdict = "met" if ok else "NOT met"
    print(f"  targets (median < {TARGET_MEDIAN_MS} ms, overhead < {TARGET_OVERHEAD_PCT} %): {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
