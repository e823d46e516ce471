"""The raw archive: to Cloud Storage (against gcp-storage-emulator, in-process) or a folder."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import itertools
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gcp_storage_emulator import server as emulator
from google.cloud import storage

from olist_cli.archive import MANIFEST, ArchiveResult, archive_raw
from olist_cli.dataset import SOURCE_FILES
from olist_cli.errors import EXIT_USAGE, OlistError, SourceError, UsageError
from olist_cli.settings import Settings, load_settings

FIXTURES = Path(__file__).parent / "fixtures" / "raw"
NAMES = [s.file_name for s in SOURCE_FILES]
DAY = dt.date(2024, 5, 1)
_buckets = itertools.count()


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gcs_endpoint() -> Iterator[str]:
    """gcp-storage-emulator on a free loopback port, in memory, for this module."""
    server = emulator.create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    try:
        # Port 0 lets the OS pick a free port; the emulator does not report it otherwise.
        yield f"http://127.0.0.1:{server._api._httpd.server_port}"
    finally:
        server.stop()


def client_for(endpoint: str) -> Any:
    from google.auth.credentials import AnonymousCredentials

    return storage.Client(
        project="test-project",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": endpoint},
    )


@pytest.fixture
def bucket(gcs_endpoint: str) -> Any:
    """A new, empty bucket for each test."""
    return client_for(gcs_endpoint).create_bucket(f"olist-archive-{next(_buckets)}")


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    shutil.copytree(FIXTURES, folder)
    return folder


def gcs_settings(tmp_path: Path, endpoint: str, bucket_name: str, **more: object) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        gcs_bucket=bucket_name,
        gcs_api_endpoint=endpoint,
        retry_backoff_s=0.0,
        **more,
    )


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def objects(bucket: Any) -> dict[str, Any]:
    return {b.name: b for b in bucket.client.list_blobs(bucket)}


# -- Cloud Storage -----------------------------------------------------------------------


def test_uploads_the_nine_files_under_the_load_date_with_verified_md5(
    tmp_path: Path, gcs_endpoint: str, bucket: Any, raw: Path
) -> None:
    events: list[ArchiveResult] = []
    results = archive_raw(
        gcs_settings(tmp_path, gcs_endpoint, bucket.name),
        raw,
        load_date=DAY,
        on_event=events.append,
    )

    assert [r.file_name for r in results] == NAMES
    assert events == results
    assert {r.status for r in results} == {"archived"}
    stored = objects(bucket)
    for name in NAMES:
        blob = stored[f"olist/raw/2024-05-01/{name}"]
        data = (raw / name).read_bytes()
        assert blob.md5_hash == md5_b64(data)
        assert blob.download_as_bytes() == data
    assert results[0].destination == f"gs://{bucket.name}/olist/raw/2024-05-01/{NAMES[0]}"

    manifest = json.loads(stored[f"olist/raw/2024-05-01/{MANIFEST}"].download_as_bytes())
    assert manifest["load_date"] == "2024-05-01"
    assert set(manifest["files"]) == set(NAMES)
    orders = manifest["files"]["olist_orders_dataset.csv"]
    assert orders["md5"] == hashlib.md5((raw / "olist_orders_dataset.csv").read_bytes()).hexdigest()
    assert orders["uri"] == f"gs://{bucket.name}/olist/raw/2024-05-01/olist_orders_dataset.csv"


def test_a_rerun_skips_every_object_whose_md5_matches(
    tmp_path: Path, gcs_endpoint: str, bucket: Any, raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = gcs_settings(tmp_path, gcs_endpoint, bucket.name)
    archive_raw(settings, raw, load_date=DAY)
    before = {name: blob.generation for name, blob in objects(bucket).items()}

    uploads: list[str] = []
    real_upload = storage.Blob.upload_from_filename
    real_string = storage.Blob.upload_from_string
    monkeypatch.setattr(
        storage.Blob,
        "upload_from_filename",
        lambda self, *a, **k: uploads.append(self.name) or real_upload(self, *a, **k),
    )
    monkeypatch.setattr(
        storage.Blob,
        "upload_from_string",
        lambda self, *a, **k: uploads.append(self.name) or real_string(self, *a, **k),
    )
    results = archive_raw(settings, raw, load_date=DAY)

    assert {r.status for r in results} == {"unchanged"}
    assert all(r.message.startswith("unchanged (md5 ") for r in results)
    assert uploads == []  # neither the files nor the manifest were sent again
    assert {name: blob.generation for name, blob in objects(bucket).items()} == before


def test_a_changed_file_is_uploaded_again_and_the_manifest_follows(
    tmp_path: Path, gcs_endpoint: str, bucket: Any, raw: Path
) -> None:
    settings = gcs_settings(tmp_path, gcs_endpoint, bucket.name)
    archive_raw(settings, raw, load_date=DAY)
    sellers = raw / "olist_sellers_dataset.csv"
    sellers.write_bytes(sellers.read_bytes() + b'"s-new","01001","sao paulo","SP"\n')

    results = archive_raw(settings, raw, load_date=DAY)

    assert {r.file_name: r.status for r in results if r.status == "archived"} == {
        "olist_sellers_dataset.csv": "archived"
    }
    stored = objects(bucket)
    assert stored["olist/raw/2024-05-01/olist_sellers_dataset.csv"].download_as_bytes() == (
        sellers.read_bytes()
    )
    manifest = json.loads(stored[f"olist/raw/2024-05-01/{MANIFEST}"].download_as_bytes())
    assert manifest["files"]["olist_sellers_dataset.csv"]["md5"] == (
        hashlib.md5(sellers.read_bytes()).hexdigest()
    )


def test_another_load_date_is_another_folder(
    tmp_path: Path, gcs_endpoint: str, bucket: Any, raw: Path
) -> None:
    settings = gcs_settings(tmp_path, gcs_endpoint, bucket.name, gcs_prefix="/snapshots/")
    archive_raw(settings, raw, load_date=DAY)
    results = archive_raw(settings, raw, load_date=DAY + dt.timedelta(days=1))

    assert {r.status for r in results} == {"archived"}
    folders = {name.rsplit("/", 1)[0] for name in objects(bucket)}
    assert folders == {"snapshots/2024-05-01", "snapshots/2024-05-02"}


def test_a_transient_error_is_retried(
    tmp_path: Path, gcs_endpoint: str, bucket: Any, raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.api_core.exceptions import ServiceUnavailable

    real_upload = storage.Blob.upload_from_filename
    failed: list[str] = []

    def flaky(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not failed:
            failed.append(self.name)
            raise ServiceUnavailable("backend unavailable, try again")
        return real_upload(self, *args, **kwargs)

    monkeypatch.setattr(storage.Blob, "upload_from_filename", flaky)
    said: list[str] = []
    results = archive_raw(
        gcs_settings(tmp_path, gcs_endpoint, bucket.name),
        raw,
        load_date=DAY,
        on_retry=said.append,
    )

    assert {r.status for r in results} == {"archived"}
    assert len(said) == 1
    assert "retry 1" in said[0] and "backend unavailable" in said[0]


def test_an_upload_whose_stored_md5_differs_is_sent_again(
    tmp_path: Path, gcs_endpoint: str, bucket: Any, raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The MD5 check after upload catches a stored object that is not the local file."""
    real_upload = storage.Blob.upload_from_filename
    corrupted: list[str] = []

    def corrupting(self: Any, filename: str, **kwargs: Any) -> Any:
        if not corrupted:  # the first upload stores other bytes than the file's
            corrupted.append(self.name)
            return self.upload_from_string(b"garbage\n", checksum="md5", retry=None)
        return real_upload(self, filename, **kwargs)

    monkeypatch.setattr(storage.Blob, "upload_from_filename", corrupting)
    said: list[str] = []
    results = archive_raw(
        gcs_settings(tmp_path, gcs_endpoint, bucket.name), raw, load_date=DAY, on_retry=said.append
    )

    assert results[0].status == "archived"
    assert len(said) == 1 and "md5" in said[0]
    data = (raw / NAMES[0]).read_bytes()
    assert objects(bucket)[corrupted[0]].md5_hash == md5_b64(data)


