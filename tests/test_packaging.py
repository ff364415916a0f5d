"""The wheel is a production install on its own: compiled French catalogs, templates, static files,
migrations and reference data inside it, nothing read from the checkout (or ../shared) at run time.

The wheel is built from a copy of the working tree without any ``.mo`` file (so the build itself compiles
the catalogs), with the dev venv's setuptools, wheel and babel (no build isolation, nothing fetched). It is
installed alone into a fresh virtual environment; the dependencies come from the dev venv's site-packages on
PYTHONPATH, where the editable install of codev is a ``.pth`` finder that PYTHONPATH does not run, so
``codev`` is the wheel's. From a folder outside the checkout: migrations, then gunicorn, then the home page
asked for in French.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
SITE_PACKAGES = sysconfig.get_paths()["purelib"]  # the dev venv's: flask, sqlalchemy, babel, gunicorn…
KEY = "packaging-test-key-" + "0123456789abcdef" * 3


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "codev", source / "codev", ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "-w", str(out)], cwd=source)
    (built,) = out.glob("codev-*.whl")
    return built


def run(args: list[str], **options) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=180, check=False, **options)  # noqa: S603
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result


def test_the_wheel_carries_compiled_catalogs_and_every_file_the_app_reads(wheel):
    from babel.messages.mofile import read_mo

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        catalog = read_mo(BytesIO(archive.read("codev/translations/fr/LC_MESSAGES/messages.mo")))
    assert catalog.get("Sign in").string == "Se connecter"
    shipped = {str(path.relative_to(ROOT)) for path in (ROOT / "codev").rglob("*")
               if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".mo", ".pyc")}
    documentation = {"codev/oversight/data/README.md"}  # read by people, not by the app
    assert shipped - documentation - names == set()
    for needed in ("codev/templates/base.html", "codev/static/css/codev.css", "codev/migrations/env.py",
                   "codev/migrations/alembic.ini", "codev/core/data/togo_communes.csv",
                   "codev/oversight/data/togo.json"):
        assert needed in names


def test_the_installed_wheel_runs_in_french_outside_the_checkout(wheel, tmp_path):
    started = time.perf_counter()
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = str(venv / "bin" / "python")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index",
         str(wheel)])
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": SITE_PACKAGES, "LANG": "C.UTF-8",
           "CODEV_ENV_NAME": "production", "CODEV_SECRET_KEY": KEY,
           "CODEV_DATABASE_URL": f"sqlite:///{tmp_path / 'codev.sqlite3'}",
           "CODEV_UPLOAD_FOLDER": str(tmp_path / "uploads")}
    where = run([python, "-c", "import codev; print(codev.__file__)"], cwd=outside, env=env).stdout.strip()
    assert Path(where).is_relative_to(venv) and not Path(where).is_relative_to(ROOT)
    run([python, "-m", "flask", "--app", "codev", "db", "upgrade"], cwd=outside, env=env)

    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [python, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "codev:create_app()"],
        cwd=outside, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        page = home_page(port, server)
    finally:
        server.terminate()
        server.wait(timeout=20)
        server.stderr.close()
    assert "Programme de codéveloppement pour les Togolais de l" in page and "Se connecter" in page
    assert "Co-development programme for Togolese abroad" not in page
    assert time.perf_counter() - started < 60


def home_page(port: int, server: subprocess.Popen) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (our own local server)
                assert response.status == 200
                return response.read().decode()
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gunicorn did not answer: {server.stderr.read().decode()[-2000:]}") from None
            time.sleep(0.2)
