"""Peak memory of one export, in a process of its own: ``python bench/export_memory.py DB_URL PATH``.

Builds the app on the database, signs an officer in through the test client, reads the export's body
chunk by chunk (as a client would download it) and prints, as JSON, the process's peak resident memory
before and after, the bytes and rows received and the time taken.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(db_url: str, path: str) -> None:
    from sqlalchemy import text

    from codev import create_app
    from codev.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "bench", "ENV_NAME": "development"})
    with app.app_context():
        officer, version = db.session.execute(text(
            "SELECT id, session_version FROM users WHERE role = 'officer' ORDER BY id LIMIT 1")).one()
        db.session.remove()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{officer}:{version}"
        session["_fresh"] = True
    client.get("/oversight/exports")  # the app's own warm-up
    before = peak_mb()
    started = time.perf_counter()
    response = client.get(path, buffered=False)
    size, lines = 0, 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    print(json.dumps({"status": response.status_code, "path": path, "bytes": size, "lines": lines,
                      "seconds": time.perf_counter() - started, "baseline_mb": before, "peak_mb": peak_mb()}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
