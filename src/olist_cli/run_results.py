"""The record of a run: `target/run_results.json` and rows in the `_run_results` table.

The JSON has a documented, versioned shape (docs/run-results.md,
docs/run_results.schema.json): bump SCHEMA_VERSION on any incompatible change. The table
holds the same facts as one row per entry (the run, each stage, file, model and test), so
a warehouse user can ask SQL what ran when and how it went.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olist_cli import __version__
from olist_cli.atomic import write_text_atomic

if TYPE_CHECKING:
    from olist_cli.warehouse.base import Warehouse

SCHEMA_VERSION = 1
RUN_RESULTS_TABLE = "_run_results"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# A result dataclass's field with this metadata set to False stays out of the record: a
# handle that means nothing once the run is over (a scratch table's name, say).
IN_RECORD = "in_run_record"


_LEFT_OUT = frozenset({"sample_rows", "sql"})  # they can be big


def _record(item: Any) -> dict[str, Any]:
    """A result (a dataclass of plain values, or a dict) as a JSON-ready dict, without its
    sample rows and SQL. Read field by field: dataclasses.asdict would deep-copy the sample
    rows only to drop them (a few ms for the 169 tests of a run)."""
    if not dataclasses.is_dataclass(item):
        return {k: v for k, v in dict(item).items() if k not in _LEFT_OUT}
    return {
        f.name: getattr(item, f.name)
        for f in dataclasses.fields(item)
        if f.name not in _LEFT_OUT and f.metadata.get(IN_RECORD, True) is not False
    }


@dataclass
class StageResult:
    name: str
    status: str  # success | failed
    duration_s: float = 0.0
    rows: int | None = None
    message: str = ""


@dataclass
class RunRecord:
    """Everything one invocation did, filled in as it goes (so it is complete on failure)."""

    command: str
    args: dict[str, Any]
    warehouse: str = ""
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished_at: dt.datetime | None = None
    status: str = "running"
    exit_code: int | None = None
    error: dict[str, str] | None = None
    stages: list[StageResult] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    tests: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, items: list[Any]) -> None:
        getattr(self, kind).extend(_record(i) for i in items)

    def finish(self, status: str, exit_code: int, error: BaseException | None = None) -> None:
        self.finished_at = dt.datetime.now(dt.UTC)
        self.status = status
        self.exit_code = exit_code
        if error is not None:
            self.error = {"type": type(error).__name__, "message": str(error)}

    @property
    def duration_s(self) -> float:
        end = self.finished_at or dt.datetime.now(dt.UTC)
        return round((end - self.started_at).total_seconds(), 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "olist_version": __version__,
            "run_id": self.run_id,
            "command": self.command,
            "args": self.args,
            "warehouse": self.warehouse,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at) if self.finished_at else None,
            "duration_s": self.duration_s,
            "status": self.status,
            "exit_code": self.exit_code,
            "error": self.error,
            "stages": [dataclasses.asdict(s) for s in self.stages],
            "files": self.files,
            "models": self.models,
            "tests": self.tests,
        }


def write_json(record: RunRecord, path: Path) -> None:
    """Write the results atomically: a reader never sees half a file."""
    write_text_atomic(path, json.dumps(record.to_json(), indent=2, default=str) + "\n")


_TABLE_COLUMNS = (
    ("run_id", "type_string"),
    ("command", "type_string"),
    ("kind", "type_string"),
    ("name", "type_string"),
    ("status", "type_string"),
    ("started_at", "type_timestamp"),
    ("finished_at", "type_timestamp"),
    ("duration_s", "type_float"),
    ("row_count", "type_int"),  # not "rows": a reserved word in BigQuery
    ("bytes_processed", "type_int"),
    ("bytes_billed", "type_int"),
    ("message", "type_string"),
)


def table_rows(record: RunRecord) -> list[tuple[Any, ...]]:
    """One row for the run, then one per stage, file, model and test (columns as above)."""
    start = record.started_at.replace(tzinfo=None)
    end = (record.finished_at or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    # (kind, name, status, duration, row count, bytes processed, bytes billed, message)
    entries: list[tuple[Any, ...]] = [
        ("run", record.command, record.status, record.duration_s, None, None, None,
         record.error["message"] if record.error else ""),
    ]  # fmt: skip
    entries += [
        ("stage", s.name, s.status, s.duration_s, s.rows, None, None, s.message)
        for s in record.stages
    ]
    entries += [
        ("file", f["table"], f["status"], f["duration_s"], f["rows"], None, None, f["message"])
        for f in record.files
    ]
    for kind, items, count in (
        ("model", record.models, "rows"),
        ("test", record.tests, "failures"),
    ):
        entries += [
            (kind, i["name"], i["status"], i["duration_s"], i[count],
             i.get("bytes_processed"), i.get("bytes_billed"), i["message"])
            for i in items
        ]  # fmt: skip
    return [(record.run_id, record.command, *e[:3], start, end, *e[3:]) for e in entries]


def append_to_table(record: RunRecord, warehouse: Warehouse, schema: str) -> None:
    """Append the run's rows to `_run_results` in ``schema`` (created if missing).

    A table made by an older olist gains the columns it lacks; the INSERT names its
    columns, so a column the table has beyond these is simply left empty.
    """
    typed = [(name, getattr(warehouse.dialect, kind)) for name, kind in _TABLE_COLUMNS]
    relation = warehouse.relation(schema, RUN_RESULTS_TABLE)
    warehouse.ensure_schema(schema)
    existing = {name.lower() for name, _ in warehouse.columns(schema, RUN_RESULTS_TABLE)}
    if not existing:
        columns = ", ".join(f"{name} {type_}" for name, type_ in typed)
        warehouse.execute(f"create table if not exists {relation} ({columns})")
    for name, type_ in typed:
        if existing and name not in existing:
            warehouse.execute(f"alter table {relation} add column {name} {type_}")
    with warehouse.transaction():  # all the run's rows, or none
        warehouse.insert_rows(schema, RUN_RESULTS_TABLE, typed, table_rows(record))


@dataclass(frozen=True)
class LastTestResult:
    status: str
    failures: int | None
    message: str
    run_at: dt.datetime


def latest_test_results(warehouse: Warehouse, schema: str) -> dict[str, LastTestResult]:
    """Each data test's result in the latest run that ran it, from `_run_results`.

    The engine's state keeps only passing results (to skip re-running them); the run log
    also remembers failures, which `olist status` and the docs site show.
    """
    if not warehouse.table_exists(schema, RUN_RESULTS_TABLE):
        return {}
    rows = warehouse.query(
        "select name, status, row_count, message, started_at from (select name, status, "
        "row_count, message, started_at, row_number() over (partition by name order by "
        f"started_at desc) as recency from {warehouse.relation(schema, RUN_RESULTS_TABLE)} "
        "where kind = 'test') as latest where recency = 1"
    )
    return {name: LastTestResult(*rest) for name, *rest in rows}
