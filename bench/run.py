"""The benchmark of issue 11: ``make bench`` (or ``python bench/run.py [--sizes "1000 10000 50000"]``).

For each size N it seeds a fresh SQLite database with ``flask --app codev seed-synthetic --projects N``
(and a PostgreSQL one at 10 000 when ``CODEV_BENCH_POSTGRES_URL`` is set: its public schema is dropped
and made again), then measures every page each role uses through the Flask test client (p50/p95 of the
server time, SQL statements counted with a ``before_cursor_execute`` listener, bytes of HTML). On the
largest SQLite database it then measures throughput under gunicorn against a minimal app
(:mod:`bench.load`), award letters per second across processes, and the peak memory of the exports.
The table is printed and written to ``bench/results/latest.md`` with the machine, the date and the load
average beside each section (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from bench.pages import figures_page, measure_pages  # noqa: E402

BIN = Path(sys.executable).parent
SECRET = "bench-secret-key-not-for-production"  # noqa: S105 (a throwaway key for the benchmark's own servers)
TARGET_P95_MS, TARGET_RANKING_MS = 50, 150  # the committee ranking, the dashboard and its maps: 150 ms


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout  # noqa: S607
        found = re.search(r"Model name:\s+(.+)", out)
        model = found.group(1).strip() if found else ""
    except OSError:
        pass
    memory = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    return f"{os.cpu_count()} CPUs ({model or platform.processor()}), {memory} RAM, Python {platform.python_version()}"


def flask(env: dict, *args: str) -> str:
    result = subprocess.run([str(BIN / "flask"), "--app", "codev", *args], cwd=ROOT,  # noqa: S603
                            env={**os.environ, "CODEV_ENV_NAME": "development", **env},
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def seed(url: str, n: int) -> dict:
    """A fresh database of ``n`` synthetic projects; returns how long the seeding took."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        reset_postgres(url)
    env = {"CODEV_DATABASE_URL": url, "CODEV_ENV_NAME": "development"}
    flask(env, "db", "upgrade")
    started = time.perf_counter()
    out = flask(env, "seed-synthetic", "--projects", str(n))
    return {"seconds": time.perf_counter() - started, "summary": out.strip().splitlines()[-2], "load": loadavg()}


def _say(m) -> None:
    print(f"  {m.page.role:<11} {m.page.name:<32} p50 {m.p50_ms:8.1f} ms  p95 {m.p95_ms:8.1f} ms  "
          f"{m.statements:3d} SQL  {m.status}", flush=True)


def measure(url: str) -> tuple[list, dict]:
    from codev import create_app
    from codev.core import collector
    from codev.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "ENV_NAME": "development",
                      "PAGE_SIZE": 50, "WTF_CSRF_ENABLED": True})
    collector.settle()  # as wsgi.py does in each worker (codev.core.collector)
    started_load = loadavg()
    facts: dict = {}
    results = measure_pages(app, db, facts=facts, progress=_say)
    with app.app_context():
        db.engine.dispose()
    # The oversight figures and the kept pages once more, computed on every request (the first request
    # after a write).
    cold = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "ENV_NAME": "development",
                       "PAGE_SIZE": 50, "WTF_CSRF_ENABLED": True, "OVERSIGHT_CACHE_SECONDS": 0,
                       "PAGE_CACHE_SECONDS": 0})
    collector.settle()
    results += measure_pages(cold, db, only=figures_page, suffix=" (cold)", progress=_say)
    with cold.app_context():
        db.engine.dispose()
    return results, {"load_before": started_load, "load_after": loadavg(), "ranked": facts.get("ranked")}


def session_cookie(url: str) -> tuple[str, int]:
    """The officer's session cookie, signed as codev signs it (for the load generator)."""
    from sqlalchemy import text

    from codev import create_app
    from codev.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "ENV_NAME": "development"})
    with app.app_context():
        officer, version = db.session.execute(text(
            "SELECT id, session_version FROM users WHERE role = 'officer' ORDER BY id LIMIT 1")).one()
        project = db.session.execute(text("SELECT project_id FROM grants WHERE status = 'active' ORDER BY id "
                                          "LIMIT 1")).scalar()
        db.engine.dispose()
    serializer = app.session_interface.get_signing_serializer(app)
    value = serializer.dumps({"_user_id": f"{officer}:{version}", "_fresh": True})
    return f"{app.config['SESSION_COOKIE_NAME']}={value}", project


