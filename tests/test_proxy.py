"""The reverse proxy of the README: the security headers reach every answer, also those gunicorn gives.

gunicorn answers some requests by itself, before the app sees them (414 on a huge address, 400 on a
malformed request line), and those carry none of the app's headers. ``deploy/nginx-security-headers.conf``
makes nginx add them to every answer. The first test keeps the file equal to the app's headers; the
second runs a real nginx in front of a real gunicorn and reads what comes back.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import free_port, wait_for_port

ROOT = Path(__file__).parent.parent
HEADERS_FILE = ROOT / "deploy" / "nginx-security-headers.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def proxy_headers() -> dict[str, str]:
    text = HEADERS_FILE.read_text()
    return {name: value for name, value in re.findall(r'^add_header (\S+) "([^"]*)" always;$', text, re.M)}


def test_the_proxy_adds_exactly_the_app_security_headers(client):
    expected = proxy_headers()
    response = client.get("/", base_url="https://localhost")
    app_headers = {name: response.headers[name] for name in expected if name in response.headers}
    assert app_headers == expected
    security = [n for n in response.headers.keys() if n in {
        "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options",
        "Permissions-Policy", "Strict-Transport-Security"}]
    assert set(security) == set(expected)
    hidden = set(re.findall(r"^proxy_hide_header (\S+);$", HEADERS_FILE.read_text(), re.M))
    assert hidden == set(expected)


@pytest.fixture
def proxied(tmp_path):
    """gunicorn serving codev on one port, nginx in front of it on another, as the README sets them up."""
    app_port, proxy_port = free_port(), free_port()
    env = {**os.environ, "CODEV_ENV_NAME": "production", "CODEV_SECRET_KEY": "proxy-test-" + "x" * 40,
           "CODEV_DATABASE_URL": f"sqlite:///{tmp_path / 'proxy.sqlite3'}",
           "CODEV_UPLOAD_FOLDER": str(tmp_path / "uploads"), "CODEV_PROXY_FIX_HOPS": "1",
           "GUNICORN_WORKERS": "1", "GUNICORN_BIND": f"127.0.0.1:{app_port}"}
    gunicorn = subprocess.Popen(  # noqa: S603 — the deploy settings, as in production
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
worker_processes 1;
daemon off;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    server {{
        listen 127.0.0.1:{proxy_port};
        large_client_header_buffers 4 16k;
        include {HEADERS_FILE};
        location / {{
            proxy_pass http://127.0.0.1:{app_port};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
""")
    nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)],  # noqa: S603
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(app_port)
        wait_for_port(proxy_port)
        yield proxy_port
    finally:
        for process in (nginx, gunicorn):
            process.terminate()
            process.wait(timeout=10)


def raw_request(port: int, request: bytes) -> tuple[int, dict[str, list[str]]]:
    """Send ``request`` as it is and read the status and headers (names lower-cased, every copy kept)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:  # a loaded CI host is slow
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers: dict[str, list[str]] = {}
    for line in head[1:]:
        name, _sep, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return status, headers


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: codev.example.tg\r\nConnection: close\r\n\r\n".encode()


def test_every_answer_behind_nginx_carries_the_headers_once(proxied):
    expected = {name.lower(): value for name, value in proxy_headers().items()}
    answers = {
        "app page": raw_request(proxied, get("/static/css/codev.css")),
        "app 404": raw_request(proxied, get("/calls/99999999999999999999")),
        "gunicorn 414": raw_request(proxied, get("/calls/?q=" + "x" * 6000)),
        "malformed request 400": raw_request(proxied, b"GET /\x01bad HTTP/1.1\r\nHost: codev.example.tg\r\n\r\n"),
    }
    statuses = {name: status for name, (status, _headers) in answers.items()}
    assert statuses == {"app page": 200, "app 404": 404, "gunicorn 414": 414, "malformed request 400": 400}
    for name, (_status, headers) in answers.items():
        got = {header: headers.get(header) for header in expected}
        assert got == {header: [value] for header, value in expected.items()}, name
