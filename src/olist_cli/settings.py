"""One typed, validated Settings object, read from OLIST_* variables and a .env file.

Validated once at start-up: a bad value is reported with every invalid field named at
once (see ``load_settings``), never as a traceback. Identifiers that reach SQL (schemas,
datasets) must match a strict pattern, so no setting can inject SQL.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from olist_cli.errors import UsageError, file_error

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")

# The SQL project shipped with the repository: <repo>/sql, found from this file.
_REPO_SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


class Settings(BaseSettings):
    """Every setting of olist; each is documented in .env.example."""

    model_config = SettingsConfigDict(
        env_prefix="OLIST_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    warehouse: Literal["duckdb", "bigquery"] = Field(
        "duckdb", description="Warehouse engine: duckdb (embedded, default) or bigquery."
    )
    data_dir: Path = Field(Path("data"), description="Folder for raw files and local state.")
    duckdb_path: Path | None = Field(
        None, description="DuckDB database file; default <data_dir>/olist.duckdb."
    )
    duckdb_memory_limit: str | None = Field(
        None,
        pattern=r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="Cap on DuckDB's memory, e.g. 4GB (default: DuckDB's, 80% of RAM); "
        "larger work spills to disk.",
    )
    duckdb_reader_copy: bool = Field(
        False,
        description="After each successful run that wrote to it, copy the DuckDB file to "
        "<name>.readers.duckdb beside it, for readers that keep it open (notebooks).",
    )
    raw_dataset: str = Field("staging", description="Schema/dataset holding the raw tables.")
    target_schema: str = Field(
        "dev_warehouse", description="Prefix of the model schemas: <target>_<layer>."
    )
    sql_dir: Path | None = Field(
        None, description="Folder of the SQL project; default ./sql, else the bundled one."
    )
    threads: int = Field(4, ge=1, le=64, description="Models built concurrently.")
    load_max_shrink: float = Field(
        0.1,
        ge=0,
        le=1,
        description="A raw load that would remove more than this share of a table's rows "
        "(0.1 = 10%) is refused, as is one that would empty it, unless run with "
        "--allow-shrink.",
    )
    # The largest real file is ~60 MB, the generator's scale 10 writes up to ~190 MB.
    zip_max_entry_bytes: int = Field(
        512 * 1024**2,
        ge=1,
        description="A .zip source whose entry declares more bytes than this is refused "
        "before anything is unpacked.",
    )
    # The real archive holds 9 entries; folders and __MACOSX copies add a few.
    zip_max_entries: int = Field(
        100, ge=1, description="A .zip source with more entries than this is refused."
    )

    # -- BigQuery ---------------------------------------------------------------------------
    bq_project: str | None = Field(None, description="GCP project of the BigQuery datasets.")
    bq_location: str = Field("US", description="BigQuery location of the datasets and jobs.")
    bq_credentials: Path | None = Field(
        None,
        description="Service-account JSON key file; default: application default credentials.",
    )
    bq_api_endpoint: str | None = Field(
        None,
        description="BigQuery API endpoint override (an emulator, e.g. http://127.0.0.1:9050).",
    )
    bq_job_labels: dict[str, str] = Field(
        default_factory=lambda: {"app": "olist"},
        description="Labels put on every BigQuery job (JSON object).",
    )
    bq_maximum_bytes_billed: int | None = Field(
        None, ge=0, description="Fail any BigQuery job that would bill more bytes than this."
    )
    bq_job_timeout_s: float = Field(600.0, gt=0, description="Seconds one BigQuery job may take.")
    bq_retry_deadline_s: float = Field(
        120.0, gt=0, description="Seconds to keep retrying transient BigQuery errors."
    )

    # -- Cloud Storage archive and Kaggle ---------------------------------------------------
    gcs_bucket: str | None = Field(
        None, description="Bucket for `olist archive`; unset: archive to <data dir>/archive."
    )
    gcs_prefix: str = Field("olist/raw", description="Object prefix inside the bucket.")
    gcs_api_endpoint: str | None = Field(
        None, description="Cloud Storage endpoint override (an emulator)."
    )
    archive: bool = Field(False, description="Archive the raw files as part of run-all.")
    kaggle_dataset: str = Field(
        "olistbr/brazilian-ecommerce", description="Kaggle dataset that --source kaggle fetches."
    )

    # -- running under cron and CI ----------------------------------------------------------
    retries: int = Field(
        3, ge=0, le=20, description="Retries of a transient download/archive/load failure."
    )
    retry_backoff_s: float = Field(
        1.0, ge=0, description="First retry delay in seconds; doubles each time, with jitter."
    )
    alert_webhook_url: str | None = Field(
        None,
        description="POST a JSON alert (Slack-compatible) here when a run fails: an http(s) "
        "URL; a secret, never printed.",
    )
    alert_on_warn: bool = Field(False, description="Also alert on warn-level test failures.")
    lock_timeout_s: float = Field(
        300.0,
        ge=0,
        le=86_400,
        description="Seconds a run waits for the warehouse while another olist run or "
        "another program holds it, before it fails with exit 3; 0: fail at once.",
    )
    run_results_path: Path = Field(
        Path("target/run_results.json"), description="Where each run writes its results."
    )
    strict_permissions: bool = Field(
        False,
        description="Refuse (exit 2), instead of warning about, a .env file, key file or "
        "kaggle.json that other users can read.",
    )

    @field_validator("raw_dataset", "target_schema")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(
                "must be a plain identifier: letters, digits and underscores, "
                "not starting with a digit"
            )
        return value

    @field_validator("alert_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        return checked_webhook_url(value)

    @property
    def raw_dir(self) -> Path:
        """Where the nine raw CSV files live."""
        return self.data_dir / "raw"

    @property
    def duckdb_file(self) -> Path:
        return self.duckdb_path if self.duckdb_path is not None else self.data_dir / "olist.duckdb"

    @property
    def sql_path(self) -> Path:
        """OLIST_SQL_DIR; else ./sql; else the checkout's sql/; else the installed copy."""
        if self.sql_dir is not None:
            return self.sql_dir
        for candidate in (Path("sql"), _REPO_SQL_DIR, Path(sys.prefix) / "share/olist/sql"):
            if (candidate / "staging").is_dir():
                return candidate
        return _REPO_SQL_DIR

    def layer_schema(self, layer: str) -> str:
        """The schema (dataset) a model layer builds into, e.g. dev_warehouse_staging."""
        return f"{self.target_schema}_{layer}"


