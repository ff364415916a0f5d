"""The S3-compatible file store (``STORAGE_BACKEND = "s3"``) and ``flask --app codev storage-migrate``.

Any store that speaks the S3 API serves: AWS, MinIO, OVH, Scaleway, Ceph. Keys are the attachments'
random ``stored_name`` under ``S3_PREFIX``. Errors come out as the file store's own: a missing object is
``FileNotFoundError`` (a 404 page), anything else — the store down, a refused credential, no such
bucket — is ``StorageError`` (a 503 page, the cause in the log).

``put`` never overwrites: it sends ``If-None-Match: *``, which AWS (since 2024), MinIO and moto honour
with 412 when the key exists. A store that answers 501 to the header gets a HEAD then a plain PUT
(racy, but the keys are 128 random bits: the refusal guards against a bug, not a collision).
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import secrets
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from codev.core.storage import LocalStorage, StorageError, check_key

log = logging.getLogger("codev")

CHUNK = 64 * 1024  # bytes per read from the store's response
MISSING = {"NoSuchKey", "404", "NotFound"}

# One client per distinct settings in a process: building one costs ~0.1 s (botocore reads the S3
# service model), and a client is thread-safe. Production makes one; the tests make an app per test.
_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


def _client(endpoint_url: str | None, region: str | None, access_key_id: str | None,
            secret_access_key: str | None, addressing_style: str, timeout: float, max_attempts: int) -> Any:
    import boto3  # here, so an app on local files never loads boto3
    from botocore.config import Config

    settings = (endpoint_url, region, access_key_id, secret_access_key, addressing_style, timeout, max_attempts)
    with _clients_lock:
        if settings not in _clients:
            config = Config(
                s3={"addressing_style": addressing_style},
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": max_attempts, "mode": "standard"},
                # botocore's default CRC trailers (2025) are refused by several S3-compatible stores; each
                # put carries a Content-MD5 instead, which every S3 store checks.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
            # A session of its own: boto3's default session is shared and not thread-safe; the client is.
            _clients[settings] = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key, config=config,
            )
        return _clients[settings]


def close_clients() -> None:
    """Close every client made so far (their connections); the next S3Storage makes a new one."""
    with _clients_lock:
        while _clients:
            _clients.popitem()[1].close()


class S3Storage:
    """Files in one bucket of an S3-compatible store, shared by every app server."""

    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        addressing_style: str = "auto",
        timeout: float = 10,
        max_attempts: int = 3,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.lstrip("/")
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        self.endpoint_url = endpoint_url
        self.client = _client(endpoint_url, region, access_key_id, secret_access_key, addressing_style,
                              timeout, max_attempts)
        self._conditional_put = True

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> S3Storage:
        """The bucket the settings name; StorageError when S3_BUCKET is missing."""
        bucket = config.get("S3_BUCKET")
        if not bucket:
            raise StorageError(
                "STORAGE_BACKEND is 's3' but S3_BUCKET is not set: set CODEV_S3_BUCKET (and CODEV_S3_ENDPOINT_URL, "
                "CODEV_S3_REGION, credentials) or go back to STORAGE_BACKEND 'local'."
            )
        return cls(
            str(bucket),
            prefix=str(config.get("S3_PREFIX") or ""),
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,
            region=config.get("S3_REGION") or None,
            access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
            addressing_style=config.get("S3_ADDRESSING_STYLE") or "auto",
            timeout=float(config.get("S3_TIMEOUT") or 10),
            max_attempts=int(config.get("S3_MAX_ATTEMPTS") or 3),
        )

    def __repr__(self) -> str:
        where = self.endpoint_url or "AWS"
        return f"<S3Storage s3://{self.bucket}/{self.prefix} at {where}>"

    def _failed(self, action: str, key: str, exc: Exception) -> StorageError:
        """The error an operator reads: what was tried, where, and what the store said."""
        return StorageError(f"S3 {action} s3://{self.bucket}/{key} at {self.endpoint_url or 'AWS'}: "
                            f"{_reason(exc)}")

    def put(self, key: str, data: bytes) -> None:
        self._put(self.prefix + check_key(key), data)

    def open(self, key: str) -> BinaryIO:
        return self._open(self.prefix + check_key(key))

    def delete(self, key: str) -> None:
        self._delete(self.prefix + check_key(key))

    def exists(self, key: str) -> bool:
        return self._exists(self.prefix + check_key(key))

    # The same on whole keys (the probe's is not a stored name).

    def _put(self, key: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        if not self._conditional_put and self._exists(key):
            raise FileExistsError(f"{key} is already stored")
        extra = {"IfNoneMatch": "*"} if self._conditional_put else {}
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324 (an integrity check)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentMD5=md5, **extra)
        except ClientError as exc:
            code = _code(exc)
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise FileExistsError(f"{key} is already stored") from exc
            if code in ("NotImplemented", "501") and self._conditional_put:
                log.warning("the S3 store refuses If-None-Match: checking with HEAD before each upload")
                self._conditional_put = False
                self._put(key, data)
                return
            raise self._failed("put", key, exc) from exc
        except BotoCoreError as exc:
            raise self._failed("put", key, exc) from exc

    def _open(self, key: str) -> BinaryIO:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in MISSING:
                raise FileNotFoundError(key) from exc
            raise self._failed("get", key, exc) from exc
        except BotoCoreError as exc:
            raise self._failed("get", key, exc) from exc
        body = _Body(answer["Body"], self, key)
        stream = io.BufferedReader(body, buffer_size=CHUNK)
        stream.length = answer.get("ContentLength")  # type: ignore[attr-defined]  (download() compares it)
        return stream  # type: ignore[return-value]

    def _delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)  # absent: S3 answers 204 too
        except (BotoCoreError, ClientError) as exc:
            raise self._failed("delete", key, exc) from exc

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in MISSING:
                return False
            raise self._failed("head", key, exc) from exc
        except BotoCoreError as exc:
            raise self._failed("head", key, exc) from exc
        return True

    def keys(self) -> Iterator[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        try:
            for page in pages:
                for item in page.get("Contents", ()):
                    name = item["Key"][len(self.prefix):]
                    # Deeper "folders" are not ours; a probe in progress is not a file.
                    if name and "/" not in name and not name.startswith("."):
                        yield name
        except (BotoCoreError, ClientError) as exc:
            raise self._failed("list", self.prefix, exc) from exc

    def probe(self) -> None:
        key = f"{self.prefix}.probe-{secrets.token_hex(8)}"  # keys() does not list it
        written = b"codev probe " + secrets.token_bytes(8)
        self._put(key, written)
        try:
            with self._open(key) as stream:
                if stream.read() != written:
                    raise StorageError(f"s3://{self.bucket}/{self.prefix} did not give back what was written")
        except FileNotFoundError as exc:
            raise StorageError(f"s3://{self.bucket}/{self.prefix}: an object just written is not found") from exc
        finally:
            self._delete(key)


class _Body(io.RawIOBase):
    """The store's response body, read in chunks; closing it gives the connection back."""

    def __init__(self, body: Any, store: S3Storage, key: str) -> None:
        self._body = body
        self._store = store
        self._key = key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._body.read(len(buffer))
        except Exception as exc:  # urllib3 and botocore read errors share no base class but Exception
            raise self._store._failed("read", self._key, exc) from exc
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        return f"{status} {error.get('Code', '')} {error.get('Message', '')}".strip()
    return f"{exc.__class__.__name__}: {exc}"


