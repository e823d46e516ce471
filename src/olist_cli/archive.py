"""Archive the nine raw files: to a Cloud Storage bucket, or to a local folder.

Each run keeps a snapshot of the raw files under their load date, so a warehouse can be
rebuilt from the files it was loaded from:

- with ``OLIST_GCS_BUCKET``: ``gs://<bucket>/<prefix>/<load date>/<file name>``, uploaded
  as is with google-cloud-storage (imported only here);
- without: ``<data dir>/archive/<load date>/<file name>.gz``, gzip-compressed.

Either way a file whose MD5 is already archived for that date is not sent again
(``unchanged``), and a ``_manifest.json`` beside the files records what the folder holds:
per file its MD5 (of the uncompressed CSV, hex), size, where it is and when it was
archived. In a bucket the objects' own MD5s decide what to skip and the manifest is
written for people and tools; locally the manifest is what the skip reads.

Uploads are verified: the MD5 is sent with the upload, so the server rejects a corrupt
transfer, and the MD5 of the stored object is compared with the local file afterwards.
Network trouble (HTTP 429/5xx, resets, timeouts, a corrupt transfer) is retried with
``olist_cli.retry``; a missing bucket, denied access or missing credentials stop at once
with one line saying what to fix.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from olist_cli.atomic import read_json, write_text_atomic
from olist_cli.dataset import SOURCE_FILES
from olist_cli.errors import OlistError, SourceError, UsageError, file_error
from olist_cli.filehash import Md5Cache
from olist_cli.retry import TRANSIENT_HTTP, is_network_error, retrying
from olist_cli.settings import Settings

if TYPE_CHECKING:
    from google.cloud.storage import Blob, Bucket

MANIFEST = "_manifest.json"
_CHUNK = 1024 * 1024
# Bucket names: 3-222 characters of lowercase letters, digits, '-', '_' and '.'.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
_ROLE = "Storage Object Admin (roles/storage.objectAdmin)"


@dataclass(frozen=True)
class ArchiveResult:
    """What happened to one file: archived now, or already there with the same MD5."""

    file_name: str
    status: Literal["archived", "unchanged"]
    destination: str  # gs://bucket/prefix/date/file, or the local .gz path
    md5: str  # of the uncompressed source file, hex
    bytes: int  # of the source file
    duration_s: float
    message: str


OnEvent = Callable[[ArchiveResult], None]
OnRetry = Callable[[str], None]


def archive_raw(
    settings: Settings,
    source_dir: Path,
    *,
    load_date: dt.date | None = None,
    on_event: OnEvent | None = None,
    on_retry: OnRetry | None = None,
) -> list[ArchiveResult]:
    """Archive the nine files of ``source_dir`` under ``load_date`` (default: today, UTC).

    Raises SourceError if a file is missing (nothing is archived), UsageError for a bucket
    that does not exist or may not be written and for missing credentials, OlistError when
    a transfer still fails after ``settings.retries`` retries. ``on_event`` receives each
    file's result as soon as it is known; ``on_retry`` one line per retry, for the log.
    """
    paths = _source_paths(source_dir)
    day = load_date or dt.datetime.now(dt.UTC).date()
    hashes = Md5Cache.of(settings.data_dir)  # shared with `load`
    try:
        # All at once, so that the files to hash are hashed concurrently, as `load` does.
        md5s = {path.name: md5 for path, md5 in zip(paths, hashes.md5_all(paths), strict=True)}
    finally:
        hashes.save()
    if settings.gcs_bucket:
        return _to_bucket(settings, paths, md5s, day, on_event, on_retry)
    return _to_folder(settings.data_dir / "archive" / day.isoformat(), paths, md5s, on_event)


def _source_paths(source_dir: Path) -> list[Path]:
    paths = [source_dir / s.file_name for s in SOURCE_FILES]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise SourceError(f"cannot archive: missing {', '.join(missing)} in {source_dir}")
    return paths


def _emit(on_event: OnEvent | None, result: ArchiveResult) -> ArchiveResult:
    if on_event is not None:
        on_event(result)
    return result


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# -- local folder ------------------------------------------------------------------------


def _to_folder(
    folder: Path, paths: list[Path], md5s: dict[str, str], on_event: OnEvent | None
) -> list[ArchiveResult]:
    """Gzip each changed file into ``folder``; the manifest there says what is archived."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise file_error(exc, f"cannot create the archive folder {folder}") from None
    manifest_path = folder / MANIFEST
    manifest = read_json(manifest_path)
    entries: dict[str, Any] = manifest.get("files", {}) if isinstance(manifest, dict) else {}
    results = []
    for path in paths:
        start = time.perf_counter()
        target = folder / f"{path.name}.gz"
        md5, size = md5s[path.name], path.stat().st_size
        entry = entries.get(path.name)
        if isinstance(entry, dict) and entry.get("md5") == md5 and target.is_file():
            status: Literal["archived", "unchanged"] = "unchanged"
            message = f"unchanged (md5 {md5})"
        else:
            try:
                _gzip_atomically(path, target)
            except OSError as exc:  # a full disk or a read-only folder: no partial file left
                raise file_error(exc, f"cannot archive {path.name} in {folder}") from None
            entries[path.name] = {
                "md5": md5,
                "bytes": size,
                "archived_bytes": target.stat().st_size,
                "path": target.name,
                "archived_at": _now(),
            }
            # Recorded after each file: a run stopped half-way resumes where it stopped.
            try:
                write_text_atomic(manifest_path, _manifest_json(folder.name, entries))
            except OSError as exc:
                raise file_error(exc, f"cannot write {manifest_path}") from None
            status, message = "archived", f"gzip {size:,} → {target.stat().st_size:,} bytes"
        results.append(
            _emit(
                on_event,
                ArchiveResult(
                    path.name,
                    status,
                    str(target),
                    md5,
                    size,
                    time.perf_counter() - start,
                    message,
                ),
            )
        )
    return results


