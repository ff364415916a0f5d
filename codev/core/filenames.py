"""Names of files as people see them: what an uploader called a file, made safe to show and to save.

A name is the uploader's to choose, so it may lie. ``devis.html`` may hold a PDF; ``rapport\u202efdp.exe``
shows as ``rapportexe.pdf`` in a right-to-left override. Pages and downloads therefore use the name
without control, format (bidi) or private characters, and with the extension of the format detected
from the file's own bytes, never the one typed.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that mean something to a file system or a shell on some platform.
_RESERVED = re.compile(r'[\\/:*?"<>|]+')
_SPACES = re.compile(r"\s+")
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
MAX_STEM = 120

# The formats uploads may have: name → (content type, extension).
FORMATS = {
    "pdf": ("application/pdf", "pdf"),
    "jpeg": ("image/jpeg", "jpg"),
    "png": ("image/png", "png"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
EXTENSIONS = {content_type: extension for content_type, extension in FORMATS.values()}


def clean_filename(name: str | None) -> str:
    """``name`` without directories, control or bidi characters, reserved signs or edge dots."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(" " if c in "\t\n\r" else c for c in text
                   if unicodedata.category(c) not in _HIDDEN_CATEGORIES or c in "\t\n\r")
    text = _RESERVED.sub("_", text)
    text = _SPACES.sub(" ", text).strip(" ._")
    return text


def download_name(name: str | None, extension: str) -> str:
    """The name a download gets: the uploader's stem, cleaned, with the detected format's extension."""
    cleaned = clean_filename(name)
    stem, dot, typed = cleaned.rpartition(".")
    if not dot or not stem or " " in typed or len(typed) > 8:
        stem = cleaned  # no extension typed ("Statuts 2024") or a dot inside a sentence
    stem = stem.strip(" ._")[:MAX_STEM].rstrip(" ._") or "document"
    return f"{stem}.{extension}"


def name_for(name: str | None, content_type: str) -> str:
    """The name to show and download a stored file under, from its detected content type."""
    return download_name(name, EXTENSIONS.get(content_type, "bin"))
