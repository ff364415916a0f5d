"""Follow the README's "Running in production" section on this machine and prove each step works.

Two gunicorn servers (``deploy/gunicorn.conf.py``) behind one nginx share one database (PostgreSQL when
``--database-url`` names one, as in production) and one S3 bucket (moto's server stands in for the object
store) and send mail through one SMTP server (aiosmtpd stands in). Then, through real HTTP requests:

- ``/healthz`` and ``/readyz`` answer on both servers and through nginx;
- a session opened on one server works on the other;
- login throttling counts the failures made on both servers together;
- a file uploaded through one server is in the bucket and downloads, byte for byte, through the other;
- two mail workers running at once deliver each email exactly once;
- the scheduled jobs, started twice at once, each run once;
- a backup of the programme restores into an empty database and an empty bucket, and its checks pass;
- the servers' logs are JSON lines with a request id and hold no password.

``python scripts/production_check.py [--database-url postgresql://…]`` prints one line per step and exits
non-zero at the first that fails. ``tests/test_production.py`` runs it in the suite, on SQLite and, when
``CODEV_TEST_POSTGRES_URL`` is set, on PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n" + secrets.token_bytes(64)
ADMIN_PASSWORD = "une phrase assez longue pour l'admin"  # noqa: S105 (the check's own throwaway account)
MEMBER_PASSWORD = "une autre phrase assez longue"  # noqa: S105


class CheckFailed(AssertionError):
    pass


def step(text: str) -> None:
    print(f"ok   {text}", flush=True)


def check(condition: bool, text: str) -> None:
    if not condition:
        raise CheckFailed(text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.2)
    raise CheckFailed(f"{url} does not answer")


# --- the stand-ins: an SMTP server that counts, an S3 server ----------------------------------------------

class Mailbox:
    """aiosmtpd on 127.0.0.1: every message received, by recipient and subject."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
                from email import message_from_bytes
                from email.header import decode_header, make_header

                message = message_from_bytes(envelope.content)
                subject = str(make_header(decode_header(message.get("Subject", ""))))
                with mailbox.lock:
                    for recipient in envelope.rcpt_tos:
                        mailbox.messages.append((recipient, subject))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


@contextlib.contextmanager
def s3_server(port: int) -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def bucket_client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="codev-check", aws_secret_access_key="codev-check")  # noqa: S106


# --- the programme's processes -----------------------------------------------------------------------------

