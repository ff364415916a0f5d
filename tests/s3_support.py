"""An S3 store for tests: moto's server on 127.0.0.1, one bucket per test.

``moto_endpoint`` (session) starts ``moto.server.ThreadedMotoServer`` once; ``s3_bucket`` makes a fresh
bucket for a test and empties and removes it afterwards; ``s3_settings(endpoint, bucket)`` is the app
configuration that points codev at it. tests/conftest.py imports the fixtures, so any test (the
two-server test too) can ask for them; ``CODEV_TEST_STORAGE=s3`` runs every app fixture on a bucket.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

# One moto server per pytest-xdist worker: gw0 on the base port, gw1 on the next, and so on.
MOTO_PORT = int(os.environ.get("CODEV_TEST_MOTO_PORT", "9100")) + int(
    os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
CREDENTIALS = {"aws_access_key_id": "codev-test", "aws_secret_access_key": "codev-test-secret"}  # noqa: S105
REGION = "us-east-1"


def free_port() -> int:
    """A port nobody listens on now (the system's choice), for a server of one test."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_moto(port: int, timeout: float = 30):
    """A moto S3 server on 127.0.0.1:port, started; call ``.stop()`` when done. A port already taken fails
    here, within ``timeout`` (moto's own ``start()`` waits for ever for a server that could not bind)."""
    from threading import Thread

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server._thread = Thread(target=server._server_entry, daemon=True)
    server._thread.start()
    if not server._server_ready_event.wait(timeout):
        raise RuntimeError(f"moto's S3 server did not start on 127.0.0.1:{port} in {timeout:.0f} s")
    return server


_clients: dict[str, object] = {}


def s3_client(endpoint: str):
    """A boto3 client on the test server, made once per endpoint (building one takes ~0.1 s)."""
    import boto3

    if endpoint not in _clients:
        _clients[endpoint] = boto3.session.Session().client("s3", endpoint_url=endpoint, region_name=REGION,
                                                             **CREDENTIALS)
    return _clients[endpoint]


def s3_settings(endpoint: str, bucket: str, **overrides) -> dict:
    """The app settings for ``bucket`` on the test server."""
    return {
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": REGION,
        "S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "S3_PREFIX": "uploads/",
        "S3_ADDRESSING_STYLE": "path",
        "S3_TIMEOUT": 5,
        **overrides,
    }


def create_bucket(endpoint: str) -> str:
    name = f"codev-test-{secrets.token_hex(6)}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def remove_bucket(endpoint: str, name: str) -> None:
    client = s3_client(endpoint)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", ()):
            client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    """Every key in the bucket, prefix included, sorted (read straight from the server, not through codev)."""
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))


def bucket_object(endpoint: str, bucket: str, key: str) -> bytes:
    body = s3_client(endpoint).get_object(Bucket=bucket, Key=key)["Body"]
    with body:
        return body.read()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of moto's S3 server, started once for the session."""
    server = start_moto(MOTO_PORT)
    endpoint = f"http://127.0.0.1:{MOTO_PORT}"
    try:
        yield endpoint
    finally:
        from codev.core.storage_s3 import close_clients

        close_clients()  # the apps' clients, and ours: no connection left open
        client = _clients.pop(endpoint, None)
        if client is not None:
            client.close()
        server.stop()


@pytest.fixture
def s3_bucket(moto_endpoint) -> Iterator[str]:
    """A new, empty bucket for this test; gone afterwards."""
    name = create_bucket(moto_endpoint)
    yield name
    remove_bucket(moto_endpoint, name)
