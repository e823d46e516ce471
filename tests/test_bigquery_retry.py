"""Retries and transactions against the emulator, through a loopback proxy that fails on cue.

The proxy forwards every request to local-bigquery, except those a test scripts to fail:
an HTTP status with BigQuery's JSON error body (reason included), so the real client
sees exactly what Google would send. Nothing inside the client is mocked.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bigquery_emulator import Emulator, bigquery_emulator, free_port  # noqa: F401
from olist_cli.dataset import SELLERS
from olist_cli.errors import LoadError, OlistError
from olist_cli.settings import Settings
from olist_cli.warehouse.bigquery import BigQueryWarehouse

STATUS = {403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


class FaultyProxy:
    """Forwards to ``upstream``; the next requests matching a rule get its faults first."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.rules: list[tuple[str, str, list[tuple[int, str]]]] = []  # method, path part
        self.seen: list[str] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy.fault_for(self.command, self.path)
                if fault is not None:
                    status, reason = fault
                    self._reply(status, {"Content-Type": "application/json"}, error(status, reason))
                    return
                request = urllib.request.Request(
                    proxy.upstream + self.path,
                    data=body if self.command in ("POST", "PUT", "PATCH") else None,
                    method=self.command,
                    headers={
                        k: v
                        for k, v in self.headers.items()
                        if k.lower() not in ("host", "content-length", "connection")
                    },
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        self._reply(response.status, dict(response.headers), response.read())
                except urllib.error.HTTPError as failed:
                    self._reply(failed.code, dict(failed.headers), failed.read())

            def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def fail(self, method: str, path_part: str, *faults: tuple[int, str]) -> None:
        with self.lock:
            self.rules.append((method, path_part, list(faults)))

    def fault_for(self, method: str, path: str) -> tuple[int, str] | None:
        with self.lock:
            self.seen.append(f"{method} {path.split('?')[0]}")
            for rule_method, part, faults in self.rules:
                if rule_method == method and part in path and faults:
                    return faults.pop(0)
        return None

    def count(self, method: str, path_part: str) -> int:
        return sum(1 for s in self.seen if s.startswith(method) and path_part in s)


def error(status: int, reason: str) -> bytes:
    message = f"proxy says {reason}"
    return json.dumps(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
                "status": STATUS.get(status, "UNKNOWN"),
            }
        }
    ).encode()


@pytest.fixture
def proxy(bigquery_emulator: Emulator) -> Iterator[FaultyProxy]:  # noqa: F811
    faulty = FaultyProxy(bigquery_emulator.endpoint)
    faulty.thread.start()
    yield faulty
    faulty.server.shutdown()
    faulty.server.server_close()


@contextmanager
def warehouse_at(
    endpoint: str, tmp_path: Path, deadline_s: float = 30.0
) -> Iterator[BigQueryWarehouse]:
    """A BigQuery warehouse on ``endpoint``, closed when the block ends (however it ends)."""
    settings = Settings(
        warehouse="bigquery",
        bq_project="test-project",
        bq_api_endpoint=endpoint,
        bq_retry_deadline_s=deadline_s,
        data_dir=tmp_path,
        raw_dataset="retry_raw",
    )
    warehouse = BigQueryWarehouse(settings)
    try:
        yield warehouse
    finally:
        warehouse.close()


JOBS = "/projects/test-project/jobs"


class RetryClock:
    """The clock of google.api_core's retry loop, which the client and the warehouse use:
    each wait is recorded and moves the clock on at once. The deadline then counts the
    waits only, never how long a busy machine takes to answer, and no test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry loop's waits, in order (on RetryClock); the jitter at its top, so that
    each wait is the backoff's full delay: 1 s doubling to at most 32 s."""
    from google.api_core.retry import retry_base, retry_unary

    clock = RetryClock()
    monkeypatch.setattr(retry_unary, "time", clock)  # its sleep and its deadline
    monkeypatch.setattr(retry_base, "time", clock)  # the deadline check before a wait
    monkeypatch.setattr(retry_base.random, "uniform", lambda low, high: high)
    return clock.waits


def test_transient_errors_are_retried_until_the_call_succeeds(
    proxy: FaultyProxy, tmp_path: Path, waits: list[float]
) -> None:
    proxy.fail("POST", JOBS, (503, "backendError"), (403, "rateLimitExceeded"))
    proxy.fail("GET", "/queries/", (500, "internalError"))
    with warehouse_at(proxy.url, tmp_path) as warehouse:
        assert warehouse.query("select 1 as one") == [(1,)]
    assert proxy.count("POST", JOBS) == 3  # two refused, the third went through
    # Each call backs off on its own: 1 s, then 2 s before the third POST; 1 s for the GET.
    assert waits == [1.0, 2.0, 1.0]


