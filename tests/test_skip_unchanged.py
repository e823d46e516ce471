"""Skip unchanged work: fingerprints of SQL and inputs decide what a run rebuilds and re-tests.

Every statement the DuckDB adapter runs is recorded (a spy on its methods), so "no
warehouse work" is checked from what reached DuckDB, not from what the output says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from helpers import (
    MODELS,
    WAREHOUSE,
    Builds,
    copy_data_dir,
    digests,
    edited_sql,
    generate,
    olist,
    query,
    spy_on_builds,
)
from olist_cli.errors import EXIT_FAILURE

SCALE = 0.02
SEED = 3
# A statement that changes something (DDL guarded by IF NOT EXISTS changes nothing).
WRITE = re.compile(
    r"\b(create\s+(or\s+replace\s+)?(table|view|schema)(?!\s+if\s+not\s+exists)|merge|insert|"
    r"update|delete|drop|alter|copy)\b",
    re.IGNORECASE,
)
# The run's own record (`_run_results`): appended by every run, by design, not model work.
RUN_RECORD = re.compile(r"\b_run_results\b")
MODEL_RELATION = re.compile(r'"?dev_warehouse_(staging|warehouse)"?\s*\.\s*"?(\w+)"?')


def snapshot(db: Path) -> dict[str, str]:
    """An order-independent digest of every table and every view's rows, all schemas (but the
    log of runs, which every run appends to)."""
    return digests(db, skip=RUN_RECORD.search)


def run_all(source: Path, data_dir: Path, sql: Path | None = None, *args: str) -> Result:
    """`olist run-all [args] --source <source>`, on the SQL project ``sql`` when given."""
    env = {} if sql is None else {"OLIST_SQL_DIR": str(sql)}
    return olist(["run-all", *args, "--source", str(source)], data_dir, **env)


@dataclass
class Statements:
    """What the adapter was asked to run: (method, SQL or table name)."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def writes(self) -> list[tuple[str, str]]:
        builds = {"create_view", "create_table_as", "merge", "load_csv"}
        return [
            (m, s)
            for m, s in self.calls
            if m in builds or (WRITE.search(s) and not RUN_RECORD.search(s))
        ]

    def touching_models(self) -> list[tuple[str, set[str]]]:
        """Statements that read or write a model's relation, with the models named."""
        out = []
        for method, sql in self.calls:
            names = {m.group(2) for m in MODEL_RELATION.finditer(sql)}
            if method in {"create_view", "create_table_as", "merge"}:
                names.add(sql)
            if names:
                out.append((sql, names))
        return out


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Statements:
    """Record every call into the DuckDB adapter for the rest of the test."""
    from olist_cli.warehouse.duckdb import DuckDBWarehouse

    spy = Statements()

    def wrap_sql(method: str) -> None:
        real = getattr(DuckDBWarehouse, method)

        def wrapper(self: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
            spy.calls.append((method, sql))
            return real(self, sql, *args, **kwargs)

        monkeypatch.setattr(DuckDBWarehouse, method, wrapper)

    def wrap_build(method: str) -> None:
        real = getattr(DuckDBWarehouse, method)

        def wrapper(self: Any, schema: str, name: str, *args: Any, **kwargs: Any) -> Any:
            spy.calls.append((method, name))
            return real(self, schema, name, *args, **kwargs)

        monkeypatch.setattr(DuckDBWarehouse, method, wrapper)

    for method in ("execute", "query", "query_columns"):
        wrap_sql(method)
    for method in ("create_view", "create_table_as", "replace_rows", "load_csv"):
        wrap_build(method)
    return spy


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_files(module_dir: Path) -> Path:
    return generate(module_dir / "raw", scale=SCALE, seed=SEED)


@pytest.fixture(scope="module")
def first_build(module_dir: Path, raw_files: Path) -> Path:
    data_dir = module_dir / "built"
    with pytest.MonkeyPatch.context() as mp:
        spy = spy_on_builds(mp)
        result = run_all(raw_files, data_dir)
    assert result.exit_code == 0, result.output
    assert spy.statuses() == dict.fromkeys(MODELS, "success")
    return data_dir


@pytest.fixture
def warehouse(first_build: Path, tmp_path: Path) -> Path:
    """A private copy of the built data dir."""
    return copy_data_dir(first_build, tmp_path / "data")


# -- tests -------------------------------------------------------------------------------------


def test_unchanged_files_and_sql_do_no_warehouse_work(
    warehouse: Path, raw_files: Path, statements: Statements, builds: Builds
) -> None:
    db = warehouse / "olist.duckdb"
    before = snapshot(db)

    result = run_all(raw_files, warehouse)
    assert result.exit_code == 0, result.output
    assert builds.statuses() == dict.fromkeys(MODELS, "up to date")
    # The tests report their recorded results, none is run again.
    (tests,) = builds.tests
    assert len(tests) == 169
    assert {t.status for t in tests} <= {"pass", "warn"}
    assert all("up to date" in t.message and t.duration_s == 0 for t in tests)

    # What reached DuckDB: no write, and no statement that reads a model's relation (a
    # test query, a watermark, a row count would all name one).
    assert statements.calls, "the spy saw nothing: is the adapter still DuckDBWarehouse?"
    assert statements.writes() == []
    assert statements.touching_models() == []
    # Every table and view, raw, metadata and state included, is as it was.
    assert snapshot(db) == before


def test_an_edited_staging_view_rebuilds_it_and_its_descendants_only(
    warehouse: Path, raw_files: Path, tmp_path: Path, statements: Statements, builds: Builds
) -> None:
    """stg_sellers is read by dim_seller only: those two rebuild, the other 11 stay.

    dim_seller reads stg_sellers by seller_id (keys_from), so an edit of that view's SQL
    asks for a full refresh of dim_seller first, naming it, and publishes nothing; with it,
    just the two rebuild. The edit changes the SQL, not the rows (a filter that holds for
    every seller), so the tables end as they were. Only the tests that read stg_sellers or
    dim_seller run.
    """
    db = warehouse / "olist.duckdb"
    before = snapshot(db)
    sql = edited_sql(
        tmp_path / "edited-sql",
        "stg_sellers",
        "from {{ source('raw', 'sellers') }}",
        "from {{ source('raw', 'sellers') }}\nwhere seller_id is not null",
    )

    refused = run_all(raw_files, warehouse, sql)
    assert refused.exit_code == 1, refused.output
    assert "olist transform --select dim_seller --full-refresh" in refused.output
    assert snapshot(db) == before
    statements.calls.clear()

    result = run_all(raw_files, warehouse, sql, "--select", "stg_sellers+", "--full-refresh")
    assert result.exit_code == 0, result.output
    statuses = builds.statuses()
    rebuilt = {name for name, status in statuses.items() if status == "success"}
    assert rebuilt == set(statuses) == {"stg_sellers", "dim_seller"}

    created = [(m, n) for m, n in statements.calls if m in {"create_view", "create_table_as"}]
    assert sorted(created) == [("create_table_as", "dim_seller"), ("create_view", "stg_sellers")]
    for sql_text, names in statements.touching_models():
        assert names & {"stg_sellers", "dim_seller"}, f"unrelated model touched: {sql_text}"
    assert any("dim_seller" in names for _, names in statements.touching_models())
    assert snapshot(db).keys() == before.keys()
    changed = {k for k, v in snapshot(db).items() if before[k] != v}
    assert changed <= {"staging._olist_state", "staging._run_results"}

    # The tests of other models that read them (relationships to stg_sellers and
    # dim_seller) were not selected: the next whole run checks them. Recorded then: the
    # same edited project again is a no-op.
    whole = run_all(raw_files, warehouse, sql)
    assert whole.exit_code == 0, whole.output
    statements.calls.clear()
    again = run_all(raw_files, warehouse, sql)
    assert again.exit_code == 0, again.output
    assert builds.statuses() == dict.fromkeys(MODELS, "up to date")
    assert statements.writes() == []


def test_an_edited_upstream_view_rebuilds_everything_downstream(
    warehouse: Path, raw_files: Path, tmp_path: Path, builds: Builds
) -> None:
    """stg_orders feeds dim_customer, dim_date, both facts, and dim_product and dim_seller
    (their watermark is an order's update); the other staging views do not depend on it.

    The tables rebuild. The incremental facts either rebuild too or stop the run asking for
    `--full-refresh` (see the next test: merging only recent rows is not an option when an
    upstream definition changed); the unrelated models are untouched either way.
    """
    sql = edited_sql(
        tmp_path / "edited-sql",
        "stg_orders",
        "    from source\n",
        "    from source\n    where order_id is not null\n",
    )
    result = run_all(raw_files, warehouse, sql)
    statuses = builds.statuses()
    downstream = {
        "stg_orders",
        "dim_customer",
        "dim_date",
        "fact_orders",
        "fact_order_items",
        "dim_product",
        "dim_seller",
    }
    # Unrelated models are never rebuilt: up to date, or not built at all when the run
    # refuses (it refuses before building anything).
    assert {statuses[n] for n in set(statuses) - downstream} <= {"up to date", "skipped"}
    refused = {name for name, status in statuses.items() if status == "error"}
    if result.exit_code == 0:
        assert {statuses[n] for n in downstream} == {"success"}
        assert refused == set()
    else:
        assert result.exit_code == EXIT_FAILURE, result.output
        assert refused <= {
            "fact_orders",
            "fact_order_items",
            "dim_customer",
            "dim_product",
            "dim_seller",
        }
        assert "--full-refresh" in result.stderr


def test_an_edited_incremental_fact_asks_for_a_full_refresh(
    warehouse: Path, raw_files: Path, tmp_path: Path, builds: Builds
) -> None:
    db = warehouse / "olist.duckdb"
    before = snapshot(db)
    sql = edited_sql(
        tmp_path / "edited-sql",
        "fact_orders",
        "    orders.order_updated_at\nfrom orders",
        "    orders.order_updated_at,\n    orders.order_status = 'canceled' as is_canceled\n"
        "from orders",
    )

    result = run_all(raw_files, warehouse, sql)
    assert result.exit_code == EXIT_FAILURE, result.output
    error = result.stderr.strip().splitlines()[-1]
    assert "fact_orders" in error and "--full-refresh" in error, error
    assert builds.statuses()["fact_orders"] == "error"
    assert snapshot(db) == before  # nothing merged into the old shape, nothing published

    full = run_all(raw_files, warehouse, sql, "--full-refresh")
    assert full.exit_code == 0, full.output
    columns = [
        c
        for (c,) in query(
            db,
            "select column_name from information_schema.columns "
            f"where table_schema = '{WAREHOUSE}' and table_name = 'fact_orders'",
        )
    ]
    assert "is_canceled" in columns

    # The new shape is recorded: an ordinary run is a no-op again.
    after = run_all(raw_files, warehouse, sql)
    assert after.exit_code == 0, after.output
    assert builds.statuses() == dict.fromkeys(MODELS, "up to date")


def test_a_comment_only_edit_of_an_incremental_fact_also_asks_for_a_full_refresh(
    warehouse: Path, raw_files: Path, tmp_path: Path
) -> None:
    """Same columns, different SQL: the engine cannot know the rows are the same."""
    sql = edited_sql(
        tmp_path / "edited-sql",
        "fact_order_items",
        "from items\n",
        "from items -- the order's own items\n",
    )
    result = run_all(raw_files, warehouse, sql)
    assert result.exit_code == EXIT_FAILURE, result.output
    assert "fact_order_items" in result.stderr and "--full-refresh" in result.stderr


def test_an_upstream_sql_change_never_leaves_an_incremental_fact_stale(
    warehouse: Path, raw_files: Path, tmp_path: Path
) -> None:
    """fact_orders' own SQL is unchanged, but stg_orders now computes a column differently.

    Merging only the recent rows would leave every older fact row computed by the old SQL,
    and the next runs would call the table `up to date`: drift from a full rebuild that
    nothing reports. Either rebuilding the fact or refusing with a request for
    `--full-refresh` is correct; a successful run with mixed rows is not.
    """
    db = warehouse / "olist.duckdb"
    sql = edited_sql(
        tmp_path / "edited-sql",
        "stg_orders",
        "{{ to_date('order_estimated_delivery_date') }} as order_estimated_delivery_date_day",
        "{{ to_date('order_estimated_delivery_date') }} + 1 as order_estimated_delivery_date_day",
    )
    result = run_all(raw_files, warehouse, sql)
    if result.exit_code == EXIT_FAILURE:
        assert "fact_orders" in result.stderr and "--full-refresh" in result.stderr
        return
    assert result.exit_code == 0, result.output
    ((fresh, stale),) = query(
        db,
        "select count(*) filter (where f.estimated_delivery_date "
        "= s.order_estimated_delivery_date_day), "
        "count(*) filter (where f.estimated_delivery_date "
        "<> s.order_estimated_delivery_date_day) "
        f"from {WAREHOUSE}.fact_orders as f "
        "join dev_warehouse_staging.stg_orders as s using (order_id)",
    )
    assert (fresh, stale) == (fresh, 0), f"{stale} fact rows built by the old stg_orders"
