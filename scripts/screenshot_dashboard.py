"""Take docs/dashboard.png: the demo programme's dashboard as an officer sees it, in Debian's Chromium.

    .venv/bin/python scripts/screenshot_dashboard.py [docs/dashboard.png]

Seeds the demo into a temporary SQLite file, serves it on 127.0.0.1 (as the browser tests do), signs in as
the demo officer and shoots the top of the dashboard (the funnel, the envelopes, the money mobilised and
the first breakdowns) at 1280 px.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_support import chromium, demo_server, sign_in  # noqa: E402


def main(out: str) -> None:
    with tempfile.TemporaryDirectory() as folder, demo_server(Path(folder)) as live, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        sign_in(page, live.url, "agent@codev.demo")
        page.goto(f"{live.url}/oversight/dashboard")
        height = page.evaluate("document.querySelector('#groups-title').getBoundingClientRect().bottom + 560")
        page.screenshot(path=out, clip={"x": 0, "y": 0, "width": 1280, "height": int(height)}, full_page=True)
    print(out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "docs" / "dashboard.png"))
