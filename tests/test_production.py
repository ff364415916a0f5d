"""The README's production section, followed on this machine by ``scripts/production_check.py``.

Two gunicorn servers behind nginx share one database and one S3 bucket (moto's server) and send mail
through one SMTP server (aiosmtpd): a session, the login throttle and the files hold across both, two
mail workers send each email once, overlapping cron jobs run once, a backup restores, logs are JSON.
On SQLite, and on PostgreSQL when ``CODEV_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).parent.parent
STEPS = (
    "flask db upgrade", "two gunicorn servers and nginx", "a session opened on server A works on server B",
    "login throttling", "a file uploaded through A is in the bucket", "two mail workers at once",
    "scheduled jobs", "backup and restore", "logs:",
)


def test_the_production_section_works_with_two_servers(backend):
    command = [sys.executable, str(ROOT / "scripts" / "production_check.py")]
    if backend == "postgres":
        command += ["--database-url", POSTGRES_URL]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)  # noqa: S603
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    passed = [line for line in done.stdout.splitlines() if line.startswith("ok ")]
    for expected in STEPS:
        assert any(expected in line for line in passed), f"step not passed: {expected}\n{report}"
    assert "production check passed" in done.stdout