# ---------------------------------------------------------------------------------------------------------
# flask --app codev storage-migrate


def _sha256(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    with stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@click.command("storage-migrate")
@click.option("--dry-run", is_flag=True, help="Check and count, copy nothing.")
@click.option("--progress-every", default=100, show_default=True, help="A progress line every N files.")
@with_appcontext
def storage_migrate_command(dry_run: bool, progress_every: int) -> None:
    """Copy every attachment from UPLOAD_FOLDER into the S3 bucket, checking each one's SHA-256.

    Reads the S3_* settings whatever STORAGE_BACKEND says, so it can run before the switch and again
    after it. A file is copied only when its local bytes match the SHA-256 the database recorded, then
    read back from the bucket and checked again; a file already in the bucket with the right hash is
    skipped, so the command can be run again. It never deletes a local file: remove UPLOAD_FOLDER
    yourself once the summary shows no mismatch and nothing missing. Exit status 1 on any mismatch or
    missing file.
    """
    from codev.core.models import Attachment
    from codev.extensions import db

    config = current_app.config
    source = LocalStorage(config["UPLOAD_FOLDER"])
    try:
        target = S3Storage.from_config(config)
        if not dry_run:
            target.probe()
    except StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = db.session.execute(
        select(Attachment.id, Attachment.stored_name, Attachment.sha256).order_by(Attachment.id)
    ).all()
    db.session.rollback()  # nothing more is read: no transaction held open while copying
    verb = "would copy" if dry_run else "copying"
    click.echo(f"{len(rows)} attachments in the database; {verb} from {source.folder} to {target!r}.")
    counts = {"copied": 0, "already there": 0, "mismatched": 0, "missing from disk": 0}
    try:
        for done, (attachment_id, key, expected) in enumerate(rows, 1):
            outcome, problem = _migrate_one(source, target, key, expected, dry_run)
            counts[outcome] += 1
            if problem:
                click.echo(f"  attachment {attachment_id} ({key}): {problem}", err=True)
            if progress_every and done % progress_every == 0:
                click.echo(f"  {done}/{len(rows)} checked")
    except StorageError as exc:
        _summary(counts, dry_run)
        raise click.ClickException(f"stopped: {exc}") from exc
    known = {key for _, key, _ in rows}
    strays = sum(1 for key in source.keys() if key not in known and not key.startswith("."))
    _summary(counts, dry_run)
    if strays:
        files = "file belongs" if strays == 1 else "files belong"
        click.echo(f"{strays} {files} to no attachment in {source.folder} (not copied).")
    click.echo(f"Local files are never deleted by this command: remove {source.folder} yourself once the "
               "bucket is checked." if not dry_run else "Dry run: nothing was written.")
    if counts["mismatched"] or counts["missing from disk"]:
        raise SystemExit(1)


def _migrate_one(source: LocalStorage, target: S3Storage, key: str, expected: str,
                 dry_run: bool) -> tuple[str, str | None]:
    """One attachment's outcome (a key of the summary) and, when something is wrong, the words for it."""
    try:
        in_bucket = _sha256(target.open(key))
    except FileNotFoundError:
        in_bucket = None
    if in_bucket == expected:
        return "already there", None
    if in_bucket is not None:
        return "mismatched", f"the bucket holds other bytes (SHA-256 {in_bucket[:12]}…, expected {expected[:12]}…)"
    path = Path(source.folder) / key
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "missing from disk", f"not in {source.folder} nor in the bucket"
    local = hashlib.sha256(data).hexdigest()
    if local != expected:
        return "mismatched", (f"the local file is corrupted (SHA-256 {local[:12]}…, expected {expected[:12]}…); "
                              "not copied")
    if dry_run:
        return "copied", None
    target.put(key, data)
    read_back = _sha256(target.open(key))
    if read_back != expected:
        target.delete(key)  # never leave a bad copy for the next run to trust
        return "mismatched", f"read back from the bucket with SHA-256 {read_back[:12]}…; removed from the bucket"
    return "copied", None


def _summary(counts: dict[str, int], dry_run: bool) -> None:
    copied = "to copy" if dry_run else "copied"
    click.echo(f"Summary: {counts['copied']} {copied}, {counts['already there']} already there, "
               f"{counts['mismatched']} mismatched, {counts['missing from disk']} missing from disk.")


COMMANDS: list = [storage_migrate_command]  # the click commands this module adds to ``flask --app codev``
