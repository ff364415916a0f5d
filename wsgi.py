"""WSGI entry point: ``gunicorn -c deploy/gunicorn.conf.py`` (deploy/gunicorn.conf.py names wsgi:app).

Production unless ``CODEV_ENV_NAME`` says otherwise: the app then refuses to start without a real
``CODEV_SECRET_KEY`` (the same in every worker, so sessions and forms hold across them).
"""

import os

from codev import create_app
from codev.core import collector

os.environ.setdefault("CODEV_ENV_NAME", "production")
app = create_app()

# The app's own objects frozen out of the cycle collector's way, and collections less often (codev.core.collector).
collector.settle()
