"""WSGI entry point: ``gunicorn -c deploy/gunicorn.conf.py`` (deploy/gunicorn.conf.py names wsgi:app).

Production unless ``CODEV_ENV_NAME`` says otherwise: the app then refuses to start without a real
``CODEV_SECRET_KEY`` (the same in every worker, so sessions and forms hold across them).
"""

import gc
import os

from codev import create_app

os.environ.setdefault("CODEV_ENV_NAME", "production")
app = create_app()

# Everything made while loading the app (modules, the models' metadata, templates, the catalogs) lives as
# long as the worker: moved out of the collector's generations, a full collection no longer walks it. The
# slowest requests (p95) of the heavy pages fell by a third to three quarters with this (README, benchmark).
gc.collect()
gc.freeze()
