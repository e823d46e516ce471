"""One typed, validated Settings object, read from OLIST_* variables and a .env file.

Validated once at start-up: a bad value is reported with every invalid field named at
once (see ``load_settings``), never as a traceback. Identifiers that reach SQL (schemas,
datasets) must match a strict pattern, so no setting can inject SQL.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from olist_cli.errors import UsageError

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")

ENV_PREFIX = "OLIST_"
ENV_FILE = Path(".env")

# The SQL project shipped with the repository: <repo>/sql, found from this file.
_REPO_SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


class Settings(BaseModel):
    """Every setting of olist; each is documented in .env.example.

    Each field comes from, in this order of priority: a keyword argument; the environment
    variable OLIST_<FIELD>, in any case; the same in the .env file of the working folder
    (``_env_file``: another file, or None for none); its default. A dict setting is JSON,
    and the dicts of several sources merge key by key. These are pydantic-settings' rules
    for this class, which it was declared with; they are applied here in a few lines because
    importing pydantic-settings (and the asyncio it imports) cost ~25 ms of every command.
    """

    # As pydantic-settings' BaseSettings configures a model: defaults are validated too.
    model_config = ConfigDict(extra="ignore", validate_default=True, arbitrary_types_allowed=True)

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
    raw_dataset: str = Field("staging", description="Schema/dataset holding the raw tables.")
    target_schema: str = Field(
        "dev_warehouse", description="Prefix of the model schemas: <target>_<layer>."
    )
    sql_dir: Path | None = Field(
        None, description="Folder of the SQL project; default ./sql, else the bundled one."
    )
    threads: int = Field(4, ge=1, le=64, description="Models built concurrently.")
    lookback_days: int = Field(
        3,
        ge=0,
        le=3650,
        description="Incremental facts re-merge rows whose change timestamp is this many "
        "days before the table's watermark, so late updates are not missed.",
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
        None, description="POST a JSON alert (Slack-compatible) here when a run fails."
    )
    alert_on_warn: bool = Field(False, description="Also alert on warn-level test failures.")
    run_results_path: Path = Field(
        Path("target/run_results.json"), description="Where each run writes its results."
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

    def __init__(self, _env_file: str | Path | None = ENV_FILE, **values: Any) -> None:
        sources = (values, _environment(os.environ, "the environment"), _dotenv(_env_file))
        merged: dict[str, Any] = {}
        for source in reversed(sources):  # the lowest priority first; each overrides it
            merged = _deep_update(merged, source)
        super().__init__(**merged)

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


def _json_field(annotation: Any) -> bool:
    """A setting whose value is JSON in a variable (dict or list), as pydantic-settings had it."""
    return get_origin(annotation) in (dict, list) or annotation in (dict, list)


_JSON_FIELDS = frozenset(n for n, f in Settings.model_fields.items() if _json_field(f.annotation))


def _environment(variables: Mapping[str, str | None], where: str) -> dict[str, Any]:
    """The settings found in ``variables`` (names in any case), keyed by field name."""
    by_name = {name.lower(): value for name, value in variables.items()}
    found: dict[str, Any] = {}
    for field in Settings.model_fields:
        value: Any = by_name.get(f"{ENV_PREFIX}{field}".lower())
        if value is None:  # unset, or a bare name in a .env file
            continue
        if field in _JSON_FIELDS:
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise UsageError(
                    f"invalid settings: {ENV_PREFIX}{field.upper()} in {where} is not JSON: {exc}"
                ) from None
            if value is None:  # JSON null: as if unset
                continue
        found[field] = value
    return found


def _dotenv(env_file: str | Path | None) -> dict[str, Any]:
    if env_file is None:
        return {}
    path = Path(env_file).expanduser()
    if not (path.is_file() or path.is_fifo()):
        return {}
    from dotenv import dotenv_values  # only when there is a file: most runs have none

    return _environment(dotenv_values(path, encoding="utf-8"), str(path))


def _deep_update(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``update``'s values; where both hold a dict, the two merge."""
    merged = dict(base)
    for key, value in update.items():
        old = merged.get(key)
        merged[key] = (
            _deep_update(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
        )
    return merged


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning validation errors into one UsageError naming every field."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            problems.append(f"OLIST_{field.upper()}: {err['msg']}")
        raise UsageError("invalid settings: " + "; ".join(problems)) from None