def test_a_transfer_that_keeps_failing_stops_after_the_retries(
    tmp_path: Path, gcs_endpoint: str, bucket: Any, raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.api_core.exceptions import ServiceUnavailable

    calls: list[str] = []

    def down(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(self.name)
        raise ServiceUnavailable("backend unavailable")

    monkeypatch.setattr(storage.Blob, "upload_from_filename", down)
    with pytest.raises(OlistError) as info:
        settings = gcs_settings(tmp_path, gcs_endpoint, bucket.name, retries=2)
        archive_raw(settings, raw, load_date=DAY)

    assert len(calls) == 3
    assert "after 2 retries" in info.value.message
    assert "\n" not in info.value.message
    assert info.value.exit_code == 1


def test_a_missing_bucket_says_which_and_how_to_fix(
    tmp_path: Path, gcs_endpoint: str, raw: Path
) -> None:
    with pytest.raises(UsageError) as info:
        archive_raw(gcs_settings(tmp_path, gcs_endpoint, "no-such-bucket"), raw, load_date=DAY)

    message = info.value.message
    assert "gs://no-such-bucket" in message and "not found" in message
    assert "gcloud storage buckets create" in message
    assert "\n" not in message
    assert info.value.exit_code == EXIT_USAGE


def test_access_denied_names_the_role_to_grant(
    tmp_path: Path, gcs_endpoint: str, bucket: Any, raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.api_core.exceptions import Forbidden

    def denied(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise Forbidden("caller does not have storage.objects.list access")

    monkeypatch.setattr(storage.Client, "list_blobs", denied)
    with pytest.raises(UsageError) as info:
        archive_raw(gcs_settings(tmp_path, gcs_endpoint, bucket.name), raw, load_date=DAY)

    assert f"access denied to gs://{bucket.name}/olist/raw/2024-05-01/" in info.value.message
    assert "roles/storage.objectAdmin" in info.value.message


def test_a_bucket_url_instead_of_a_name_is_refused(tmp_path: Path, raw: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", gcs_bucket="gs://my-bucket/raw")
    with pytest.raises(UsageError, match="OLIST_GCS_BUCKET"):
        archive_raw(settings, raw, load_date=DAY)


# -- local folder ------------------------------------------------------------------------


def test_without_a_bucket_files_are_gzipped_under_the_data_dir(tmp_path: Path, raw: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    results = archive_raw(settings, raw, load_date=DAY)

    folder = tmp_path / "data" / "archive" / "2024-05-01"
    assert {r.status for r in results} == {"archived"}
    for name in NAMES:
        assert gzip.decompress((folder / f"{name}.gz").read_bytes()) == (raw / name).read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{n}.gz" for n in NAMES] + [MANIFEST]
    )  # no temp file left behind
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["files"]["olist_orders_dataset.csv"]["md5"] == (
        hashlib.md5((raw / "olist_orders_dataset.csv").read_bytes()).hexdigest()
    )


def test_local_rerun_skips_by_md5_and_a_changed_file_is_archived_again(
    tmp_path: Path, raw: Path
) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    archive_raw(settings, raw, load_date=DAY)
    folder = tmp_path / "data" / "archive" / "2024-05-01"
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}

    again = archive_raw(settings, raw, load_date=DAY)
    assert {r.status for r in again} == {"unchanged"}
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps

    payments = raw / "olist_order_payments_dataset.csv"
    payments.write_bytes(payments.read_bytes().replace(b"credit_card", b"boleto", 1))
    changed = archive_raw(settings, raw, load_date=DAY)
    assert [r.file_name for r in changed if r.status == "archived"] == [payments.name]
    assert gzip.decompress((folder / f"{payments.name}.gz").read_bytes()) == payments.read_bytes()


def test_a_lost_archive_file_is_written_again(tmp_path: Path, raw: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    archive_raw(settings, raw, load_date=DAY)
    lost = tmp_path / "data" / "archive" / "2024-05-01" / f"{NAMES[2]}.gz"
    lost.unlink()

    results = archive_raw(settings, raw, load_date=DAY)
    assert [r.file_name for r in results if r.status == "archived"] == [NAMES[2]]
    assert lost.is_file()


def test_the_load_date_defaults_to_today_in_utc(tmp_path: Path, raw: Path) -> None:
    before = dt.datetime.now(dt.UTC).date()
    archive_raw(load_settings(data_dir=tmp_path / "data"), raw)
    after = dt.datetime.now(dt.UTC).date()
    folders = {p.name for p in (tmp_path / "data" / "archive").iterdir()}
    assert folders <= {before.isoformat(), after.isoformat()} and folders


def test_a_missing_file_is_a_source_error_and_nothing_is_archived(
    tmp_path: Path, raw: Path
) -> None:
    (raw / "olist_products_dataset.csv").unlink()
    with pytest.raises(SourceError, match="olist_products_dataset.csv"):
        archive_raw(load_settings(data_dir=tmp_path / "data"), raw, load_date=DAY)
    assert not (tmp_path / "data" / "archive").exists()


def test_importing_the_archive_does_not_import_google() -> None:
    code = (
        "import sys, olist_cli.archive; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'google'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_files_are_hashed_together_through_the_cache_load_shares(
    tmp_path: Path, raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One concurrent batch for the files the cache does not know; none on a rerun, and a
    file `load` hashed is not hashed again."""
    from olist_cli import filehash

    hashed: list[str] = []
    real = filehash.file_md5

    def spy(path: Path) -> str:
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(filehash, "file_md5", spy)
    settings = load_settings(data_dir=tmp_path / "data")
    cache = filehash.Md5Cache.of(settings.data_dir)
    cache.md5(raw / NAMES[0])  # as `load` would have
    cache.save()
    assert hashed == [NAMES[0]]
    archive_raw(settings, raw, load_date=DAY)
    assert sorted(hashed[1:]) == sorted(NAMES[1:])
    archive_raw(settings, raw, load_date=DAY + dt.timedelta(days=1))
    assert len(hashed) == len(NAMES)