class Programme:
    """The environment of the README, the flask commands, the servers and nginx."""

    def __init__(self, work: Path, database_url: str, s3_endpoint: str, smtp_port: int) -> None:
        self.work = work
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CODEV_", "GUNICORN_"))},
            "CODEV_ENV_NAME": "production",
            "CODEV_SECRET_KEY": secrets.token_hex(32),
            "CODEV_DATABASE_URL": database_url,
            "CODEV_STORAGE_BACKEND": "s3",
            "CODEV_UPLOAD_FOLDER": str(work / "uploads"),  # must stay empty: files go to the bucket
            "CODEV_S3_BUCKET": "codev-files",
            "CODEV_S3_ENDPOINT_URL": s3_endpoint,
            "CODEV_S3_REGION": "us-east-1",
            "CODEV_S3_ACCESS_KEY_ID": "codev-check",
            "CODEV_S3_SECRET_ACCESS_KEY": "codev-check",
            "CODEV_MAIL_SERVER": "127.0.0.1",
            "CODEV_MAIL_PORT": str(smtp_port),
            "CODEV_MAIL_USE_TLS": "false",
            "CODEV_PROXY_FIX_HOPS": "1",
            "CODEV_LOG_FORMAT": "json",
            "CODEV_PUBLIC_BASE_URL": "http://codev.example.tg",
            "CODEV_PASSWORD_HASH_METHOD": "pbkdf2:sha256:100000",
        }
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def flask(self, *args: str, env: dict | None = None, check_ok: bool = True) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "flask", "--app", "codev", *args]
        done = subprocess.run(command, cwd=self.work, env={**self.env, **(env or {})},  # noqa: S603
                              capture_output=True, text=True, timeout=600)
        if check_ok and done.returncode != 0:
            raise CheckFailed(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def flask_at_once(self, *args: str, count: int = 2) -> list[subprocess.CompletedProcess]:
        """``count`` runs of one command started together (two cron lines, two servers)."""
        command = [sys.executable, "-m", "flask", "--app", "codev", *args]
        running = [subprocess.Popen(command, cwd=self.work, env=self.env, text=True,  # noqa: S603
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(count)]
        done = []
        for process in running:
            out, err = process.communicate(timeout=600)
            done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
        return done

    def gunicorn(self, port: int) -> None:
        log = self.work / f"gunicorn-{port}.log"
        self.logs.append(log)
        env = {**self.env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2"}
        with open(log, "wb") as handle:
            self.processes.append(subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "wsgi:app"],
                cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT))

    def nginx(self, port: int, upstreams: list[int]) -> None:
        conf = self.work / "nginx.conf"
        servers = "\n".join(f"        server 127.0.0.1:{p};" for p in upstreams)
        conf.write_text(f"""
pid {self.work}/nginx.pid;
error_log {self.work}/nginx-error.log;
worker_processes 1;
daemon off;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_max_body_size 25m;
    client_body_temp_path {self.work}/body;
    proxy_temp_path {self.work}/proxy;
    fastcgi_temp_path {self.work}/fastcgi;
    uwsgi_temp_path {self.work}/uwsgi;
    scgi_temp_path {self.work}/scgi;
    upstream codev {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        include {ROOT / "deploy" / "nginx-security-headers.conf"};
        location / {{
            proxy_pass http://codev;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
""")
        self.processes.append(subprocess.Popen([NGINX, "-c", str(conf), "-p", str(self.work)],  # noqa: S603
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- HTTP as a person does it --------------------------------------------------------------------------------

def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    if not found:
        raise CheckFailed("no CSRF token in the form")
    return found.group(1)


def sign_in(session: requests.Session, base: str, email: str, password: str) -> requests.Response:
    form = session.get(f"{base}/account/login", timeout=30)
    return session.post(f"{base}/account/login", timeout=30, allow_redirects=False,
                        data={"csrf_token": csrf_token(form.text), "email": email, "password": password})


def sign_up(session: requests.Session, base: str, email: str) -> requests.Response:
    form = session.get(f"{base}/associations/signup", timeout=30)
    data = {
        "csrf_token": csrf_token(form.text), "name": "Association des Togolais de Lyon", "acronym": "ATL",
        "country": "FR", "city": "Lyon", "embassy": "", "registration_number": "W691234567",
        "registration_authority": "Préfecture du Rhône", "founded_year": "2012", "members_count": "45",
        "contact_phone": "+33 6 12 34 56 78", "website": "www.atl-lyon.example.org",
        "description": "Nous finançons des forages à Kpalimé.", "home_region": "TG-P",
        "domains": ["water", "health"], "locale": "fr", "full_name": "Kafui Adjo", "email": email,
        "password": MEMBER_PASSWORD, "confirm": MEMBER_PASSWORD, "accept": "y",
    }
    return session.post(f"{base}/associations/signup", data=data, timeout=60, allow_redirects=False,
                        files={"statutes": ("statuts de l'association.pdf", PDF, "application/pdf")})


# --- the check -------------------------------------------------------------------------------------------------

def run(database_url: str, restore_url: str, work: Path) -> None:
    smtp_port, s3_port, port_a, port_b, proxy_port = (free_port() for _ in range(5))
    with Mailbox(smtp_port) as mailbox, s3_server(s3_port) as endpoint:
        s3 = bucket_client(endpoint)
        s3.create_bucket(Bucket="codev-files")
        programme = Programme(work, database_url, endpoint, smtp_port)
        try:
            check_programme(programme, mailbox, s3, restore_url, (port_a, port_b, proxy_port))
        finally:
            programme.stop()


def check_programme(programme: Programme, mailbox: Mailbox, s3, restore_url: str, ports) -> None:
    port_a, port_b, proxy_port = ports
    a, b, proxy = (f"http://127.0.0.1:{p}" for p in ports)

    programme.flask("db", "upgrade")
    step("flask db upgrade: the database is at the migrations' head")
    for email, role in (("admin@ministry.example.tg", "admin"), ("officer@ministry.example.tg", "officer")):
        programme.flask("create-user", "--email", email, "--name", role.title(), "--role", role,
                        "--password", ADMIN_PASSWORD, "--locale", "fr")
    step("flask create-user: an admin and an officer")

    programme.gunicorn(port_a)
    programme.gunicorn(port_b)
    programme.nginx(proxy_port, [port_a, port_b])
    for base in (a, b, proxy):
        wait_for_http(f"{base}/healthz")
    for base in (a, b, proxy):
        ready = requests.get(f"{base}/readyz", timeout=30)
        check(ready.status_code == 200, f"{base}/readyz answered {ready.status_code}: {ready.text}")
    step("two gunicorn servers and nginx: /healthz and /readyz answer 200 on each")

    # One session, two servers.
    officer = requests.Session()
    signed = sign_in(officer, a, "officer@ministry.example.tg", ADMIN_PASSWORD)
    check(signed.status_code == 302, f"signing in on server A answered {signed.status_code}")
    on_b = officer.get(f"{b}/associations/directory", timeout=30, allow_redirects=False)
    check(on_b.status_code == 200, f"the session opened on A is refused on B ({on_b.status_code})")
    step("a session opened on server A works on server B")

    # Throttling counted across servers: LOGIN_MAX_FAILURES_PER_EMAIL (5) wrong passwords, alternating.
    for n in range(5):
        wrong = sign_in(requests.Session(), (a, b)[n % 2], "admin@ministry.example.tg", "not the password at all")
        check(wrong.status_code == 200, f"wrong password {n + 1} answered {wrong.status_code}")
    for base in (a, b):
        refused = sign_in(requests.Session(), base, "admin@ministry.example.tg", ADMIN_PASSWORD)
        check(refused.status_code == 429, f"after 5 failures on A and B, {base} answered {refused.status_code}")
    step("login throttling: 5 failures split over A and B lock the account on both")

    # A file through A, back through B.
    member = requests.Session()
    signed_up = sign_up(member, a, "kafui@example.org")
    check(signed_up.status_code == 302, f"sign-up on A answered {signed_up.status_code}")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket="codev-files").get("Contents", [])]
    stored = [key for key in keys if s3.get_object(Bucket="codev-files", Key=key)["Body"].read() == PDF]
    check(len(stored) == 1, f"the statutes are not in the bucket once (keys: {keys})")
    check(not (programme.work / "uploads").exists(), "a file was written to the server's disk")
    listing = officer.get(f"{b}/associations/pending", timeout=30).text
    found = re.search(r'href="/associations/(\d+)"', listing)
    check(found is not None, "the new association is not in the officer's list on B")
    download = officer.get(f"{b}/associations/{found.group(1)}/statutes/download", timeout=30)
    check(download.status_code == 200 and download.content == PDF,
          f"the statutes downloaded through B differ ({download.status_code}, {len(download.content)} bytes)")
    stranger = requests.Session().get(f"{b}/associations/{found.group(1)}/statutes/download", timeout=30,
                                      allow_redirects=False)
    check(stranger.status_code in (302, 403, 404), f"an anonymous visitor got the statutes ({stranger.status_code})")
    step(f"a file uploaded through A is in the bucket ({stored[0]}) and downloads identical through B")

    # Mail: the requests only wrote the outbox; two workers deliver each message once.
    forgot = requests.Session()
    page = forgot.get(f"{proxy}/account/reset", timeout=30)
    forgot.post(f"{proxy}/account/reset", data={"csrf_token": csrf_token(page.text), "email": "kafui@example.org"},
                timeout=30)
    check(mailbox.messages == [], f"a request sent mail itself: {mailbox.messages}")
    workers = programme.flask_at_once("send-mail")
    for worker in workers:
        check(worker.returncode == 0, f"send-mail failed: {worker.stdout}{worker.stderr}")
    outbox = count_outbox(programme)
    check(outbox["pending"] == 0 and outbox["sent"] >= 2, f"the outbox after two workers: {outbox}")
    check(len(mailbox.messages) == outbox["sent"] == len(set(enumerate_messages(programme))),
          f"{len(mailbox.messages)} emails received for {outbox['sent']} sent")
    step(f"two mail workers at once: {outbox['sent']} emails, each delivered once")

    # Scheduled jobs started twice at once.
    for job in ("send-reminders", "close-lapsed", "prune-throttle"):
        runs = programme.flask_at_once(job)
        for done in runs:
            check(done.returncode == 0, f"{job} failed: {done.stdout}{done.stderr}")
    step("scheduled jobs (send-reminders, close-lapsed, prune-throttle) started twice at once: both succeed")

    # Backup, then restore into an empty database and an empty bucket.
    backups = programme.work / "backups"
    backups.mkdir()
    made = programme.flask("backup", str(backups))
    archives = sorted(backups.glob("codev-backup-*"))
    check(len(archives) == 1, f"no archive in {backups}: {made.stdout}")
    s3.create_bucket(Bucket="codev-restored")
    restored = programme.flask("restore", str(archives[0]),
                               env={"CODEV_DATABASE_URL": restore_url, "CODEV_S3_BUCKET": "codev-restored"})
    restored_keys = [item["Key"] for item in s3.list_objects_v2(Bucket="codev-restored").get("Contents", [])]
    check(stored[0] in restored_keys, f"the statutes are not in the restored bucket: {restored_keys}")
    step(f"backup and restore into an empty database and bucket: {last_line(restored.stdout)}")

    # Logs.
    text = "\n".join(path.read_text(errors="replace") for path in programme.logs)
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests_logged = [line for line in lines if line.get("path") and line.get("request_id")]
    check(len(requests_logged) > 10, f"only {len(requests_logged)} JSON request lines in the servers' logs")
    for secret in (ADMIN_PASSWORD, MEMBER_PASSWORD, programme.env["CODEV_SECRET_KEY"]):
        check(secret not in text, "a password or the secret key is in the servers' logs")
    step(f"logs: {len(requests_logged)} JSON request lines with a request id, no password in them")


def count_outbox(programme: Programme) -> dict[str, int]:
    script = ("from codev.extensions import db\nfrom codev.core.models import OutboxMessage as M\n"
              "import json\n"
              "print(json.dumps({'sent': db.session.query(M).filter(M.sent_at.isnot(None)).count(),"
              "'pending': db.session.query(M).filter(M.sent_at.is_(None)).count()}))\n")
    return json.loads(last_line(run_in_app(programme, script)))


def enumerate_messages(programme: Programme) -> list[str]:
    script = ("from codev.extensions import db\nfrom codev.core.models import OutboxMessage as M\n"
              "import json\nprint(json.dumps([m.recipient + '|' + m.subject for m in db.session.query(M)]))\n")
    return json.loads(last_line(run_in_app(programme, script)))


def run_in_app(programme: Programme, script: str) -> str:
    code = "from codev import create_app\napp = create_app()\nwith app.app_context():\n" + "".join(
        f"    {line}\n" for line in script.splitlines())
    done = subprocess.run([sys.executable, "-c", code], cwd=programme.work, env=programme.env,  # noqa: S603
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise CheckFailed(f"reading the database failed: {done.stderr}")
    return done.stdout


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


@contextlib.contextmanager
def databases(database_url: str | None, work: Path) -> Iterator[tuple[str, str]]:
    """The programme's database and an empty one to restore into (SQLite files, or two PostgreSQL databases
    made beside the one named)."""
    if not database_url:
        yield f"sqlite:///{work / 'codev.sqlite3'}", f"sqlite:///{work / 'restored.sqlite3'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", database_url))
    suffix = secrets.token_hex(4)
    names = [f"codev_check_{suffix}", f"codev_check_{suffix}_restored"]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield tuple(url.set(database=name).render_as_string(hide_password=False) for name in names)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL database whose role may create databases "
                                               "(the check makes two of its own beside it); default SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, archive)")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="codev-production-check-"))
    started = time.monotonic()
    try:
        with databases(options.database_url, work) as (database_url, restore_url):
            print(f"production check in {work} on {database_url.split('://')[0]}", flush=True)
            run(database_url, restore_url, work)
    except CheckFailed as failure:
        print(f"FAIL {failure}", flush=True)
        return 1
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"production check passed in {int(time.monotonic() - started)} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
