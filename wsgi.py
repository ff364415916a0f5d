"""WSGI entry point: ``gunicorn -w 4 wsgi:app``."""

from codev import create_app

app = create_app()
