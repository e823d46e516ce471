"""Behaving like a scheduled job: run results, alerts, log formats, status, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest

from helpers import ITEMS_FILE, ORDERS_FILE, duplicate_a_line, generate, olist, query, replace_field
from olist_cli.errors import EXIT_FAILURE, EXIT_LOCKED, EXIT_OK, EXIT_USAGE

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((REPO / "docs" / "run_results.schema.json").read_text(encoding="utf-8"))
OLIST = str(Path(sys.executable).parent / "olist")


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("ops-sample") / "raw", scale=0.01, seed=3)


def broken_copy(sample_files: Path, target: Path) -> Path:
    """The sample with one bad price: the load must stop on it."""
    shutil.copytree(sample_files, target)
    replace_field(target / ITEMS_FILE, 2, 5, "not-a-price")
    return target


def results_json(workdir: Path) -> dict[str, Any]:
    return json.loads((workdir / "target" / "run_results.json").read_text(encoding="utf-8"))


# -- run results -------------------------------------------------------------------------


def test_run_results_after_a_successful_run(tmp_path: Path, sample_files: Path) -> None:
    result = olist(["run-all", "--source", str(sample_files)], tmp_path / "data")
    assert result.exit_code == EXIT_OK, result.output
    doc = results_json(tmp_path)
    jsonschema.validate(doc, SCHEMA)
    assert doc["command"] == "run-all" and doc["status"] == "success" and doc["exit_code"] == 0
    assert [s["name"] for s in doc["stages"]] == ["download", "load", "transform", "test"]
    assert len(doc["files"]) == 9 and {f["status"] for f in doc["files"]} == {"loaded"}
    assert {m["name"] for m in doc["models"]} >= {"fact_orders", "dim_customer"}
    assert len(doc["tests"]) >= 30
    assert doc["args"]["source"] == str(sample_files)

    kinds = dict(
        query(
            tmp_path / "data" / "olist.duckdb",
            "select kind, count(*) from staging._run_results where run_id = ? group by 1",
            [doc["run_id"]],
        )
    )
    assert kinds == {
        "run": 1,
        "stage": 4,
        "file": 9,
        "model": len(doc["models"]),
        "test": len(doc["tests"]),
    }


def test_run_results_after_a_failed_run(tmp_path: Path, sample_files: Path) -> None:
    broken = broken_copy(sample_files, tmp_path / "broken")
    result = olist(["run-all", "--source", str(broken)], tmp_path / "data")
    assert result.exit_code == EXIT_FAILURE
    doc = results_json(tmp_path)
    jsonschema.validate(doc, SCHEMA)
    assert doc["status"] == "failed" and doc["exit_code"] == 1
    assert doc["error"]["type"] == "LoadError"
    assert "olist_order_items_dataset.csv" in doc["error"]["message"]
    assert [(s["name"], s["status"]) for s in doc["stages"]] == [
        ("download", "success"),
        ("load", "failed"),
    ]


def test_a_run_that_fails_before_using_the_warehouse_is_still_recorded_there(
    tmp_path: Path, sample_files: Path
) -> None:
    """The warehouse opens on first use; a run that never got that far opens it to record."""
    data_dir = tmp_path / "data"
    assert olist(["load", "--source", str(sample_files)], data_dir).exit_code == EXIT_OK
    result = olist(["run-all", "--source", str(tmp_path / "nowhere")], data_dir)
    assert result.exit_code != EXIT_OK
    doc = results_json(tmp_path)
    assert [(s["name"], s["status"]) for s in doc["stages"]] == [("download", "failed")]
    rows = query(
        data_dir / "olist.duckdb",
        "select kind, name, status from staging._run_results where run_id = ? order by kind",
        [doc["run_id"]],
    )
    assert rows == [("run", "run-all", "usage_error"), ("stage", "download", "failed")]


@pytest.mark.parametrize("command", ["run-all", "load", "transform"])
def test_a_warehouse_file_that_is_not_duckdb_is_one_line_naming_it(
    command: str, tmp_path: Path, sample_files: Path
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "olist.duckdb").write_text("not a database\n", encoding="utf-8")
    args = [command] if command == "transform" else [command, "--source", str(sample_files)]
    result = olist(args, data_dir)
    assert result.exit_code == EXIT_FAILURE
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: cannot open the warehouse {data_dir / 'olist.duckdb'}: ")
    assert "not a valid DuckDB database file" in error and "Traceback" not in result.output
    assert "_run_results" not in result.output  # not opened a second time to record the run
    assert results_json(tmp_path)["error"]["type"] == "DamagedWarehouseError"


@pytest.mark.parametrize("command", ["run-all", "load"])
def test_the_files_are_hashed_while_the_warehouse_opens(
    command: str, tmp_path: Path, sample_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing starts before the warehouse is opened: it uses the cores opening leaves idle."""
    import olist_cli.pipeline
    from olist_cli.filehash import Md5Cache

    events: list[str] = []
    real_hashing, real_open = Md5Cache.hashing, olist_cli.pipeline.open_warehouse

    def hashing(self: Md5Cache, *args: Any, **kwargs: Any) -> Any:
        events.append("hash")
        return real_hashing(self, *args, **kwargs)

    @contextmanager
    def open_warehouse(*args: Any, **kwargs: Any) -> Iterator[Any]:
        events.append("open")
        with real_open(*args, **kwargs) as warehouse:
            yield warehouse

    monkeypatch.setattr(Md5Cache, "hashing", hashing)
    monkeypatch.setattr(olist_cli.pipeline, "open_warehouse", open_warehouse)
    result = olist([command, "--source", str(sample_files)], tmp_path / "data")
    assert result.exit_code == EXIT_OK, result.output
    assert events == ["hash", "open"]