def _manifest_json(load_date: str, entries: dict[str, Any]) -> str:
    return json.dumps({"load_date": load_date, "files": entries}, indent=2, sort_keys=True) + "\n"


def _gzip_atomically(source: Path, target: Path) -> None:
    """Write ``target`` as a gzip of ``source`` via a temp file and a rename: never partial."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw, source.open("rb") as src:
            # mtime=0 and no file name in the header: the same CSV gives the same bytes.
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as gz:
                shutil.copyfileobj(src, gz, _CHUNK)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# -- Cloud Storage -----------------------------------------------------------------------


class _Md5Mismatch(Exception):
    """The stored object's MD5 differs from the local file's: a corrupt transfer."""


def _to_bucket(
    settings: Settings,
    paths: list[Path],
    md5s: dict[str, str],
    day: dt.date,
    on_event: OnEvent | None,
    on_retry: OnRetry | None,
) -> list[ArchiveResult]:
    bucket_name = str(settings.gcs_bucket)
    if not _BUCKET.match(bucket_name):
        raise UsageError(
            f"OLIST_GCS_BUCKET: '{bucket_name}' is not a bucket name "
            "(give the name alone, without gs:// or a path; the path is OLIST_GCS_PREFIX)"
        )
    folder = "/".join(p for p in (settings.gcs_prefix.strip("/"), day.isoformat()) if p)
    where = f"gs://{bucket_name}/{folder}/"
    bucket = _bucket(settings, bucket_name)

    def call(what: str, fn: Callable[[], Any]) -> Any:
        def said(retry: int, delay: float, exc: Exception) -> None:
            if on_retry is not None:
                on_retry(f"{what}: retry {retry} in {delay:.1f}s ({_short(exc)})")

        try:
            return retrying(
                fn,
                what=what,
                retries=settings.retries,
                backoff_s=settings.retry_backoff_s,
                is_transient=_is_transient,
                on_retry=said,
            )
        except Exception as exc:
            raise _gcs_error(exc, bucket_name, where, what, settings.retries) from None

    # One listing gives every archived object's MD5: a re-run costs one request.
    existing: dict[str, Blob] = call(
        f"list {where}",
        lambda: {
            b.name: b for b in bucket.client.list_blobs(bucket, prefix=f"{folder}/", retry=None)
        },
    )
    results = []
    entries: dict[str, Any] = {}
    for path in paths:
        start = time.perf_counter()
        name = f"{folder}/{path.name}"
        md5, size = md5s[path.name], path.stat().st_size
        blob = existing.get(name)
        if blob is not None and blob.md5_hash == _b64(md5):
            status: Literal["archived", "unchanged"] = "unchanged"
            message = f"unchanged (md5 {md5})"
        else:
            blob = call(
                f"upload {path.name}", lambda p=path, n=name, m=md5: _upload(bucket, p, n, m)
            )
            status, message = "archived", f"uploaded {size:,} bytes, md5 verified"
        entries[path.name] = {
            "md5": md5,
            "bytes": size,
            "uri": f"gs://{bucket_name}/{name}",
            "generation": blob.generation,
            "archived_at": blob.updated.isoformat(timespec="seconds") if blob.updated else _now(),
        }
        result = ArchiveResult(
            path.name,
            status,
            entries[path.name]["uri"],
            md5,
            size,
            time.perf_counter() - start,
            message,
        )
        results.append(_emit(on_event, result))
    manifest_name = f"{folder}/{MANIFEST}"
    if manifest_name not in existing or any(r.status == "archived" for r in results):
        body = _manifest_json(day.isoformat(), entries)
        call(
            f"write {MANIFEST}",
            lambda: bucket.blob(manifest_name).upload_from_string(
                body, content_type="application/json", checksum="md5", retry=None
            ),
        )
    return results


def _bucket(settings: Settings, bucket_name: str) -> Bucket:
    """The bucket, through a client pointed at the emulator when an endpoint is set."""
    try:
        from google.cloud import storage
    except ImportError:
        raise UsageError(
            "OLIST_GCS_BUCKET is set but google-cloud-storage is not installed: "
            "pip install 'olist-cli[gcp]' (or unset OLIST_GCS_BUCKET to archive locally)"
        ) from None
    if settings.gcs_api_endpoint:
        # An endpoint override is an emulator or a test server: no Google account there.
        from google.auth.credentials import AnonymousCredentials

        client = storage.Client(
            project=settings.bq_project or "olist-local",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": settings.gcs_api_endpoint},
        )
    else:
        from google.auth.exceptions import DefaultCredentialsError

        try:
            client = storage.Client(project=settings.bq_project)
        except DefaultCredentialsError:
            raise UsageError(
                f"no Google credentials to write to gs://{bucket_name}: run "
                "`gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS "
                "to a service-account key file"
            ) from None
    return client.bucket(bucket_name)


def _upload(bucket: Bucket, path: Path, name: str, md5: str) -> Blob:
    """Upload one file and check that the stored object has the local file's MD5."""
    blob = bucket.blob(name)
    # checksum="md5" sends the MD5 with the upload, so the server refuses a corrupt body;
    # retry=None: retries are ours (olist_cli.retry), one policy, counted in settings.
    blob.upload_from_filename(str(path), content_type="text/csv", checksum="md5", retry=None)
    if blob.md5_hash is None:
        blob.reload(retry=None)
    if blob.md5_hash != _b64(md5):
        raise _Md5Mismatch(
            f"stored object has md5 {blob.md5_hash}, the local file {_b64(md5)} (base64)"
        )
    return blob


