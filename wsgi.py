"""WSGI entry point: ``gunicorn -w 4 wsgi:app``.

Production unless ``CODEV_ENV_NAME`` says otherwise: the app then refuses to start without a real
``CODEV_SECRET_KEY`` (the same in every worker, so sessions and forms hold across them).
"""

import os

from codev import create_app

os.environ.setdefault("CODEV_ENV_NAME", "production")
app = create_app()