def checked_webhook_url(value: str | None) -> str | None:
    """The webhook URL if it is one olist can POST to (http or https, with a host); empty
    is unset. The ValueError never quotes the value: a Slack webhook URL holds a token."""
    if not value:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() or not c.isprintable() for c in value)
    ):
        raise ValueError(
            "must be an http:// or https:// URL with a host (the value is not shown: "
            "it may hold a token)"
        )
    return value


class _AlertSettings(BaseSettings):
    """The webhook URL alone: read when the other settings are invalid, to say so."""

    model_config = Settings.model_config
    alert_webhook_url: str | None = None

    @field_validator("alert_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        return checked_webhook_url(value)


def alert_webhook_url_alone() -> str | None:
    """OLIST_ALERT_WEBHOOK_URL read on its own, None if unset, unreadable or invalid."""
    try:
        return _AlertSettings().alert_webhook_url
    except (ValidationError, OSError):
        return None


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning validation errors into one UsageError naming every field."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except OSError as exc:  # an .env file that cannot be read
        where = exc.filename or Settings.model_config.get("env_file")
        raise file_error(exc, f"cannot read the settings file {where}") from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            problems.append(f"OLIST_{field.upper()}: {err['msg']}")
        raise UsageError("invalid settings: " + "; ".join(problems)) from None