@pytest.mark.parametrize(
    ("status", "reason", "hint"),
    [
        (403, "accessDenied", "BigQuery Data Editor and BigQuery Job User"),
        (400, "resourcesExceeded", "more resources than one job may use"),
        (404, "notFound", ""),
    ],
)
def test_permanent_errors_fail_at_once(
    proxy: FaultyProxy, tmp_path: Path, waits: list[float], status: int, reason: str, hint: str
) -> None:
    proxy.fail("POST", JOBS, (status, reason))
    with (
        warehouse_at(proxy.url, tmp_path) as warehouse,
        pytest.raises(OlistError) as caught,
    ):
        warehouse.query("select 1 as one")
    assert waits == []
    assert proxy.count("POST", JOBS) == 1
    message = str(caught.value)
    assert message.startswith(f"select 1 as one: {reason}: proxy says {reason}")
    assert hint in message and "\n" not in message


def test_an_invalid_query_fails_at_once_naming_the_statement(
    proxy: FaultyProxy, tmp_path: Path
) -> None:
    with (
        warehouse_at(proxy.url, tmp_path) as warehouse,
        pytest.raises(OlistError, match=r"^selec 1 from nowhere: invalidQuery: Syntax error"),
    ):
        warehouse.query("selec 1 from nowhere")
    assert proxy.count("POST", JOBS) == 1


def test_retries_stop_at_the_deadline(
    proxy: FaultyProxy, tmp_path: Path, waits: list[float]
) -> None:
    proxy.fail("POST", JOBS, *[(503, "backendError")] * 100)
    with (
        warehouse_at(proxy.url, tmp_path, deadline_s=100.0) as warehouse,
        pytest.raises(OlistError) as caught,
    ):
        warehouse.query("select 1 as one")
    # 1 s doubling to 32 s, then 32 s: 95 s waited; 32 s more would pass the deadline.
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 32.0]
    assert proxy.count("POST", JOBS) == len(waits) + 1  # and the job is not started again
    assert str(caught.value).startswith(
        "select 1 as one: still failing after retrying transient errors for 100s "
        "(OLIST_BQ_RETRY_DEADLINE_S): backendError: proxy says backendError"
    )


def test_an_unreachable_endpoint_is_retried_then_reported(
    tmp_path: Path, waits: list[float]
) -> None:
    with (
        warehouse_at(f"http://127.0.0.1:{free_port()}", tmp_path, deadline_s=5.0) as warehouse,
        pytest.raises(OlistError, match="still failing after retrying transient errors for 5s"),
    ):
        warehouse.query("select 1")
    assert waits == [1.0, 2.0]  # 3 s waited; 4 s more would pass the deadline


def test_a_load_whose_upload_fails_once_is_loaded_again(
    proxy: FaultyProxy, tmp_path: Path, waits: list[float]
) -> None:
    path = tmp_path / SELLERS.file_name
    path.write_text(",".join(SELLERS.column_names) + "\ns1,01001,sao paulo,SP\n", encoding="utf-8")
    proxy.fail("POST", "/upload/", (503, "backendError"))
    with warehouse_at(proxy.url, tmp_path) as warehouse:
        assert warehouse.load_csv("retry_raw", "sellers_raw", path, SELLERS.columns).rows == 1
        assert warehouse.row_count("retry_raw", "sellers_raw") == 1
    assert proxy.count("POST", "/upload/") == 2
    assert waits == [1.0]


def test_a_bad_file_is_not_retried(proxy: FaultyProxy, tmp_path: Path) -> None:
    path = tmp_path / SELLERS.file_name
    path.write_text(",".join(SELLERS.column_names) + "\ns1,01001\n", encoding="utf-8")
    with (
        warehouse_at(proxy.url, tmp_path) as warehouse,
        pytest.raises(LoadError, match=rf"^{SELLERS.file_name}, line 2: 2 fields, expected 4"),
    ):
        warehouse.load_csv("retry_raw", "sellers_short", path, SELLERS.columns)
    assert proxy.count("POST", "/upload/") == 1


def test_a_transaction_commits_or_rolls_back_its_statements(
    bigquery_emulator: Emulator,  # noqa: F811
    tmp_path: Path,
) -> None:
    with warehouse_at(bigquery_emulator.endpoint, tmp_path) as warehouse:
        table = warehouse.relation("retry_raw", "ledger")
        warehouse.ensure_schema("retry_raw")
        warehouse.execute(f"create or replace table {table} (n INT64, note STRING)")
        with warehouse.transaction():
            warehouse.execute(f"insert into {table} values (?, ?)", [1, "kept"])
            warehouse.execute(f"insert into {table} values (?, ?)", [2, None])
        with pytest.raises(RuntimeError), warehouse.transaction():
            warehouse.execute(f"insert into {table} values (?, ?)", [3, "rolled back"])
            raise RuntimeError("something went wrong before the commit")
        assert sorted(warehouse.query(f"select n, note from {table}")) == [(1, "kept"), (2, None)]
