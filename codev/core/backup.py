"""``flask --app codev backup DEST`` and ``restore ARCHIVE``: the database and every stored file, one archive."""

from __future__ import annotations

COMMANDS: list = []  # the click commands this module adds to ``flask --app codev``
