"""`olist status`: the state of the warehouse in one look.

Last load per raw table, the last run and its outcome, each model table's row count and
freshness (its latest order purchase date), and the tests whose latest run failed.
Read only: it never creates or changes anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from olist_cli.dataset import SOURCE_FILES
from olist_cli.load import latest_loads
from olist_cli.run_results import RUN_RESULTS_TABLE, latest_test_results

if TYPE_CHECKING:
    from olist_cli.settings import Settings
    from olist_cli.warehouse.base import Warehouse

# Columns that say how fresh a table is, in order of preference.
FRESHNESS_COLUMNS = ("order_purchase_timestamp", "order_purchase_date", "date_day")


@dataclass
class Status:
    raw_tables: list[dict[str, Any]] = field(default_factory=list)
    last_run: dict[str, Any] | None = None
    tables: list[dict[str, Any]] = field(default_factory=list)
    failing_tests: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def collect_status(settings: Settings, warehouse: Warehouse) -> Status:
    status = Status()
    raw = settings.raw_dataset
    loaded = latest_loads(warehouse, raw)
    status.raw_tables = [
        {
            "table": load.table,
            "file": load.file_name,
            "md5": load.md5,
            "rows": load.rows,
            "loaded_at": load.finished_at,
        }
        for load in (loaded[s.raw_table] for s in SOURCE_FILES if s.raw_table in loaded)
    ]
    if warehouse.table_exists(raw, RUN_RESULTS_TABLE):
        results = warehouse.relation(raw, RUN_RESULTS_TABLE)
        last = warehouse.query(
            "select run_id, command, status, started_at, finished_at, duration_s, message "
            f"from {results} where kind = 'run' order by started_at desc limit 1"
        )
        if last:
            keys = ("run_id", "command", "status", "started_at", "finished_at", "duration_s")
            status.last_run = dict(zip((*keys, "error"), last[0], strict=True))
    status.failing_tests = [
        {"test": name, "status": r.status, "message": r.message, "run_at": r.run_at}
        for name, r in sorted(latest_test_results(warehouse, raw).items())
        if r.status in ("fail", "error")
    ]
    for layer in ("staging", "warehouse"):
        schema = settings.layer_schema(layer)
        for name in sorted(warehouse.list_tables(schema)):
            status.tables.append(
                {
                    "schema": schema,
                    "table": name,
                    "rows": warehouse.row_count(schema, name),
                    "freshness": _freshness(warehouse, schema, name),
                }
            )
    return status


def _freshness(warehouse: Warehouse, schema: str, name: str) -> Any:
    columns = {c for c, _ in warehouse.columns(schema, name)}
    for column in FRESHNESS_COLUMNS:
        if column in columns:
            relation = warehouse.relation(schema, name)
            value = warehouse.query(f"select max({column}) from {relation}")[0][0]
            return value
    return None
