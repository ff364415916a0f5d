"""Uploaded files: type checked by content signature, stored under random names, served as downloads."""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from flask import Flask, Response, abort, current_app, request, send_file
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from codev.core.filenames import FORMATS, clean_filename
from codev.core.i18n import gettext as _
from codev.core.models import Attachment
from codev.core.unit_of_work import DomainError
from codev.extensions import db

log = logging.getLogger("codev")


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


class StorageError(RuntimeError):
    """The file store cannot be reached, or refused an operation (operators read this, not users)."""


def check_key(key: str) -> str:
    """``key`` when it is one plain file name (what ``stored_name`` always is); StorageError otherwise."""
    if not key or "/" in key or "\\" in key or key.startswith("."):
        raise StorageError(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    """Where uploaded files' bytes live: keys are the attachments' random ``stored_name``.

    Two backends: ``LocalStorage`` (a folder, the default) and an S3-compatible bucket. The database
    holds what a file is (name, type, size, SHA-256); the store holds only its bytes.
    """

    name: str

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, which must be new."""

    def open(self, key: str) -> BinaryIO:
        """The bytes of ``key`` as a binary stream (FileNotFoundError when absent); the caller closes it."""

    def delete(self, key: str) -> None:
        """Remove ``key``; no error when it is already gone."""

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""

    def keys(self) -> Iterator[str]:
        """Every stored key."""

    def probe(self) -> None:
        """Write, read back and delete a small object; StorageError when the store is not writable."""


class LocalStorage:
    """Files in one folder on this server's disk (``UPLOAD_FOLDER``, default ``instance/uploads``)."""

    name = "local"

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        return self.folder / check_key(key)

    def put(self, key: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self._path(key), "xb") as handle:
            handle.write(data)

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self) -> Iterator[str]:
        if not self.folder.is_dir():
            return iter(())
        return (path.name for path in sorted(self.folder.iterdir()) if path.is_file())

    def probe(self) -> None:
        key = f".probe-{secrets.token_hex(8)}"
        path = self.folder / key
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"codev")
            if path.read_bytes() != b"codev":
                raise StorageError(f"{self.folder} did not give back what was written")
        except OSError as exc:
            raise StorageError(f"{self.folder} is not writable: {exc.strerror or exc}") from exc
        finally:
            path.unlink(missing_ok=True)


def make_storage(config: Mapping[str, Any]) -> Storage:
    """The backend the settings name (``STORAGE_BACKEND``: "local", the default, or "s3").

    StorageError, with the setting to fix, for an unknown backend or "s3" without a bucket; nothing is
    contacted here (``probe`` does that), so a store briefly down does not keep the app from starting.
    """
    backend = str(config.get("STORAGE_BACKEND") or "local").strip().lower()
    if backend == "local":
        return LocalStorage(config["UPLOAD_FOLDER"])
    if backend == "s3":
        from codev.core.storage_s3 import S3Storage  # boto3 is loaded only by the apps that use it

        return S3Storage.from_config(config)
    raise StorageError(f"unknown STORAGE_BACKEND {backend!r}: set CODEV_STORAGE_BACKEND to 'local' or 's3'")


def init_app(app: Flask) -> None:
    """Make the store when the app is made, so that wrong settings stop it at start, not at an upload."""
    app.extensions["codev.storage"] = make_storage(app.config)


def storage() -> Storage:
    """This app's file store, made once from its settings."""
    store = current_app.extensions.get("codev.storage")
    if store is None:
        store = current_app.extensions["codev.storage"] = make_storage(current_app.config)
    return store


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
    storage().put(stored_name, data)
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
    """Remove the stored bytes of an attachment whose row is gone (rolled back, or deleted and committed).

    A store that cannot be reached leaves the bytes behind, logged: no row points at them any more, and
    the person's change (already committed, or failing for its own reason) must not turn into a 503.
    """
    try:
        storage().delete(attachment.stored_name)
    except StorageError as exc:
        log.warning("file left in the store, no attachment refers to it: %s", exc)


def download(attachment: Attachment) -> Response:
    """Serve an attachment as a download, never inline, named after its detected format.

    Called after the view's access check. The bytes are streamed from the store in chunks, never read
    whole; the stream closes when the response ends. A missing file is a 404 (logged: the database
    expects it); a store that cannot be reached raises StorageError, which the error pages turn into 503.
    """
    key = attachment.stored_name
    try:
        stream = storage().open(key)
    except FileNotFoundError:
        log.error("attachment %s: %s is missing from the %s file store", attachment.id, key, storage().name)
        abort(404)
    size = attachment.size
    stored = getattr(stream, "length", None)  # what the store says it holds, when it says
    if stored is not None and stored != size:
        log.error("attachment %s: %s holds %s bytes, the database says %s", attachment.id, key, stored, size)
        size = stored  # the length sent must be what will be sent
    return send_download(stream, attachment.content_type, attachment.display_name, size=size)


def send_download(source: Any, mimetype: str, name: str, *, size: int | None = None) -> Response:
    """The one way a file leaves the app: as an attachment (never inline), sandboxed, not cached.

    ``source`` is a path or an open binary file (a generated export, a stored file's stream; it is
    closed once sent). ``size``, when known, becomes the Content-Length and allows range requests (a
    download resumed on a poor connection).
    """
    response = send_file(source, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0,
                         conditional=size is None)
    if size is not None:
        response.content_length = size
        try:
            response = response.make_conditional(request.environ, accept_ranges=True, complete_length=size)
        except RequestedRangeNotSatisfiable:
            response.close()  # closes the stream
            raise
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
