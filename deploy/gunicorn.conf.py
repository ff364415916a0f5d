"""gunicorn settings for codev: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app`` (from the repository root).

Every value can be changed from the environment without editing this file:

  GUNICORN_BIND                where to listen (127.0.0.1:8000, nginx's upstream; "unix:/run/codev.sock")
  GUNICORN_WORKERS             processes (default 2 × CPUs + 1, at most GUNICORN_MAX_WORKERS = 8)
  GUNICORN_THREADS             threads per process (default 1: sync workers; above 1: gthread)
  GUNICORN_TIMEOUT             seconds a worker may spend on one request before it is killed (60)
  GUNICORN_FORWARDED_ALLOW_IPS the proxies whose X-Forwarded-Proto gunicorn believes (127.0.0.1,::1)
  GUNICORN_LOG_LEVEL           gunicorn's own messages (info)
  GUNICORN_CONTROL_SOCKET      a path for gunicornc (default: none — signals are enough)

Each worker is a process with its own database pool (DB_POOL_SIZE + DB_MAX_OVERFLOW connections at
most), so workers × that, on every server, counts against PostgreSQL's max_connections (README).
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "wsgi:app"
bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")]

# Sync workers by default: one request at a time per process, so a slow WeasyPrint letter holds one worker
# and nothing else, the timeout can kill a stuck request, and no library is asked to be thread-safe.
# nginx buffers slow clients, which is what sync workers need in front of them.
workers = _int("GUNICORN_WORKERS", min(2 * (os.cpu_count() or 1) + 1, _int("GUNICORN_MAX_WORKERS", 8)))
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 60)  # an award letter rendered by WeasyPrint takes seconds, not a minute
graceful_timeout = 30  # on HUP or TERM, a worker finishes the request in hand within 30 s
keepalive = 5  # seconds an idle connection from nginx stays open (gthread; sync workers close it)

# Recycle each worker after about a thousand requests (the jitter keeps them from restarting together),
# so that memory a long-lived process accumulates (PDF rendering, fonts) is given back.
max_requests = 1000
max_requests_jitter = 100

# The app is loaded in each worker, not in the master: every worker opens its own database pool, and a
# HUP reloads the code. (With preload_app = True, post_fork below drops the connections the master made.)
preload_app = False

forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", os.environ.get("FORWARDED_ALLOW_IPS",
                                                                                     "127.0.0.1,::1"))

# No gunicorn access log: the app writes one line per request itself (codev/core/observability.py) with
# the request id, the user id and the duration, without the query string or a token in the path — which
# gunicorn's line would carry (a password-reset link is /account/reset/<token>). Errors to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")



class _JsonLines:
    """gunicorn's own messages as JSON lines, beside the app's when CODEV_LOG_FORMAT=json (one parser for both).

    Written here rather than imported from codev: the master must not import the app's code, or a HUP
    would not reload it.
    """

    def format(self, record):
        import json
        from datetime import UTC, datetime

        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        entry = {"ts": when, "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                 "request_id": None, "pid": record.process}
        if record.exc_info:
            import traceback

            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


if os.environ.get("CODEV_LOG_FORMAT", "").strip().lower() == "json":
    logconfig_dict = {
        "root": {"level": "WARNING", "handlers": []},  # the app puts its own handler on the root logger
        "formatters": {"json": {"()": _JsonLines}},
        "handlers": {"error_console": {"class": "logging.StreamHandler", "formatter": "json",
                                       "stream": "ext://sys.stderr"}},
        "loggers": {"gunicorn.error": {"level": loglevel.upper(), "handlers": ["error_console"],
                                       "propagate": False, "qualname": "gunicorn.error"}},
    }

if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True  # one shared default path would clash between two gunicorns on a host


def post_fork(server, worker):
    """With a preloaded app, forget the master's database connections: each worker opens its own."""
    if not server.cfg.preload_app:
        return
    from codev.extensions import db
    from wsgi import app

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # close=False: the master's sockets are not closed under it