def export_memory(url: str) -> list[dict]:
    found = []
    for path in ("/oversight/exports/projects.csv", "/oversight/exports/projects.xlsx"):
        result = subprocess.run([sys.executable, str(ROOT / "bench" / "export_memory.py"), url, path],  # noqa: S603
                                cwd=ROOT, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            found.append({"path": path, "error": (result.stderr or result.stdout).strip().splitlines()[-1:]})
            continue
        found.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return found


def letters(url: str) -> dict | None:
    """Letters per second re-rendered in one process and in two (``flask rerender-letters --dry-run``)."""
    figures = {}
    for processes in (1, 2):
        try:
            out = flask({"CODEV_DATABASE_URL": url}, "rerender-letters", "--dry-run", "--limit", "80",
                        "--processes", str(processes))
        except RuntimeError as exc:
            return {"error": str(exc).splitlines()[0]}
        found = re.search(r"(\d+) letters per minute", out)
        figures[processes] = int(found.group(1)) / 60 if found else 0.0  # letters per second
    figures["load"] = loadavg()
    # The app's path against WeasyPrint alone on the same HTML (scripts/bench_letters.py, make bench-letters).
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_letters.py"), "-n", "20"],  # noqa: S603
                            cwd=ROOT, capture_output=True, text=True, check=False)
    figures["path"] = [line for line in result.stdout.splitlines() if line.strip()][-4:]
    return figures


# --- the report --------------------------------------------------------------------------------


