"""Throughput under gunicorn (2 workers), 16 concurrent clients from a load generator in another process.

codev and the minimal app (:mod:`bench.minimal_app`) are served side by side from the same database, on
the loopback only; each page is loaded for a fixed time, codev then the minimal page, and the ratio of
their requests per second is reported. The load generator is ``wrk`` when installed (``make bench``
installs it through ``scripts/bench-deps.sh``), else ``locust`` in headless mode; both stop by themselves.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f} s")


@contextmanager
def served(app_spec: str, port: int, env: dict):
    """``gunicorn -w 2`` serving ``app_spec`` on 127.0.0.1:``port`` until the block ends."""
    process = subprocess.Popen(  # noqa: S603 (our own command line)
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", app_spec],
        cwd=ROOT, env={**os.environ, **env}, start_new_session=True)
    try:
        _wait(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def signed_in(url: str, cookie: str | None) -> None:
    """The page answers 200 with the cookie, without a redirect (to the sign-in page), or the figures lie."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310 (loopback)
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback only)
        if response.status != 200 or response.url != url:
            raise RuntimeError(f"{url} answered {response.status} at {response.url}: not the page to measure")


def generator() -> str:
    if shutil.which("wrk"):
        return "wrk"
    if (BIN / "locust").exists():
        return "locust"
    raise RuntimeError("no load generator: install wrk (scripts/bench-deps.sh) or locust")


def rate(url: str, cookie: str | None, seconds: int = 10, clients: int = 16) -> tuple[float, int]:
    """(requests per second, non-2xx answers) for ``clients`` concurrent clients during ``seconds``."""
    if generator() == "wrk":
        command = ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", url]
        if cookie:
            command[1:1] = ["-H", f"Cookie: {cookie}"]
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout  # noqa: S603
        per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        return per_second, int(errors.group(1)) if errors else 0
    return _locust(url, cookie, seconds, clients)


def _locust(url: str, cookie: str | None, seconds: int, clients: int) -> tuple[float, int]:
    base, _, path = url.partition("//")[2].partition("/")
    with tempfile.TemporaryDirectory() as folder:
        locustfile = Path(folder) / "locustfile.py"
        locustfile.write_text(
            "from locust import FastHttpUser, task, constant\n"
            "class Reader(FastHttpUser):\n"
            "    wait_time = constant(0)\n"
            f"    headers = {{'Cookie': {cookie!r}}} if {cookie!r} else {{}}\n"
            "    @task\n"
            f"    def page(self):\n        self.client.get('/{path}', headers=self.headers)\n")
        subprocess.run([str(BIN / "locust"), "-f", str(locustfile), "--headless", "-u", str(clients),  # noqa: S603
                        "-r", str(clients), "-t", f"{seconds}s", "--host", f"http://{base}", "--csv",
                        str(Path(folder) / "out"), "--only-summary"], capture_output=True, check=False,
                       timeout=seconds + 60)
        lines = (Path(folder) / "out_stats.csv").read_text().splitlines()
        header, total = lines[0].split(","), lines[-1].split(",")
        row = dict(zip(header, total, strict=False))
        return float(row["Requests/s"]), int(row["Failure Count"])


def throughput(db_url: str, cookie: str, pages: list[tuple], secret: str, seconds: int = 10) -> list[dict]:
    """For each (name, codev path, minimal path[, codev's extra environment]): both rates and their ratio,
    measured one after the other. The pages with extra settings (the kept pages off) have a codev of their own,
    served while they are measured."""
    app_env = {"CODEV_DATABASE_URL": db_url, "CODEV_SECRET_KEY": secret, "CODEV_ENV_NAME": "production",
               "CODEV_PAGE_SIZE": "50"}
    minimal_env = {"CODEV_BENCH_DB": db_url}
    results = []
    with served("bench.minimal_app:app", 18072, minimal_env) as base:
        for name, app_path, minimal_path, *extra in pages:
            with served("wsgi:app", 18071, {**app_env, **(extra[0] if extra else {})}) as app_url:
                signed_in(app_url + app_path, cookie)
                signed_in(base + minimal_path, None)
                rate(app_url + app_path, cookie, 2)  # warm both (first requests, caches)
                rate(base + minimal_path, None, 2)
                app_rate, app_errors = rate(app_url + app_path, cookie, seconds)
                minimal_rate, minimal_errors = rate(base + minimal_path, None, seconds)
            results.append({"page": name, "app": app_rate, "minimal": minimal_rate,
                            "ratio": app_rate / minimal_rate if minimal_rate else 0.0,
                            "errors": app_errors + minimal_errors, "generator": generator()})
    return results