def _b64(md5_hex: str) -> str:
    """GCS reports MD5s as the base64 of the digest; the cache keeps hex."""
    return base64.b64encode(bytes.fromhex(md5_hex)).decode("ascii")


def _is_transient(exc: Exception) -> bool:
    """Worth another try: rate limits, server errors, broken connections, corrupt bodies."""
    if isinstance(exc, _Md5Mismatch) or is_network_error(exc):
        return True
    code = getattr(exc, "code", None)  # google.api_core.exceptions.GoogleAPICallError
    if isinstance(code, int):
        return code in TRANSIENT_HTTP
    # google.auth's TransportError (token refresh failed on the network), and a body
    # that failed its checksum on the way (google.cloud.storage's DataCorruption).
    return type(exc).__name__ in {"TransportError", "DataCorruption"}


def _gcs_error(exc: Exception, bucket: str, where: str, what: str, retries: int) -> OlistError:
    """One line saying what went wrong with the bucket and what to do about it."""
    if isinstance(exc, OlistError):
        return exc
    code = getattr(exc, "code", None)
    if code == 404:
        return UsageError(
            f"bucket gs://{bucket} not found (OLIST_GCS_BUCKET): create it "
            f"(gcloud storage buckets create gs://{bucket}) or fix the name"
        )
    if code in (401, 403):
        return UsageError(
            f"access denied to {where} ({_short(exc)}): grant the account {_ROLE} on gs://{bucket}"
        )
    if type(exc).__name__ == "RefreshError":
        return UsageError(
            f"Google credentials were refused for gs://{bucket}: run "
            "`gcloud auth application-default login` again, or check GOOGLE_APPLICATION_CREDENTIALS"
        )
    tried = f" after {retries} retries" if _is_transient(exc) and retries else ""
    return OlistError(f"archive to {where}: {what} failed{tried}: {_short(exc)}")


def _short(exc: Exception, limit: int = 200) -> str:
    """An error on one line: API errors carry the whole response in their text."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
