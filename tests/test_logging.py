"""`--log-format json` for a log service: every line of a real run is one JSON object with the
fields Cloud Logging reads (severity, message, time, labels), whatever the run did."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers import duplicate_a_line, generate
from olist_cli.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE

REPO = Path(__file__).resolve().parents[1]
OLIST = str(Path(sys.executable).parent / "olist")
SEVERITIES = {"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"}
# The special fields Cloud Logging reads from a structured line's JSON.
LABELS = "logging.googleapis.com/labels"
OPERATION = "logging.googleapis.com/operation"
CUSTOMERS = "olist_customers_dataset.csv"


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("logging-sample") / "raw", scale=0.01, seed=5)


@dataclass
class Logged:
    """One `olist --log-format json ...` process: its exit code and the objects it wrote."""

    code: int
    stdout: list[dict[str, Any]]
    stderr: list[dict[str, Any]]

    @property
    def lines(self) -> list[dict[str, Any]]:
        return self.stdout + self.stderr

    def severities(self) -> set[str]:
        return {r["severity"] for r in self.lines}


def parse_lines(text: str, stream: str) -> list[dict[str, Any]]:
    """Every line one JSON object carrying Cloud Logging's fields and olist's own."""
    records = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"a line on {stream} is not JSON: {line!r}")
        assert isinstance(record, dict), line
        assert record["severity"] in SEVERITIES, line
        assert isinstance(record["message"], str) and record["message"], line
        # RFC 3339 in UTC, as Cloud Logging's `time` field takes it.
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", record["time"]), line
        assert dt.datetime.fromisoformat(record["time"]).utcoffset() == dt.timedelta(0)
        # The fields the JSON lines carried before, which other readers use.
        assert {"ts", "level", "stage"} <= record.keys(), line
        labels = record[LABELS]
        assert labels["stage"] == record["stage"]
        assert all(isinstance(v, str) for v in labels.values()), line  # labels are strings
        records.append(record)
    return records


def run_json(args: list[str], workdir: Path, **env: str) -> Logged:
    environment = {**os.environ, "OLIST_DATA_DIR": str(workdir / "data"), **env}
    done = subprocess.run(
        [OLIST, "--log-format", "json", *args],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return Logged(
        done.returncode, parse_lines(done.stdout, "stdout"), parse_lines(done.stderr, "stderr")
    )


def run_id(workdir: Path) -> str:
    results = workdir / "target" / "run_results.json"
    return str(json.loads(results.read_text(encoding="utf-8"))["run_id"])


def dead_port() -> int:
    with socket.socket() as probe:  # bound, never listening: connections are refused
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_labelled_with_the_run(logged: Logged, workdir: Path, command: str) -> None:
    run = run_id(workdir)
    for record in logged.lines:
        assert record[LABELS]["run_id"] == run and record[LABELS]["command"] == command
        assert record[OPERATION] == {"id": run, "producer": "olist"}


# -- the levels olist uses ---------------------------------------------------------------


def test_every_level_in_the_code_has_a_severity() -> None:
    """A level without a Cloud Logging severity would be logged as DEFAULT, below any alert."""
    from olist_cli.console import SEVERITY

    used = set()
    for path in (REPO / "src" / "olist_cli").rglob("*.py"):
        # Each value given to a level: `level="error" if r in bad else "warning"` gives two.
        for given in re.findall(r"\blevel\s*=(?!=)\s*([^,)\n]+)", path.read_text(encoding="utf-8")):
            given = re.sub(r"[=!]= \"\w+\"", "", given)  # a comparison's operand is no level
            used |= set(re.findall(r"\"(\w+)\"", given))
    assert used >= {"info", "warning", "retry", "error", "summary"}
    assert used <= SEVERITY.keys()
    assert set(SEVERITY.values()) == SEVERITIES


# -- real runs ---------------------------------------------------------------------------


def test_a_successful_run(tmp_path: Path, sample_files: Path) -> None:
    logged = run_json(["run-all", "--source", str(sample_files)], tmp_path)
    assert logged.code == EXIT_OK
    assert logged.stderr == []  # stderr is for errors
    assert {"INFO", "NOTICE", "WARNING"} <= logged.severities()
    assert not logged.severities() & {"ERROR", "CRITICAL"}  # nothing for an alert to fire on
    assert_labelled_with_the_run(logged, tmp_path, "run-all")
    warned = [r for r in logged.stdout if r["severity"] == "WARNING"]
    assert warned and all(r["stage"] == "test" and r["status"] == "warn" for r in warned)
    summary = next(r for r in logged.stdout if r["message"] == "Summary")
    assert summary["severity"] == "NOTICE" and summary[LABELS]["stage"] == "table"
    loads = [r for r in logged.stdout if r["stage"] == "load"]
    assert len(loads) == 9 and all(r["severity"] == "INFO" for r in loads)


def test_a_failing_data_test_is_an_error_an_alert_can_fire_on(
    tmp_path: Path, sample_files: Path
) -> None:
    source = tmp_path / "source"
    shutil.copytree(sample_files, source)
    duplicate_a_line(source, CUSTOMERS)  # a customer twice: the unique tests fail
    logged = run_json(["--verbose", "run-all", "--source", str(source)], tmp_path)
    assert logged.code == EXIT_FAILURE
    failed = [r for r in logged.stdout if r["stage"] == "test" and r.get("status") == "fail"]
    assert failed and all(r["severity"] == "ERROR" for r in failed)
    assert "unique_stg_customers_customer_id" in {r["test"] for r in failed}
    [error] = logged.stderr  # the run's outcome, on stderr
    assert error["severity"] == "ERROR" and "data test(s) failed" in error["message"]
    # --verbose: the rows behind a failure, as DEBUG lines of the test stage.
    debug = [r for r in logged.stdout if r["severity"] == "DEBUG"]
    assert debug and all(r["stage"] == "test" for r in debug)
    assert any(r["message"].startswith("reproduce: ") for r in debug)
    assert_labelled_with_the_run(logged, tmp_path, "run-all")


def test_retries_and_warnings(tmp_path: Path, sample_files: Path) -> None:
    shutil.copytree(sample_files, tmp_path / "data" / "raw")
    logged = run_json(
        ["archive"],
        tmp_path,
        OLIST_GCS_BUCKET="olist-test-bucket",
        OLIST_GCS_API_ENDPOINT=f"http://127.0.0.1:{dead_port()}",
        OLIST_RETRIES="2",
        OLIST_RETRY_BACKOFF_S="0",
        OLIST_ALERT_WEBHOOK_URL=f"http://127.0.0.1:{dead_port()}/hook",
    )
    assert logged.code == EXIT_FAILURE
    retries = [r for r in logged.stdout if r["level"] == "retry"]
    assert len(retries) == 2 and {r["severity"] for r in retries} == {"WARNING"}
    [alert] = [r for r in logged.stdout if r["stage"] == "alert"]
    assert alert["severity"] == "WARNING" and "alert not sent" in alert["message"]
    [error] = logged.stderr
    assert error["severity"] == "ERROR" and "after 2 retries" in error["message"]
    assert_labelled_with_the_run(logged, tmp_path, "archive")


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["run-all", "--bogus"], {}, "olist run-all: No such option: --bogus"),
        (["nosuchcommand"], {}, "No such command"),
        (["load"], {}, "source not found"),
        (["transform"], {"OLIST_THREADS": "none"}, "OLIST_THREADS"),
    ],
)
def test_a_usage_error_is_one_json_line_on_stderr(
    args: list[str], env: dict[str, str], says: str, tmp_path: Path
) -> None:
    logged = run_json(args, tmp_path, **env)
    assert logged.code == EXIT_USAGE
    assert logged.stdout == []
    [error] = logged.stderr
    assert error["severity"] == "ERROR" and says in error["message"]


def test_the_option_may_be_written_with_an_equals_sign(tmp_path: Path) -> None:
    done = subprocess.run(
        [OLIST, "--log-format=json", "run-all", "--bogus"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_USAGE
    [error] = parse_lines(done.stderr, "stderr")
    assert "--bogus" in error["message"]


# -- what olist did not write itself -------------------------------------------------------

# A process whose run_command is wrapped: the wrapper misbehaves as a bug or a library would.
_WRAPPED = """
import sys, logging, warnings
import olist_cli.pipeline as pipeline
from olist_cli import cli

