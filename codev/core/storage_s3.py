"""The S3-compatible file store (``STORAGE_BACKEND = "s3"``) and ``flask --app codev storage-migrate``."""

from __future__ import annotations

COMMANDS: list = []  # the click commands this module adds to ``flask --app codev``
