"""BigQuery adapter pieces that need no server: parameters, errors, retries, credentials.

The adapter's behaviour against a BigQuery API is tested in test_bigquery_emulator.py.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry

from olist_cli.dataset import ORDERS
from olist_cli.errors import UsageError
from olist_cli.settings import Settings
from olist_cli.warehouse.bigquery import BigQueryDialect, make_client
from olist_cli.warehouse.bigquery_errors import (
    bigquery_error,
    describe,
    find_bad_value,
    is_transient,
    load_error,
)
from olist_cli.warehouse.bigquery_sql import bind, parameter_type, placeholders
from olist_cli.warehouse.duckdb import DuckDBDialect


def api_error(status: int, reason: str | None, message: str = "boom") -> Exception:
    errors = [{"reason": reason, "message": message}] if reason else []
    return api_exceptions.from_http_status(status, message, errors=errors)


# -- parameters --------------------------------------------------------------------------


def test_placeholders_outside_strings_identifiers_and_comments() -> None:
    sql = "select '?', \"a?\", `b?` -- c?\n, 'it\\'s ?' /* ? */ # ?\nfrom t where x = ? and y = ?"
    assert [sql[i] for i in placeholders(sql)] == ["?", "?"]
    assert len(placeholders(sql)) == 2


def test_parameters_are_typed_from_python_values() -> None:
    assert parameter_type(True) == "BOOL"
    assert parameter_type(3) == "INT64"
    assert parameter_type(1.5) == "FLOAT64"
    assert parameter_type(decimal.Decimal("1.20")) == "NUMERIC"
    assert parameter_type("x") == "STRING"
    assert parameter_type(dt.datetime(2018, 1, 1, 10)) == "DATETIME"
    assert parameter_type(dt.date(2018, 1, 1)) == "DATE"
    with pytest.raises(TypeError):
        parameter_type(object())


def test_none_becomes_an_untyped_null_and_aware_datetimes_utc() -> None:
    brasilia = dt.timezone(dt.timedelta(hours=-3))
    sql, params = bind(
        "insert into t values (?, ?, ?)", ["a", None, dt.datetime(2018, 1, 1, 9, tzinfo=brasilia)]
    )
    assert sql == "insert into t values (?, NULL, ?)"
    assert [(p.type_, p.value) for p in params] == [
        ("STRING", "a"),
        ("DATETIME", dt.datetime(2018, 1, 1, 12)),
    ]
    with pytest.raises(ValueError, match="2 parameters for 1 placeholders"):
        bind("select ?", [1, 2])


# -- the dialect -------------------------------------------------------------------------


def test_dialect_offers_every_helper_and_type_the_duckdb_one_does() -> None:
    from olist_cli.engine.render import HELPERS, TYPES

    for name in (*HELPERS, *TYPES):
        assert hasattr(BigQueryDialect(), name), name
        assert hasattr(DuckDBDialect(), name), name
    # Zone-less timestamps: DATETIME, the type DuckDB's TIMESTAMP corresponds to.
    assert BigQueryDialect.type_timestamp == "DATETIME"


def test_surrogate_key_joins_and_coalesces_like_duckdb() -> None:
    key = BigQueryDialect().surrogate_key("a", "b")
    assert "COALESCE(CAST(a AS STRING), '_null_'), '|', COALESCE(CAST(b AS STRING)" in key
    assert key.startswith("CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(CONCAT(")
    assert key.endswith(", 1, 15)) AS INT64)")


# -- retries and errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (api_error(503, "backendError"), True),
        (api_error(500, "internalError"), True),
        (api_error(403, "rateLimitExceeded"), True),  # BigQuery's rate limits are 403s
        (api_error(429, None), True),
        (api_error(502, None), True),
        (api_error(503, None), True),
        (requests.exceptions.ConnectionError("reset"), True),
        (ConnectionResetError("reset"), True),
        (api_error(400, "invalidQuery"), False),
        (api_error(400, "resourcesExceeded"), False),
        (api_error(403, "accessDenied"), False),
        (api_error(404, "notFound"), False),
        (api_error(403, "quotaExceeded"), False),
        (api_error(400, "invalid"), False),
        (requests.exceptions.SSLError("bad certificate"), False),
        (api_exceptions.RetryError("gave up", api_error(503, "backendError")), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_transient_errors_are_retried(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient


class Flaky:
    """Fails with each of ``errors`` in turn, then returns "done"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def fast_retry(deadline: float = 5.0) -> Retry:
    return Retry(predicate=is_transient, initial=0.01, maximum=0.05, timeout=deadline)


def test_the_retry_retries_transient_errors_then_succeeds() -> None:
    flaky = Flaky(api_error(503, "backendError"), api_error(403, "rateLimitExceeded"))
    assert fast_retry()(flaky)() == "done"
    assert flaky.calls == 3


def test_the_retry_stops_at_once_on_a_permanent_error() -> None:
    flaky = Flaky(api_error(400, "invalidQuery", "Syntax error: Unexpected keyword at [1:5]"))
    with pytest.raises(api_exceptions.BadRequest) as caught:
        fast_retry()(flaky)()
    assert flaky.calls == 1
    error = bigquery_error("create table d.fact_orders", caught.value, deadline_s=5, timeout_s=9)
    assert str(error) == (
        "create table d.fact_orders: invalidQuery: Syntax error: Unexpected keyword at [1:5]"
    )


