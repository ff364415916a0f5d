"""The S3 file store: the same contract as the folder, uploads and downloads through the pages on a bucket
(moto's server), a missing object (404) and a store that is down (503), the settings checked at start.

storage-migrate has its own file, tests/test_storage_migrate.py.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from codev import create_app
from codev.core import storage as storage_module
from codev.core.storage import LocalStorage, StorageError, make_storage, storage
from codev.core.storage_s3 import S3Storage
from codev.projects.models import Project
from tests import factories
from tests.factories_associations import member_of, upload
from tests.factories_projects import PDF_BYTES, ready_project
from tests.s3_support import (
    bucket_keys,
    bucket_object,
    create_bucket,
    free_port,
    s3_client,
    s3_settings,
    start_moto,
)
from tests.test_projects_files import send


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """Each backend in turn, empty."""
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    settings = s3_settings(request.getfixturevalue("moto_endpoint"), request.getfixturevalue("s3_bucket"))
    store = make_storage(settings)
    assert isinstance(store, S3Storage) and store.prefix == "uploads/"
    return store


# The contract: what every backend does -------------------------------------------------------------------

def test_put_then_open_reads_the_same_bytes_in_chunks(store):
    data = PDF_BYTES + bytes(range(256)) * 1000
    store.put("a1.pdf", data)
    with store.open("a1.pdf") as stream:
        first = stream.read(10)
        rest = stream.read()
    assert first + rest == data and first == data[:10]
    assert stream.closed
    assert store.exists("a1.pdf") and not store.exists("a2.pdf")


def test_put_refuses_an_existing_key_and_keeps_the_first_bytes(store):
    store.put("a1.pdf", b"first")
    with pytest.raises(FileExistsError):
        store.put("a1.pdf", b"second")
    with store.open("a1.pdf") as stream:
        assert stream.read() == b"first"


def test_delete_is_final_and_quiet_when_already_gone(store):
    store.put("a1.pdf", b"x")
    store.delete("a1.pdf")
    store.delete("a1.pdf")
    assert not store.exists("a1.pdf")
    with pytest.raises(FileNotFoundError):
        store.open("a1.pdf")


def test_keys_lists_every_stored_file(store):
    assert list(store.keys()) == []
    for name in ("c.pdf", "a.png", "b.docx"):
        store.put(name, name.encode())
    assert sorted(store.keys()) == ["a.png", "b.docx", "c.pdf"]


def test_probe_leaves_nothing_behind(store):
    store.put("a.pdf", b"x")
    store.probe()
    assert list(store.keys()) == ["a.pdf"]


@pytest.mark.parametrize("key", ["", "../secret", "sub/a.pdf", ".hidden", "a\\b.pdf"])
def test_a_key_that_is_not_a_plain_name_is_refused(store, key):
    with pytest.raises(StorageError, match="not a storage key"):
        store.put(key, b"x")


# S3 only -------------------------------------------------------------------------------------------------

def test_keys_live_under_the_prefix_and_others_are_not_listed(moto_endpoint, s3_bucket):
    store = make_storage(s3_settings(moto_endpoint, s3_bucket, S3_PREFIX="uploads"))  # the "/" is added
    store.put("a.pdf", b"x")
    client = s3_client(moto_endpoint)
    client.put_object(Bucket=s3_bucket, Key="elsewhere.pdf", Body=b"y")
    client.put_object(Bucket=s3_bucket, Key="uploads/deeper/b.pdf", Body=b"z")
    assert bucket_keys(moto_endpoint, s3_bucket) == ["elsewhere.pdf", "uploads/a.pdf", "uploads/deeper/b.pdf"]
    assert list(store.keys()) == ["a.pdf"]


def test_a_store_refusing_if_none_match_falls_back_to_head_then_put(moto_endpoint, s3_bucket, monkeypatch):
    store = make_storage(s3_settings(moto_endpoint, s3_bucket))
    real_put = store.client.put_object

    def no_conditions(**kwargs):
        if "IfNoneMatch" in kwargs:
            raise ClientError({"Error": {"Code": "NotImplemented", "Message": "If-None-Match"},
                               "ResponseMetadata": {"HTTPStatusCode": 501}}, "PutObject")
        return real_put(**kwargs)

    monkeypatch.setattr(store.client, "put_object", no_conditions)
    store.put("a.pdf", b"first")
    with pytest.raises(FileExistsError):
        store.put("a.pdf", b"second")
    assert bucket_object(moto_endpoint, s3_bucket, "uploads/a.pdf") == b"first"


def test_a_missing_bucket_or_a_store_down_is_a_storage_error_naming_it(moto_endpoint):
    missing = make_storage(s3_settings(moto_endpoint, "no-such-bucket-here"))
    with pytest.raises(StorageError, match="no-such-bucket-here.*NoSuchBucket"):
        missing.probe()
    with pytest.raises(StorageError, match="NoSuchBucket"):
        missing.open("a.pdf")
    down = make_storage(s3_settings("http://127.0.0.1:9109", "codev", S3_MAX_ATTEMPTS=1, S3_TIMEOUT=2))
    with pytest.raises(StorageError, match="127.0.0.1:9109.*Could not connect"):
        down.put("a.pdf", b"x")


@pytest.mark.parametrize(("settings", "message"), [
    ({"STORAGE_BACKEND": "disk"}, "unknown STORAGE_BACKEND 'disk'"),
    ({"STORAGE_BACKEND": "s3"}, "S3_BUCKET is not set"),
])
def test_wrong_storage_settings_stop_the_app_at_start(app_config, settings, message):
    with pytest.raises(StorageError, match=message):
        create_app({**app_config, **settings, "S3_BUCKET": None})


# Through the pages, on a bucket --------------------------------------------------------------------------

@pytest.fixture
def app_config(app_config, moto_endpoint, s3_bucket):
    return {**app_config, **s3_settings(moto_endpoint, s3_bucket)}


@pytest.fixture
def project(db, users, login_as):
    member = login_as(users["association"])
    member.locale = "en"
    project = ready_project(member)
    db.session.commit()
    return project


def test_an_upload_lands_in_the_bucket_not_on_disk(app, client, db, project, moto_endpoint, s3_bucket):
    assert storage().name == "s3"
    assert send(client, project, PDF_BYTES, "plan.pdf", kind="technical_file").status_code == 302
    db.session.expire_all()
    added = db.session.get(Project, project.id).attachments[-1].file
    assert f"uploads/{added.stored_name}" in bucket_keys(moto_endpoint, s3_bucket)
    assert bucket_object(moto_endpoint, s3_bucket, f"uploads/{added.stored_name}") == PDF_BYTES
    folder = LocalStorage(app.config["UPLOAD_FOLDER"])
    assert list(folder.keys()) == []


def test_a_download_streams_the_same_bytes_and_closes_the_stream(app, client, db, project, monkeypatch):
    big = PDF_BYTES + b"0" * (3 * 1024 * 1024)
    assert send(client, project, big, "devis complet.pdf").status_code == 302
    link = db.session.get(Project, project.id).attachments[-1]
    opened = []
    real_open = storage().open
    monkeypatch.setattr(storage(), "open", lambda key: opened.append(real_open(key)) or opened[-1])
    with client.get(f"/projects/{project.id}/files/{link.id}", buffered=False) as response:
        assert response.status_code == 200 and response.is_streamed
        assert response.headers["Content-Length"] == str(len(big)) == str(link.file.size)
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert not opened[0].closed  # read as it is sent, not beforehand
        assert b"".join(response.response) == big
    assert opened[0].closed


def test_a_download_resumes_with_a_range(client, db, project):
    assert send(client, project, PDF_BYTES).status_code == 302
    link = db.session.get(Project, project.id).attachments[-1]
    with client.get(f"/projects/{project.id}/files/{link.id}", headers={"Range": "bytes=5-"}) as response:
        assert response.status_code == 206 and response.data == PDF_BYTES[5:]
        assert response.headers["Content-Range"] == f"bytes 5-{len(PDF_BYTES) - 1}/{len(PDF_BYTES)}"


def test_another_association_cannot_download(client, db, project, login_as):
    link = project.attachments[0]
    login_as(member_of(factories.AssociationFactory()))
    with client.get(f"/projects/{project.id}/files/{link.id}") as response:
        assert response.status_code == 404 and PDF_BYTES not in response.data


def test_statutes_go_to_the_bucket_and_only_members_and_the_ministry_read_them(
        client, db, users, login_as, moto_endpoint, s3_bucket):
    association = factories.AssociationFactory()
    member = login_as(member_of(association))
    client.post(f"/associations/{association.id}/statutes", data={"statutes": upload(PDF_BYTES, "statuts.pdf")},
                content_type="multipart/form-data")
    db.session.refresh(association)
    assert bucket_keys(moto_endpoint, s3_bucket) == [f"uploads/{association.statutes.stored_name}"]
    for person, status in ((member, 200), (users["officer"], 200), (member_of(factories.AssociationFactory()), 404)):
        login_as(person)
        with client.get(f"/associations/{association.id}/statutes/download") as response:
            assert response.status_code == status
            assert (response.data == PDF_BYTES) is (status == 200)


def test_a_file_missing_from_the_bucket_is_a_404_page(client, db, project, moto_endpoint, s3_bucket):
    link = project.attachments[0]
    s3_client(moto_endpoint).delete_object(Bucket=s3_bucket, Key=f"uploads/{link.file.stored_name}")
    with client.get(f"/projects/{project.id}/files/{link.id}") as response:
        assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)


def test_a_store_that_is_down_answers_a_503_page_and_saves_nothing(app, client, db, project):
    port = free_port()  # a second moto server, stopped in the middle of the test (not a worker's own port)
    server = start_moto(port)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        app.extensions["codev.storage"] = make_storage(
            s3_settings(endpoint, create_bucket(endpoint), S3_MAX_ATTEMPTS=1, S3_TIMEOUT=2))
        assert send(client, project, PDF_BYTES, "plan.pdf", kind="technical_file").status_code == 302
    finally:
        server.stop()
    link = db.session.get(Project, project.id).attachments[-1]
    with client.get(f"/projects/{project.id}/files/{link.id}") as response:
        page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Files cannot be reached right now. Nothing was changed" in page
    assert "Traceback" not in page and "botocore" not in page and endpoint not in page
    before = len(db.session.get(Project, project.id).attachments)
    response = send(client, project, PDF_BYTES, "budget.pdf", kind="technical_file")
    assert response.status_code == 503 and "Files cannot be reached" in response.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.get(Project, project.id).attachments) == before


def test_a_deletion_committed_while_the_store_is_down_still_succeeds(app, client, db, project, caplog):
    """The row is gone for good; the bytes left in the store are logged, not shown to the person as a 503."""
    app.extensions["codev.storage"] = make_storage(
        s3_settings("http://127.0.0.1:9109", "codev", S3_MAX_ATTEMPTS=1, S3_TIMEOUT=2))
    link = project.attachments[0]
    response = client.post(f"/projects/{project.id}/attachments/{link.id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, project.id).attachments == []
    assert "file left in the store" in caplog.text


def test_the_local_store_loads_no_s3_code():
    source = storage_module.__loader__.get_source(storage_module.__name__)
    head = source.split("def make_storage", 1)[0]
    assert "boto" not in head and "storage_s3" not in head
