"""flask --app codev storage-migrate: the upload folder copied into the bucket, every SHA-256 checked.

The app still runs on its folder (STORAGE_BACKEND local) with the bucket's settings beside, as an
operator has it before the switch.
"""

from __future__ import annotations

import pytest

from codev.core.storage import LocalStorage, storage
from tests.factories_projects import PDF_BYTES, stored_file
from tests.s3_support import bucket_keys, bucket_object, s3_client, s3_settings


@pytest.fixture
def app_config(app_config, moto_endpoint, s3_bucket):
    return {**app_config, **s3_settings(moto_endpoint, s3_bucket), "STORAGE_BACKEND": "local"}


@pytest.fixture
def files(app, db):
    """Three attachments in the upload folder, committed."""
    assert isinstance(storage(), LocalStorage)
    made = [stored_file(PDF_BYTES + str(n).encode() * 1000, name=f"devis {n}.pdf") for n in range(3)]
    db.session.commit()
    return made


def migrate(runner, *args):
    return runner.invoke(args=["storage-migrate", *args])


def in_bucket(endpoint, bucket) -> list[str]:
    return [key.removeprefix("uploads/") for key in bucket_keys(endpoint, bucket)]


def test_every_file_is_copied_checked_and_kept_on_disk(app, runner, files, moto_endpoint, s3_bucket):
    result = migrate(runner)
    assert result.exit_code == 0, result.output
    assert "3 attachments in the database" in result.output
    assert "Summary: 3 copied, 0 already there, 0 mismatched, 0 missing from disk." in result.output
    assert "never deleted" in result.output
    assert in_bucket(moto_endpoint, s3_bucket) == sorted(f.stored_name for f in files)
    local = LocalStorage(app.config["UPLOAD_FOLDER"])
    for attachment in files:
        with local.open(attachment.stored_name) as stream:
            assert bucket_object(moto_endpoint, s3_bucket, f"uploads/{attachment.stored_name}") == stream.read()


def test_a_second_run_skips_what_is_there_and_copies_only_the_new(app, db, runner, files, moto_endpoint, s3_bucket):
    assert migrate(runner).exit_code == 0
    newer = stored_file(PDF_BYTES + b"newer")
    db.session.commit()
    result = migrate(runner)
    assert result.exit_code == 0, result.output
    assert "Summary: 1 copied, 3 already there, 0 mismatched, 0 missing from disk." in result.output
    assert newer.stored_name in in_bucket(moto_endpoint, s3_bucket)


def test_a_corrupted_file_is_reported_not_copied_and_fails_the_run(app, runner, files, moto_endpoint, s3_bucket):
    bad = files[1]
    (LocalStorage(app.config["UPLOAD_FOLDER"]).folder / bad.stored_name).write_bytes(PDF_BYTES + b"bit rot")
    result = migrate(runner)
    assert result.exit_code == 1
    assert "Summary: 2 copied, 0 already there, 1 mismatched, 0 missing from disk." in result.output
    assert f"attachment {bad.id} ({bad.stored_name}): the local file is corrupted" in result.output
    assert bad.stored_name not in in_bucket(moto_endpoint, s3_bucket)
    assert len(in_bucket(moto_endpoint, s3_bucket)) == 2


def test_a_wrong_copy_already_in_the_bucket_is_a_mismatch_left_alone(runner, files, moto_endpoint, s3_bucket):
    key = f"uploads/{files[0].stored_name}"
    s3_client(moto_endpoint).put_object(Bucket=s3_bucket, Key=key, Body=b"someone else's bytes")
    result = migrate(runner)
    assert result.exit_code == 1
    assert "1 mismatched" in result.output and "the bucket holds other bytes" in result.output
    assert bucket_object(moto_endpoint, s3_bucket, key) == b"someone else's bytes"


def test_a_file_missing_from_disk_is_counted_and_fails_the_run(app, runner, files, moto_endpoint, s3_bucket):
    LocalStorage(app.config["UPLOAD_FOLDER"]).delete(files[2].stored_name)
    result = migrate(runner)
    assert result.exit_code == 1
    assert "Summary: 2 copied, 0 already there, 0 mismatched, 1 missing from disk." in result.output
    assert f"attachment {files[2].id} ({files[2].stored_name}): not in " in result.output


def test_a_dry_run_counts_and_writes_nothing(runner, files, moto_endpoint, s3_bucket):
    result = migrate(runner, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Summary: 3 to copy, 0 already there, 0 mismatched, 0 missing from disk." in result.output
    assert "Dry run: nothing was written." in result.output
    assert bucket_keys(moto_endpoint, s3_bucket) == []


def test_progress_lines_and_files_that_belong_to_no_attachment(app, runner, files):
    LocalStorage(app.config["UPLOAD_FOLDER"]).put("stray.pdf", b"left by a crash")
    result = migrate(runner, "--progress-every", "2")
    assert result.exit_code == 0, result.output
    assert "  2/3 checked" in result.output
    assert "1 file belongs to no attachment in " in result.output and "(not copied)" in result.output


def test_without_a_bucket_setting_or_a_reachable_store_it_stops_in_words(app, runner, files):
    app.config["S3_BUCKET"] = None
    result = migrate(runner)
    assert result.exit_code == 1 and "S3_BUCKET is not set" in result.output
    app.config.update(S3_BUCKET="codev", S3_ENDPOINT_URL="http://127.0.0.1:9109", S3_MAX_ATTEMPTS=1)
    result = migrate(runner)
    assert result.exit_code == 1 and "Could not connect" in result.output and "Traceback" not in result.output