def test_the_retry_gives_up_at_the_deadline_with_a_clear_message() -> None:
    flaky = Flaky(*[api_error(503, "backendError", "try later")] * 1000)
    started = dt.datetime.now()
    with pytest.raises(api_exceptions.RetryError) as caught:
        fast_retry(deadline=0.3)(flaky)()
    assert (dt.datetime.now() - started).total_seconds() < 2
    assert 2 < flaky.calls < 1000
    message = str(bigquery_error("query", caught.value, deadline_s=0.3, timeout_s=9))
    assert message.startswith("query: still failing after retrying transient errors for 0.3s")
    assert "backendError: try later" in message


def test_error_messages_are_one_line_with_hints() -> None:
    denied = api_error(403, "accessDenied", "Access Denied: Dataset p:d\nLocation: US\nJob ID: x")
    assert describe(denied) == (
        "accessDenied: Access Denied: Dataset p:d; the account needs the BigQuery Data Editor "
        "and BigQuery Job User roles"
    )


# -- failed loads ------------------------------------------------------------------------


def orders_csv(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / ORDERS.file_name
    header = ",".join(ORDERS.column_names)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


GOOD = "o1,c1,delivered,2017-10-02 10:56:33,,,,2017-10-18 00:00:00"


def test_a_bad_value_is_found_by_physical_line_and_column(tmp_path: Path) -> None:
    path = orders_csv(
        tmp_path,
        GOOD,
        'o2,"c\n2",delivered,2017-10-02 10:56:33,,,,2017-10-18 00:00:00',  # two lines
        "o3,c3,delivered,2017-13-45 10:56:33,,,,2017-10-18 00:00:00",
    )
    assert find_bad_value(path, ORDERS.columns) == (
        "line 5, column 'order_purchase_timestamp': '2017-13-45 10:56:33' is not a TIMESTAMP "
        "(expected YYYY-MM-DD HH:MM:SS)"
    )
    assert find_bad_value(orders_csv(tmp_path, GOOD), ORDERS.columns) is None
    assert find_bad_value(orders_csv(tmp_path, GOOD + ",extra"), ORDERS.columns) == (
        "line 2: 9 fields, expected 8 (extra field)"
    )


def test_a_load_error_falls_back_on_what_bigquery_said(tmp_path: Path) -> None:
    # BigQuery rejected something the local check accepts: its own words, and the line of
    # the byte offset it gave.
    path = orders_csv(tmp_path, GOOD, GOOD)
    offset = len(",".join(ORDERS.column_names)) + 1 + len(GOOD) + 1 + 3  # in line 3
    errors = [
        {"reason": "invalid", "message": "Error while reading data, error message: CSV table "
         "encountered too many errors, giving up. Rows: 2; errors: 1."},
        {"reason": "invalid", "message": "Error while reading data, error message: Bad "
         f"character (ASCII 0) encountered. for field customer_id starting at location {offset}"},
    ]  # fmt: skip
    error = load_error(path.name, path, ORDERS.columns, errors, api_error(400, "invalid"))
    assert str(error) == (
        f"{path.name}, line 3, column 'customer_id': Bad character (ASCII 0) encountered. "
        f"for field customer_id starting at location {offset}"
    )


# -- credentials and start-up ------------------------------------------------------------


def test_a_bad_key_file_is_named_and_its_contents_never_shown(tmp_path: Path) -> None:
    secret = "-----BEGIN PRIVATE KEY-----SECRETSECRET"
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "private_key": secret}))
    settings = Settings(warehouse="bigquery", bq_project="p-1", bq_credentials=key)
    with pytest.raises(UsageError) as caught:
        make_client(settings)
    assert str(caught.value).startswith(f"OLIST_BQ_CREDENTIALS={key}: not a service-account")
    assert "SECRET" not in str(caught.value)
    missing = Settings(warehouse="bigquery", bq_credentials=tmp_path / "nope.json")
    with pytest.raises(UsageError, match="no such file"):
        make_client(missing)


def test_a_project_id_that_could_break_sql_is_refused() -> None:
    settings = Settings(
        warehouse="bigquery", bq_project="p`; drop", bq_api_endpoint="http://127.0.0.1:9"
    )
    with pytest.raises(UsageError, match="not a valid Google Cloud project id"):
        make_client(settings)


def test_a_dry_run_on_duckdb_says_it_needs_bigquery(tmp_path: Path) -> None:
    from olist_cli.engine import load_project
    from olist_cli.engine.dryrun import dry_run_models
    from olist_cli.warehouse import connect

    settings = Settings(data_dir=tmp_path)
    warehouse = connect(settings)
    try:
        with pytest.raises(UsageError, match="--dry-run needs a warehouse that estimates"):
            dry_run_models(settings, warehouse, load_project(settings, warehouse.dialect))
    finally:
        warehouse.close()


def test_help_and_duckdb_runs_import_no_google_module(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from olist_cli.cli import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "from olist_cli.settings import Settings\n"
        "from olist_cli.warehouse import connect\n"
        f"connect(Settings(data_dir={str(tmp_path)!r})).close()\n"
        "print(sorted(m for m in sys.modules if m.startswith('google') or 'bigquery' in m))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.strip() == "[]"


def test_the_emulator_setup_fails_loudly_without_python_3_13(tmp_path: Path) -> None:
    """A machine without Python 3.13: the setup exits 1 saying so (the tests then fail)."""
    from bigquery_emulator import SETUP

    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(SETUP, repo / "scripts" / SETUP.name)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    env = {"PATH": str(empty), "PYENV_ROOT": str(tmp_path / "no-pyenv"), "HOME": str(tmp_path)}
    done = subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(repo / "scripts" / SETUP.name)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Python 3.13 not found" in done.stderr
    assert not (repo / ".emulators" / "bigquery-venv").exists()