def report(args, runs: dict, seeds: dict, loads: dict, extra: dict) -> str:
    sizes = list(runs)
    lines = [f"# Benchmark (issue 11) — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
             f"Machine: {machine()}. Load average when the run began: {extra['load_start']}.", "",
             "## Seeding (`flask --app codev seed-synthetic --projects N`)", "",
             "| database | seconds | what | load average |", "|---|---|---|---|"]
    for label, s in seeds.items():
        lines.append(f"| {label} | {s['seconds']:.1f} | {s['summary']} | {s['load']} |")
    lines += ["", "## Pages: p50 / p95 server time (ms) and SQL statements, Flask test client", ""]
    header = "| role | page | " + " | ".join(sizes) + " |"
    lines += [header, "|---|---|" + "---|" * len(sizes)]
    first = runs[sizes[0]]
    misses = []
    for index, m in enumerate(first):
        cells = []
        for size in sizes:
            r = runs[size][index]
            if r.absent:
                cells.append("absent")
                continue
            flag = "" if r.status == 200 else f" **{r.status}**"
            varied = "~" if r.statements_varied else ""
            cells.append(f"{r.p50_ms:.0f} / {r.p95_ms:.0f} · {r.statements}{varied} SQL{flag}")
            slower = "ranking" in r.page.name or r.page.url.startswith(("/oversight/dashboard", "/oversight/maps"))
            target = (TARGET_RANKING_MS if slower
                      else TARGET_P95_MS)
            if size in extra["target_sizes"] and r.p95_ms > target:
                misses.append(f"{r.page.role} · {r.page.name} at {size}: p95 {r.p95_ms:.0f} ms (target {target})")
        lines.append(f"| {m.page.role} | {m.page.name} | " + " | ".join(cells) + " |")
    counts = [m for m in sizes if "SQLite" in m]
    if len(counts) >= 2:
        low, high = runs[counts[0]], runs[counts[-1]]
        for a, b in zip(low, high, strict=True):
            # A deep page past the end of the smaller list reads the last page instead (two statements more).
            past_the_end = "page=" in a.page.url and b.statements < a.statements
            if not a.absent and a.statements != b.statements and not past_the_end:
                misses.append(f"{a.page.role} · {a.page.name}: {a.statements} SQL at {counts[0]}, "
                              f"{b.statements} at {counts[-1]}")
    lines += ["", "Projects in the ranking of the session under way: " + "; ".join(
        f"{s}: {loads[s]['ranked']}" for s in sizes) + ".",
              "", "Load average during each size: " + "; ".join(f"{s}: {loads[s]['load_before']} → "
                                                              f"{loads[s]['load_after']}" for s in sizes), ""]
    if extra.get("throughput"):
        lines += ["## Throughput: gunicorn, 2 workers, 16 concurrent clients "
                  f"({extra['throughput'][0]['generator']}, {args.seconds} s each, load {extra['throughput_load']})",
                  "", "| page | codev req/s | minimal req/s | ratio | non-2xx |", "|---|---|---|---|---|"]
        for t in extra["throughput"]:
            lines.append(f"| {t['page']} | {t['app']:.1f} | {t['minimal']:.1f} | {t['ratio']:.2f} | {t['errors']} |")
        lines.append("")
    if extra.get("letters"):
        lt = extra["letters"]
        lines += ["## Award letters re-rendered (`flask --app codev rerender-letters --dry-run --limit 80`)", ""]
        if "error" in lt:
            lines.append(f"Not measured: {lt['error']}")
        else:
            lines.append(f"1 process: {lt[1]:.1f} letters/s; 2 processes: {lt[2]:.1f} letters/s "
                         f"(× {lt[2] / lt[1]:.2f}); load average {lt['load']}.")
            lines += ["", "The app's path against WeasyPrint alone (`scripts/bench_letters.py -n 20`):", "", "```",
                      *lt.get("path", []), "```"]
        lines.append("")
    if extra.get("exports") is not None:
        lines += ["## Exports: peak resident memory of one download (own process)", "",
                  "| export | status | rows | MB received | seconds | peak RSS before → after (MB) |",
                  "|---|---|---|---|---|---|"]
        for e in extra["exports"]:
            if "error" in e:
                lines.append(f"| {e['path']} | failed: {' '.join(e['error'])} | | | | |")
            else:
                rows = e["lines"] - 1 if e["path"].endswith(".csv") else "—"  # an XLSX is zipped: no lines to count
                lines.append(f"| {e['path']} | {e['status']} | {rows} | {e['bytes'] / 1e6:.1f} | "
                             f"{e['seconds']:.1f} | {e['baseline_mb']:.0f} → {e['peak_mb']:.0f} |")
        lines.append("")
    lines += ["## Targets missed", ""] + ([f"- {m}" for m in misses] or ["None."]) + [""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "1000 10000 50000"))
    parser.add_argument("--postgres", default=os.environ.get("CODEV_BENCH_POSTGRES_URL"))
    parser.add_argument("--workdir", default=str(ROOT / "instance" / "bench"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "latest.md"))
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load per page and app")
    parser.add_argument("--skip-load", action="store_true", help="no throughput, letters or export figures")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in re.split(r"[ ,]+", args.sizes.strip()) if s]
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    extra = {"load_start": loadavg(), "target_sizes": set()}
    runs, seeds, loads = {}, {}, {}
    databases = [(f"{n:,} SQLite".replace(",", " "), f"sqlite:///{Path(args.workdir) / f'bench-{n}.sqlite3'}", n)
                 for n in sizes]
    if args.postgres:
        databases.append(("10 000 PostgreSQL", args.postgres, 10_000))
    for label, url, n in databases:
        print(f"== {label}: seeding", flush=True)
        seeds[label] = seed(url, n)
        print(f"   {seeds[label]['summary']} ({seeds[label]['seconds']:.1f} s, load {seeds[label]['load']})")
        runs[label], loads[label] = measure(url)
        if n == 50_000 or "PostgreSQL" in label:
            extra["target_sizes"].add(label)
    largest = f"sqlite:///{Path(args.workdir) / f'bench-{max(sizes)}.sqlite3'}"
    if not args.skip_load:
        print("== throughput", flush=True)
        cookie, project = session_cookie(largest)
        extra["throughput"] = load.throughput(largest, cookie, [
            ("officer's project list (50 rows)", "/projects/", "/projects/"),
            # the same list rendered for every request, as the first after any write finds it
            ("officer's project list (50 rows), rendered each time", "/projects/", "/projects/",
             {"CODEV_PAGE_CACHE_SECONDS": "0"}),
            ("project page", f"/projects/{project}", f"/projects/{project}"),
        ], SECRET, args.seconds)
        extra["throughput_load"] = loadavg()
        print("== letters", flush=True)
        extra["letters"] = letters(largest)
        print("== exports", flush=True)
        extra["exports"] = export_memory(largest)
    text = report(args, runs, seeds, loads, extra)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print()
    print(text)


if __name__ == "__main__":
    main()
