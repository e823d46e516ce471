"""What a build or a test run reports, one frozen record per model or test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class JobBytes:
    """Bytes processed and billed by the jobs of one model or test, where an engine says.

    An adapter that reports them has a ``meter()`` context manager yielding one of these,
    filled in by the jobs its thread runs inside (BigQuery); for the others both stay None.
    """

    processed: int | None = None
    billed: int | None = None


@contextmanager
def metered(warehouse: object) -> Iterator[JobBytes]:
    """The bytes of the jobs run inside, on this thread, if the warehouse counts them."""
    meter = getattr(warehouse, "meter", None)  # a capability, not part of the Protocol
    if meter is None:
        yield JobBytes()
        return
    with meter() as used:
        yield used


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
