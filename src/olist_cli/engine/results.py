"""What a build or a test run reports, one frozen record per model or test."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ModelStatus = Literal["success", "up to date", "error", "skipped"]
TestStatus = Literal["pass", "fail", "warn", "error"]  # cached results say so in message


@dataclass(frozen=True)
class ModelResult:
    name: str
    layer: str
    materialization: str
    status: ModelStatus
    duration_s: float
    rows: int | None  # table rows, rows merged for an incremental run, None for a view
    message: str
    bytes_processed: int | None = None  # where the engine reports it (BigQuery)
    bytes_billed: int | None = None


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class, despite the name

    name: str
    model: str | None
    severity: str
    status: TestStatus
    failures: int
    duration_s: float
    sql: str  # the compiled failing-rows SELECT, to reproduce the failure by hand
    sample_rows: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    bytes_processed: int | None = None  # where the engine reports it (BigQuery)
    bytes_billed: int | None = None
