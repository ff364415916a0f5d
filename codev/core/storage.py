"""Uploaded files: type checked by content signature, stored under random names, served as downloads."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import zipfile
from pathlib import Path
from typing import Any

from flask import Response, current_app, send_file
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from codev.core.filenames import FORMATS, clean_filename
from codev.core.models import Attachment
from codev.core.unit_of_work import DomainError
from codev.extensions import db


class UploadError(DomainError, ValueError):
    """A refused upload; the message is translated and meant for the person who sent it."""


def detect_format(head: bytes, data: bytes) -> str | None:
    """The format named by the file's own bytes (never by its name or the browser's claim)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            if any(n.startswith("word/") for n in names):
                return "docx"
            if any(n.startswith("xl/") for n in names):
                return "xlsx"
    return None


def readable_size(size: int) -> str:
    """1 536 000 → "1.5 MB", 100 000 → "98 kB" (in the reader's number format)."""
    from flask_babel import format_decimal

    if size >= 1024 * 1024:
        return f"{format_decimal(round(size / (1024 * 1024), 1))} MB"
    return f"{max(1, -(-size // 1024))} kB"


def upload_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_upload(
    upload: FileStorage,
    *,
    kind: str,
    allowed: tuple[str, ...],
    max_bytes: int,
    uploaded_by_id: int | None,
) -> Attachment:
    """Check and store ``upload``; returns the (flushed) Attachment or raises UploadError."""
    data = upload.read(max_bytes + 1)
    if not data:
        raise UploadError(_("The file is empty."))
    if len(data) > max_bytes:
        raise UploadError(_("The file is too large (at most %(size)s).", size=readable_size(max_bytes)))
    fmt = detect_format(data[:16], data)
    if fmt not in allowed:
        names = ", ".join(f.upper() for f in allowed)
        raise UploadError(_("This file is not an accepted document. Accepted formats: %(formats)s.", formats=names))
    content_type, extension = FORMATS[fmt]
    stored_name = f"{secrets.token_hex(16)}.{extension}"
    path = upload_folder() / stored_name
    with open(path, "xb") as handle:
        handle.write(data)
    original = clean_filename(upload.filename) or f"document.{extension}"
    attachment = Attachment(
        kind=kind,
        original_name=original[:255],
        stored_name=stored_name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=uploaded_by_id,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def discard_file(attachment: Attachment) -> None:
    """Remove the stored bytes of an attachment whose transaction was rolled back."""
    path = upload_folder() / attachment.stored_name
    if path.exists():
        os.remove(path)


def download(attachment: Attachment) -> Response:
    """Serve an attachment as a download, never inline, named after its detected format."""
    return send_download(upload_folder() / attachment.stored_name, attachment.content_type, attachment.display_name)


def send_download(source: Any, mimetype: str, name: str) -> Response:
    """The one way a file leaves the app: as an attachment (never inline), sandboxed, not cached.

    ``source`` is a path or an open binary file (a generated export; it is closed once sent).
    """
    response = send_file(source, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
