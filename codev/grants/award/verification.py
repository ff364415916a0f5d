"""Public verification of an award letter: what the page shows, and whether a file is the letter.

Anyone may look a letter up by its reference (printed on it, in its QR code). The page shows the
letter's status and key facts — association, project, commune, amount — and both fingerprints; no
personal data. A file is "the letter" when its SHA-256 equals the stored PDF's. Checks are throttled
per address (LETTER_VERIFY_MAX_PER_IP per LETTER_VERIFY_THROTTLE_WINDOW).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import IO

from flask import current_app

from codev.core import throttle
from codev.grants.models import AwardLetter, LetterStatus

CHUNK = 64 * 1024
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


# Hashing an upload costs; anyone may ask, so each address gets so many checks per window.
CHECK_BY_IP = throttle.Rule("verify.ip", "LETTER_VERIFY_MAX_PER_IP", "LETTER_VERIFY_THROTTLE_WINDOW")


@dataclass(frozen=True)
class FileCheck:
    matches: bool
    too_large: bool = False
    sha256: str = ""


def file_sha256(stream: IO[bytes], max_bytes: int) -> tuple[str, bool]:
    """(hex SHA-256, too large) of ``stream``, read in chunks and never more than ``max_bytes``."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            return "", True
        digest.update(chunk)
    return digest.hexdigest(), False


def claim_check(ip: str | None) -> throttle.Claim:
    """A slot to check one uploaded file from ``ip``."""
    return throttle.claim((CHECK_BY_IP, throttle.address(ip)))


def check_file(letter: AwardLetter, stream: IO[bytes]) -> FileCheck:
    """Whether the uploaded ``stream`` is exactly the PDF stored for ``letter``."""
    limit = current_app.config.get("LETTER_VERIFY_MAX_BYTES", DEFAULT_MAX_BYTES)
    sha, too_large = file_sha256(stream, limit)
    if too_large:
        return FileCheck(False, too_large=True)
    return FileCheck(hmac.compare_digest(sha, letter.sha256), sha256=sha)


def public_facts(letter: AwardLetter) -> dict:
    """What the public page shows about ``letter`` (nothing personal)."""
    grant = letter.grant
    project = grant.project
    return {
        "reference": letter.reference,
        "status": LetterStatus(letter.status),
        "status_label": LetterStatus(letter.status).label,
        "status_reason": letter.status_reason,
        "status_changed_at": letter.status_changed_at,
        "issued_at": letter.issued_at,
        "version": letter.version,
        "language": letter.language,
        "association": project.association.display_name,
        "project_title": project.title,
        "project_reference": project.reference,
        "commune": project.commune,
        "prefecture": project.prefecture,
        "amount_xof": grant.amount_xof,
        "signatory": f"{letter.signatory_name}, {letter.signatory_title}",
        "sha256": letter.sha256,
        "content_sha256": letter.content_sha256,
    }
