"""Redirect targets checked against open redirects."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from codev.core.forms import text_problem


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, otherwise None.

    Refused: anything longer than 2000 characters, control, bidirectional or invalid characters,
    whitespace inside, backslashes, and whatever a browser could read as another site once normalised
    ("//evil", "/／evil" whose full-width slash NFKC turns into "//evil").
    """
    if not isinstance(target, str) or not target or len(target) > 2000:
        return None
    target = target.strip()
    if text_problem(target) or any(c.isspace() for c in target):
        return None
    for candidate in (target, unicodedata.normalize("NFKC", target)):
        if not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
            return None
        try:
            parts = urlsplit(candidate)
        except ValueError:
            return None
        if parts.scheme or parts.netloc:
            return None
    return target
