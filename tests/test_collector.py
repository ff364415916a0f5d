"""A server process sets the cycle collector once the app is loaded (codev.core.collector, wsgi.py)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from codev.core import collector

ROOT = Path(__file__).resolve().parent.parent


def test_a_worker_loading_wsgi_freezes_the_app_and_collects_less_often(tmp_path):
    # In its own process, as gunicorn imports wsgi.py in each worker.
    script = ("import gc, wsgi; print(gc.get_threshold(), gc.get_freeze_count() > 10_000, "
              "wsgi.app.name)")
    env = {**os.environ, "CODEV_ENV_NAME": "production", "CODEV_SECRET_KEY": "k" * 64,
           "CODEV_DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,  # noqa: S603
                         check=True, timeout=120).stdout.split("\n")[-2]
    assert out == f"{collector.THRESHOLDS} True codev"


def test_settle_keeps_what_exists_out_of_the_collections():
    before = gc.get_threshold()
    try:
        kept = [[n] for n in range(1000)]
        collector.settle()
        assert gc.get_threshold() == collector.THRESHOLDS
        assert gc.get_freeze_count() >= len(kept)
        assert not any(any(o is k for k in kept[:3]) for o in gc.get_objects(2))  # frozen, not in a generation
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