def test_run_results_path_is_a_setting(tmp_path: Path, sample_files: Path) -> None:
    target = tmp_path / "elsewhere" / "results.json"
    result = olist(
        ["load", "--source", str(sample_files)],
        tmp_path / "data",
        OLIST_RUN_RESULTS_PATH=str(target),
    )
    assert result.exit_code == EXIT_OK, result.output
    doc = json.loads(target.read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA)
    assert doc["command"] == "load"


# -- alerts ------------------------------------------------------------------------------


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP server that records what is POSTed to it."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # keep the test output clean
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook/secret-token", received
    server.shutdown()
    server.server_close()


def test_a_failed_run_posts_an_alert(
    tmp_path: Path, sample_files: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    broken = broken_copy(sample_files, tmp_path / "broken")
    result = olist(
        ["run-all", "--source", str(broken)], tmp_path / "data", OLIST_ALERT_WEBHOOK_URL=url
    )
    assert result.exit_code == EXIT_FAILURE
    assert len(received) == 1
    payload = received[0]
    assert payload["stage"] == "load"
    assert payload["command"] == "run-all" and payload["status"] == "failed"
    assert "olist_order_items_dataset.csv" in payload["error"]
    assert payload["text"].startswith("olist run-all failed in load: ")
    assert payload["run_id"] == results_json(tmp_path)["run_id"]
    assert isinstance(payload["duration_s"], float) and payload["failed_tests"] == []
    assert "alert sent" in result.output
    assert "secret-token" not in result.output  # the URL carries a token: never printed


def test_a_successful_run_sends_no_alert_unless_warnings_are_asked_for(
    tmp_path: Path, sample_files: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    quiet_run = olist(
        ["run-all", "--source", str(sample_files)], tmp_path / "data", OLIST_ALERT_WEBHOOK_URL=url
    )
    assert quiet_run.exit_code == EXIT_OK and received == []
    warned = olist(
        ["run-all", "--source", str(sample_files), "--force"],
        tmp_path / "data",
        OLIST_ALERT_WEBHOOK_URL=url,
        OLIST_ALERT_ON_WARN="true",
    )
    assert warned.exit_code == EXIT_OK
    assert len(received) == 1 and received[0]["warned_tests"]
    assert received[0]["text"].startswith("olist run-all: ")


def test_a_dead_webhook_never_hides_the_pipeline_error(tmp_path: Path, sample_files: Path) -> None:
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"
    broken = broken_copy(sample_files, tmp_path / "broken")
    result = olist(
        ["run-all", "--source", str(broken)], tmp_path / "data", OLIST_ALERT_WEBHOOK_URL=dead
    )
    assert result.exit_code == EXIT_FAILURE  # the load's failure, not the webhook's
    assert "alert not sent: webhook unreachable" in result.output
    assert "olist_order_items_dataset.csv" in result.output.strip().splitlines()[-1]


# -- output for people and machines ------------------------------------------------------


def run_olist(args: list[str], workdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "OLIST_DATA_DIR": str(workdir / "data"), **env}
    return subprocess.run(
        [OLIST, *args], cwd=workdir, env=environment, capture_output=True, text=True, timeout=120
    )


def test_plain_output_off_a_terminal_has_no_escape_codes(
    tmp_path: Path, sample_files: Path
) -> None:
    done = run_olist(["run-all", "--source", str(sample_files)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout + done.stderr
    events = [line for line in done.stdout.splitlines() if line[:4].isdigit()]
    assert events and all(line[19:20] == "Z" for line in events)  # 2026-01-01T00:00:00Z
    assert any(" load " in line and "orders_raw" in line for line in events)


def test_json_logs_parse_line_by_line(tmp_path: Path, sample_files: Path) -> None:
    done = run_olist(["--log-format", "json", "run-all", "--source", str(sample_files)], tmp_path)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert all({"ts", "level", "stage", "message"} <= r.keys() for r in records)
    stages = {r["stage"] for r in records}
    assert {"download", "load", "model", "test", "publish", "table"} <= stages
    loads = [r for r in records if r["stage"] == "load"]
    assert len(loads) == 9 and all(len(r["md5"]) == 32 for r in loads)
    summary = next(r for r in records if r["stage"] == "table" and r["message"] == "Summary")
    assert [row["stage"] for row in summary["rows"]] == ["download", "load", "transform", "test"]


def test_json_errors_are_json_on_stderr(tmp_path: Path) -> None:
    done = run_olist(["--log-format", "json", "load"], tmp_path)
    assert done.returncode == EXIT_USAGE
    error = json.loads(done.stderr.strip().splitlines()[-1])
    assert error["level"] == "error" and "source not found" in error["message"]


# -- status ------------------------------------------------------------------------------


def test_status_on_an_empty_folder(tmp_path: Path) -> None:
    result = olist(["status"], tmp_path / "data")
    assert result.exit_code == EXIT_OK
    assert "nothing loaded or built yet" in result.output
    assert not (tmp_path / "data" / "olist.duckdb").exists()  # status creates nothing
    as_json = json.loads(olist(["status", "--json"], tmp_path / "data").output)
    assert as_json == {"raw_tables": [], "last_run": None, "tables": [], "failing_tests": []}


def test_status_on_a_built_warehouse(tmp_path: Path, sample_files: Path) -> None:
    assert olist(["run-all", "--source", str(sample_files)], tmp_path / "data").exit_code == 0
    doc = json.loads(olist(["status", "--json"], tmp_path / "data").output)
    assert [r["table"] for r in doc["raw_tables"]][:2] == ["orders_raw", "customers_raw"]
    assert len(doc["raw_tables"]) == 9 and all(len(r["md5"]) == 32 for r in doc["raw_tables"])
    assert doc["last_run"]["command"] == "run-all" and doc["last_run"]["status"] == "success"
    tables = {t["table"]: t for t in doc["tables"]}
    ((orders, latest),) = query(
        tmp_path / "data" / "olist.duckdb",
        "select count(*), max(order_purchase_timestamp) from staging.orders_raw",
    )
    assert tables["fact_orders"]["rows"] == orders
    assert tables["fact_orders"]["freshness"].startswith(latest.date().isoformat())
    assert doc["failing_tests"] == []
    text = olist(["status"], tmp_path / "data").output
    assert "fact_orders" in text and "Last run" in text


def test_status_lists_tests_that_failed_in_their_last_run(
    tmp_path: Path, sample_files: Path
) -> None:
    assert olist(["run-all", "--source", str(sample_files)], tmp_path / "data").exit_code == 0
    duplicated = tmp_path / "dup"
    shutil.copytree(sample_files, duplicated)
    duplicate_a_line(duplicated, ORDERS_FILE)  # one order twice
    assert (
        olist(["run-all", "--source", str(duplicated)], tmp_path / "data").exit_code == EXIT_FAILURE
    )
    doc = json.loads(olist(["status", "--json"], tmp_path / "data").output)
    assert doc["last_run"]["status"] == "failed"
    assert "unique_stg_orders_order_id" in {t["test"] for t in doc["failing_tests"]}


# -- exit codes and settings -------------------------------------------------------------


def test_every_exit_code(tmp_path: Path, sample_files: Path) -> None:
    from filelock import FileLock

    assert olist(["load", "--source", str(sample_files)], tmp_path / "data").exit_code == EXIT_OK
    broken = broken_copy(sample_files, tmp_path / "broken")
    assert olist(["load", "--source", str(broken)], tmp_path / "data").exit_code == EXIT_FAILURE
    assert olist(["download", "--scale", "0"], tmp_path / "data").exit_code == EXIT_USAGE
    assert olist(["download", "--as-of", "yesterday"], tmp_path / "data").exit_code == EXIT_USAGE
    assert olist(["transform", "--no-such-option"], tmp_path / "data").exit_code == EXIT_USAGE
    assert olist(["transform"], tmp_path / "data", OLIST_THREADS="many").exit_code == EXIT_USAGE
    with FileLock(tmp_path / "data" / "olist.duckdb.lock"):
        locked = olist(["transform"], tmp_path / "data", OLIST_LOCK_TIMEOUT_S="0")
        assert locked.exit_code == EXIT_LOCKED


def test_settings_errors_name_every_invalid_field_at_once(tmp_path: Path) -> None:
    result = olist(
        ["transform"],
        tmp_path / "data",
        OLIST_THREADS="0",
        OLIST_RETRIES="-1",
        OLIST_RAW_DATASET="raw; drop table x",
    )
    assert result.exit_code == EXIT_USAGE
    message = result.output.strip().splitlines()[-1]
    for name in ("OLIST_THREADS", "OLIST_RETRIES", "OLIST_RAW_DATASET"):
        assert name in message
    assert "Traceback" not in result.output


# -- retries -----------------------------------------------------------------------------


@dataclass
class Loads:
    """The raw tables `DuckDBWarehouse.load_csv` was asked to load, in order; each call first
    raises a TransientError when ``fails(table)`` says so."""

    calls: list[str] = field(default_factory=list)
    fails: Callable[[str], bool] = lambda table: False


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Loads:
    from olist_cli.errors import TransientError
    from olist_cli.warehouse.duckdb import DuckDBWarehouse

    spy = Loads()
    real = DuckDBWarehouse.load_csv

    def load_csv(self: DuckDBWarehouse, schema: str, table: str, *args: Any, **kwargs: Any) -> int:
        spy.calls.append(table)
        if spy.fails(table):
            raise TransientError("warehouse busy, try again")
        return real(self, schema, table, *args, **kwargs)

    monkeypatch.setattr(DuckDBWarehouse, "load_csv", load_csv)
    return spy


def test_a_transient_load_failure_is_retried_then_succeeds(
    tmp_path: Path, sample_files: Path, loads: Loads
) -> None:
    loads.fails = lambda table: table == "payments_raw" and loads.calls.count(table) == 1
    result = olist(
        ["load", "--source", str(sample_files)], tmp_path / "data", OLIST_RETRY_BACKOFF_S="0"
    )
    assert result.exit_code == EXIT_OK, result.output
    assert "retry 1/3 in 0.0s: warehouse busy, try again" in result.output
    assert loads.calls.count("payments_raw") == 2
    # Loaded before the failure: skipped by MD5 on retry.
    assert loads.calls.count("orders_raw") == 1
    assert results_json(tmp_path)["status"] == "success"


def test_a_transient_failure_that_lasts_gives_up_after_the_retries(
    tmp_path: Path, sample_files: Path, loads: Loads
) -> None:
    loads.fails = lambda table: True
    result = olist(
        ["load", "--source", str(sample_files)],
        tmp_path / "data",
        OLIST_RETRY_BACKOFF_S="0",
        OLIST_RETRIES="2",
    )
    assert result.exit_code == EXIT_FAILURE
    assert loads.calls == ["orders_raw"] * 3  # the first try and two retries


def test_a_permanent_load_failure_is_not_retried(
    tmp_path: Path, sample_files: Path, loads: Loads
) -> None:
    broken = broken_copy(sample_files, tmp_path / "broken")
    result = olist(["load", "--source", str(broken)], tmp_path / "data", OLIST_RETRY_BACKOFF_S="0")
    assert result.exit_code == EXIT_FAILURE
    assert "retry" not in result.output
    assert loads.calls.count("order_items_raw") == 1


def test_an_older_run_results_table_gains_the_new_columns(
    tmp_path: Path, sample_files: Path
) -> None:
    db = tmp_path / "data" / "olist.duckdb"
    db.parent.mkdir(parents=True)
    con = duckdb.connect(str(db))
    con.execute("create schema staging")
    con.execute(  # the first release's shape: a `rows` column, no bytes billed
        "create table staging._run_results (run_id varchar, command varchar, kind varchar, "
        "name varchar, status varchar, started_at timestamp, finished_at timestamp, "
        "duration_s double, rows bigint, bytes_processed bigint, message varchar)"
    )
    con.close()
    result = olist(["load", "--source", str(sample_files)], tmp_path / "data")
    assert result.exit_code == EXIT_OK, result.output
    assert "could not append" not in result.output
    ((loaded,),) = query(db, "select sum(row_count) from staging._run_results where kind = 'file'")
    assert loaded == sum(f["rows"] for f in results_json(tmp_path)["files"]) > 0


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from olist_cli.cli import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('duckdb', 'pandas', 'numpy', 'google', 'kaggle', 'matplotlib', 'pydantic')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


# Run in a child process, where DuckDB draws the bar by default (not under pytest).
# progress_bar_time = 0 (2,000 ms by default) makes every statement draw it at once, however
# fast or busy the machine. Setting it turns the bar on too, so it is set in front of what the
# warehouse sets on each session, whose own statements then draw one: only what the
# statements print after MARK counts.
MARK = "-- the statements --\n"
DRAW_PROGRESS = f"""
import os, sys, threading
import duckdb
import olist_cli.warehouse.duckdb as module

STATEMENT = "select count(*) from range(10_000_000) t(i) where i % 7 = 3"
MARK = {MARK!r}.encode()

if sys.argv[1] == "plain":  # the control: any connection, with the bar on
    con = duckdb.connect()
    con.execute("SET progress_bar_time = 0")
    os.write(1, MARK)
    con.execute(STATEMENT).fetchall()
    sys.exit()

configure = module._configure_session

def bar_at_once(con):
    con.execute("SET progress_bar_time = 0")
    configure(con)

module._configure_session = bar_at_once
wh = module.DuckDBWarehouse(":memory:", threads=2)
ready, go = threading.Event(), threading.Event()

def in_another_thread():
    wh.con  # its own cursor, configured now
    ready.set()
    go.wait()
    wh.query(STATEMENT)

worker = threading.Thread(target=in_another_thread)
worker.start()
ready.wait()
os.write(1, MARK)
go.set()
wh.query(STATEMENT)
worker.join()
wh.close()
"""


def test_duckdb_draws_no_progress_bar_on_stdout() -> None:
    """DuckDB prints a progress bar to stdout, terminal or not, for any statement over 2 s:
    in olist's output it would break JSON log lines and fill cron logs."""

    def printed_by_the_statements(which: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", DRAW_PROGRESS, which],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert MARK in done.stdout, done.stdout
        return done.stdout.split(MARK, 1)[1]

    # The control: the same statement does draw a bar on a connection that leaves it on.
    assert "100%" in printed_by_the_statements("plain")
    assert printed_by_the_statements("warehouse") == ""
