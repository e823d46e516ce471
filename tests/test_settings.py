"""Settings are read as pydantic-settings read them, without importing it on every run.

Settings was a pydantic-settings BaseSettings (env_prefix OLIST_, env_file .env, extra
ignored); it now reads its sources itself. ``Reference`` is that declaration, with the
same fields: every case here must give the same values with both.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError, create_model

from olist_cli.errors import UsageError
from olist_cli.settings import Settings, load_settings

pydantic_settings = pytest.importorskip("pydantic_settings")


class _Declared(pydantic_settings.BaseSettings):
    model_config = pydantic_settings.SettingsConfigDict(
        env_prefix="OLIST_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )


Reference: type[Any] = create_model(
    "Reference",
    __base__=_Declared,
    **{name: (field.annotation, field) for name, field in Settings.model_fields.items()},
)

DOTENV = """\
# a comment
OLIST_THREADS=2
export OLIST_RETRIES=5
olist_gcs_bucket='from-dotenv'
OLIST_GCS_PREFIX="a ${HOME_ISH} b"
OLIST_SQL_DIR
OLIST_NOT_A_SETTING=1
DATA_DIR=/not/this
OLIST_BQ_JOB_LABELS={"team": "dotenv", "both": "dotenv"}
"""

CASES: dict[str, tuple[dict[str, str], str | None, dict[str, Any]]] = {
    # name: (environment, .env text or None, keyword arguments)
    "defaults": ({}, None, {}),
    "environment in any case": (
        {"OLIST_THREADS": "8", "olist_data_dir": "/tmp/x", "Olist_Archive": "true"},
        None,
        {},
    ),
    "empty values are values": ({"OLIST_DUCKDB_PATH": "", "OLIST_BQ_PROJECT": ""}, None, {}),
    "dotenv under environment under arguments": (
        {"OLIST_THREADS": "3", "HOME_ISH": "home"},
        DOTENV,
        {"retries": 7},
    ),
    "JSON dicts merge across sources": (
        {"OLIST_BQ_JOB_LABELS": '{"both": "env", "env": "1"}'},
        DOTENV,
        {"bq_job_labels": {"kwarg": "2"}},
    ),
    "JSON null is unset": ({"OLIST_BQ_JOB_LABELS": "null"}, None, {}),
    "a JSON dict replaces the default": ({"OLIST_BQ_JOB_LABELS": '{"a": "b"}'}, None, {}),
    "unknown keyword arguments are ignored": ({}, None, {"nonsense": 1, "threads": 9}),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
@pytest.mark.parametrize("env_file", ["default", "none", "other"])
def test_the_same_values_as_pydantic_settings(
    case: str, env_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment, dotenv, kwargs = CASES[case]
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
        (tmp_path / "other.env").write_text("OLIST_LOOKBACK_DAYS=9\nOLIST_THREADS=11\n")
    extra: dict[str, Any] = {
        "default": {},
        "none": {"_env_file": None},
        "other": {"_env_file": tmp_path / "other.env"},
    }[env_file]
    ours = Settings(**extra, **kwargs).model_dump()
    assert ours == Reference(**extra, **kwargs).model_dump()


def test_the_same_validation_errors_as_pydantic_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLIST_THREADS", "many")
    monkeypatch.setenv("OLIST_BQ_JOB_LABELS", '["a list"]')
    monkeypatch.setenv("OLIST_WAREHOUSE", "sqlite")
    errors = []
    for cls in (Settings, Reference):
        with pytest.raises(ValidationError) as info:
            cls()
        errors.append([(e["loc"], e["type"], e["msg"]) for e in info.value.errors()])
    assert errors[0] == errors[1] and len(errors[0]) == 3


def test_a_setting_that_is_not_json_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pydantic-settings raised its SettingsError here: a traceback. Now one line, exit 2.
    monkeypatch.setenv("OLIST_BQ_JOB_LABELS", "app=olist")
    with pytest.raises(UsageError, match="OLIST_BQ_JOB_LABELS in the environment is not JSON"):
        load_settings()
    monkeypatch.delenv("OLIST_BQ_JOB_LABELS")
    (tmp_path / ".env").write_text("OLIST_BQ_JOB_LABELS={oops\n")
    with pytest.raises(UsageError, match=r"OLIST_BQ_JOB_LABELS in \.env is not JSON"):
        load_settings()


def test_settings_import_neither_pydantic_settings_nor_asyncio() -> None:
    # What this module's reading of the sources saves on every command.
    code = (
        "import sys; from olist_cli.settings import load_settings; load_settings(); "
        "print(sorted({'pydantic_settings', 'asyncio', 'dotenv'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
