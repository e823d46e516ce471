"""Files that hold secrets, and who else may read them.

A `.env` file (it may hold the webhook URL), a service-account key (OLIST_BQ_CREDENTIALS,
or GOOGLE_APPLICATION_CREDENTIALS for application default credentials) and Kaggle's
kaggle.json are for their owner's eyes: one readable by the file's group or by everyone
is warned about, and refused with OLIST_STRICT_PERMISSIONS=true (UsageError, exit 2). The
messages name the file and the fix, never its content.

Only the files a run will read are checked: the key files when the settings use Google
(the BigQuery warehouse or a Cloud Storage archive), kaggle.json by the Kaggle download.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from olist_cli.errors import UsageError

if TYPE_CHECKING:
    from olist_cli.settings import Settings

DOTENV = Path(".env")  # where Settings reads it: the working folder


def exposed(path: Path) -> str | None:
    """How ``path`` is readable by others (e.g. ``-rw-r--r--``), or None if it is not."""
    if os.name == "nt":
        return None  # no POSIX modes to check
    try:
        mode = path.stat().st_mode
    except OSError:
        return None  # missing or unreadable: whoever reads it says so
    return stat.filemode(mode) if mode & (stat.S_IRGRP | stat.S_IROTH) else None


def check_private(path: Path, what: str, *, strict: bool) -> str | None:
    """None when only its owner can read ``path``; else a warning, or UsageError if strict.

    ``what`` says what the file is to the user, e.g. "OLIST_BQ_CREDENTIALS key file".
    """
    mode = exposed(path)
    if mode is None:
        return None
    problem = f"{what} {path} is readable by other users ({mode}): run `chmod 600 {path}`"
    if strict:
        raise UsageError(f"{problem}; OLIST_STRICT_PERMISSIONS=true refuses to use it")
    return problem


def secret_files(settings: Settings) -> list[tuple[Path, str]]:
    """The files holding secrets that a run with these settings reads, and what each is."""
    files: list[tuple[Path, str]] = []
    if DOTENV.is_file():
        files.append((DOTENV, "settings file"))
    uses_google = settings.warehouse == "bigquery" or bool(settings.gcs_bucket)
    if settings.bq_credentials is not None and settings.warehouse == "bigquery":
        files.append((settings.bq_credentials, "OLIST_BQ_CREDENTIALS key file"))
    adc = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if adc and uses_google:
        files.append((Path(adc), "GOOGLE_APPLICATION_CREDENTIALS key file"))
    return files


def check_secret_files(settings: Settings) -> list[str]:
    """A warning for each secret file others can read; UsageError instead when strict."""
    warnings = []
    for path, what in secret_files(settings):
        warning = check_private(path, what, strict=settings.strict_permissions)
        if warning:
            warnings.append(warning)
    return warnings