real = pipeline.run_command

def wrapped(*args, **kwargs):
    {body}
    return real(*args, **kwargs)

pipeline.run_command = wrapped
sys.argv = ["olist", "--log-format", "json", "download", "--scale", "0.001"]
cli.main()
"""


def run_wrapped(body: str, workdir: Path) -> tuple[int, str, str]:
    environment = {**os.environ, "OLIST_DATA_DIR": str(workdir / "data")}
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPED.format(body=body)],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


def test_a_crash_is_one_critical_line_with_its_traceback(tmp_path: Path) -> None:
    code, out, err = run_wrapped("raise RuntimeError('boom')", tmp_path)
    assert code == EXIT_FAILURE
    assert out == ""
    [crash] = parse_lines(err, "stderr")
    assert crash["severity"] == "CRITICAL"
    assert crash["message"] == "internal error: RuntimeError: boom"
    assert "Traceback" in crash["stack_trace"] and "RuntimeError: boom" in crash["stack_trace"]


def test_python_warnings_and_library_logs_are_json_lines_too(tmp_path: Path) -> None:
    body = (
        "warnings.warn('an old way', FutureWarning); "
        "logging.getLogger('google.auth').warning('no quota project')"
    )
    code, out, err = run_wrapped(body, tmp_path)
    assert code == EXIT_OK, err
    parse_lines(out, "stdout")
    warned = parse_lines(err, "stderr")
    assert [(r["severity"], r["stage"]) for r in warned] == [("WARNING", "python")] * 2
    assert "FutureWarning: an old way" in warned[0]["message"]
    assert warned[1]["message"] == "no quota project" and warned[1]["logger"] == "google.auth"


def test_text_output_is_unchanged_by_all_this(tmp_path: Path) -> None:
    """Without --log-format json, errors stay one plain line: Click's own for bad usage."""
    done = subprocess.run([OLIST, "load"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == EXIT_USAGE
    assert done.stderr.strip().startswith("error: source not found")
    assert "{" not in done.stderr
