"""Take the README's two phone screenshots (360 × 780 px), in Debian's Chromium:

    .venv/bin/python scripts/screenshots.py [--port 9462] [folder, default docs/img]

- ``phone-project-fr.png``: a member of the demo association reading her funded project in French, at its
  financing plan (the table folded into labelled cards);
- ``phone-verify-en.png``: anyone checking an award letter's public verification page, in English.

Seeds the demo into a temporary SQLite file and serves it on 127.0.0.1 (as the browser tests do). Each shot
is one screen (device scale 2, so 720 × 1 560 pixels), reduced to a 256-colour palette to stay small.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_support import chromium, demo_server, sign_in  # noqa: E402

PHONE = {"width": 360, "height": 780}


def facts(live) -> tuple[int, str]:
    """The demo association's funded project (with its plan) and a valid English letter's reference."""
    from sqlalchemy import select

    from codev.accounts.models import User
    from codev.extensions import db
    from codev.grants.models import AwardLetter, Grant
    from codev.projects.models import Project

    with live.db.app_context():
        member = db.session.scalar(select(User).where(User.email == "association@codev.demo"))
        project = db.session.scalar(
            select(Project.id).join(Grant, Grant.project_id == Project.id)
            .where(Project.association_id == member.association_id).order_by(Project.id)
        )
        letters = db.session.scalars(select(AwardLetter).order_by(AwardLetter.id.desc())).all()
        letter = next(x for x in letters if x.language == "en" and x.status == "valid")
        return project, letter.reference


def shrink(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def shoot(page, path: Path, scroll_to: str | None = None) -> None:
    page.wait_for_load_state("load")
    if scroll_to:
        page.evaluate("(s) => { const e = document.querySelector(s); window.scrollTo(0, "
                      "e.getBoundingClientRect().top + window.scrollY - 8); }", scroll_to)
    page.screenshot(path=str(path))
    shrink(path)
    print(f"{path} {path.stat().st_size // 1024} kB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(ROOT / "docs" / "img"))
    parser.add_argument("--port", type=int, default=9462)
    args = parser.parse_args()
    out = Path(args.folder)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, demo_server(Path(folder), port=args.port) as live, \
            chromium() as browser:
        project, reference = facts(live)
        member = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="fr-FR")
        page = member.new_page()
        sign_in(page, live.url, "association@codev.demo")
        page.goto(f"{live.url}/projects/{project}")
        shoot(page, out / "phone-project-fr.png", "#plan")
        member.close()
        visitor = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="en-GB",
                                      extra_http_headers={"Accept-Language": "en"})
        page = visitor.new_page()
        page.goto(f"{live.url}/verify/{reference}")
        shoot(page, out / "phone-verify-en.png")
        visitor.close()


if __name__ == "__main__":
    main()
