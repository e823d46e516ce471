"""Building models on a real DuckDB file: materializations, incremental MERGE, failures,
selection and concurrency. Raw rows are hand-made (tests/fixtures/engine/shop/raw.sql).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from helpers import engine_settings, write_sql
from olist_cli.engine import ModelResult, Project, build, load_project, render_model
from olist_cli.engine.state import StateStore
from olist_cli.errors import ProjectError
from olist_cli.settings import Settings
from olist_cli.warehouse.duckdb import DuckDBWarehouse

SHOP = Path(__file__).parent / "fixtures" / "engine" / "shop"
THREADS = 4


@pytest.fixture
def shop(tmp_path: Path, wh: DuckDBWarehouse) -> tuple[Settings, Project]:
    shutil.copytree(SHOP, tmp_path / "sql")
    wh.con.execute((SHOP / "raw.sql").read_text())
    settings = engine_settings(tmp_path, threads=THREADS)
    return settings, load_project(settings, wh.dialect)


def by_name(results: list[ModelResult]) -> dict[str, ModelResult]:
    return {r.name: r for r in results}


def table_type(wh: DuckDBWarehouse, schema: str, name: str) -> str | None:
    rows = wh.query(
        "select table_type from information_schema.tables "
        "where table_schema = ? and table_name = ?",
        [schema, name],
    )
    return rows[0][0] if rows else None


def orders(wh: DuckDBWarehouse) -> dict[str, tuple[object, ...]]:
    rows = wh.query('select order_id, order_status, updated_at from "t_warehouse"."fact_orders"')
    return {r[0]: r[1:] for r in rows}


def test_first_build_makes_views_tables_and_the_incremental_table(
    shop: tuple[Settings, Project], wh: DuckDBWarehouse
) -> None:
    settings, project = shop
    results = build(settings, wh, project)
    assert [r.name for r in results] == [
        "stg_customers",
        "stg_orders",
        "dim_customer",
        "fact_orders",
    ]
    assert all(r.status == "success" for r in results), results
    got = by_name(results)
    assert (got["stg_orders"].materialization, got["stg_orders"].rows) == ("view", None)
    assert table_type(wh, "t_staging", "stg_orders") == "VIEW"
    assert table_type(wh, "t_warehouse", "dim_customer") == "BASE TABLE"
    assert got["dim_customer"].rows == 2 and got["fact_orders"].rows == 3
    assert got["fact_orders"].message == "table created, 3 rows"
    # The macro imported from sql/macros ran; the dialect's surrogate key is a BIGINT.
    states = wh.query('select customer_state from "t_warehouse"."dim_customer" order by 1')
    assert states == [("RJ",), ("SP",)]
    assert dict(wh.columns("t_warehouse", "dim_customer"))["customer_key"] == "BIGINT"


def test_incremental_merges_only_rows_inside_the_lookback_window(
    shop: tuple[Settings, Project], wh: DuckDBWarehouse
) -> None:
    settings, project = shop
    build(settings, wh, project)  # watermark: o3's updated_at 2018-01-20 10:00; lookback 3 days
    wh.execute(
        "update raw.orders_raw set order_status = 'delivered', "
        "order_delivered_customer_date = '2018-01-22 09:00:00' where order_id = 'o3'"
    )
    wh.execute(
        "insert into raw.orders_raw values "
        "('o4', 'c2', 'shipped', '2018-01-21 08:00:00', null), "  # new
        "('o5', 'c2', 'shipped', '2018-01-18 08:00:00', null), "  # late, inside the window
        "('o6', 'c2', 'shipped', '2018-01-16 08:00:00', null)"  # late, outside it
    )
    # o2 changes without its incremental key moving (no new event time): outside the window.
    wh.execute("update raw.orders_raw set order_status = 'canceled' where order_id = 'o2'")

    fact = by_name(build(settings, wh, project))["fact_orders"]

    assert fact.status == "success" and fact.rows == 3  # o3, o4, o5: cutoff 2018-01-17 10:00
    assert fact.message.startswith(
        "merged 3 rows in 3 partition(s) (updated_at >= cast('2018-01-17 10:00:00'"
    )
    got = orders(wh)
    assert set(got) == {"o1", "o2", "o3", "o4", "o5"}
    assert got["o3"][0] == "delivered" and got["o4"][0] == got["o5"][0] == "shipped"
    # Documented limit: a row whose incremental_key is older than the cutoff (o6 arriving
    # very late, o2 changing without a new event time) waits for a full refresh.
    assert got["o2"][0] == "shipped"

    refreshed = by_name(build(settings, wh, project, select="fact_orders", full_refresh=True))
    assert refreshed["fact_orders"].message == "full refresh, 6 rows"
    got = orders(wh)
    assert got["o2"][0] == "canceled" and "o6" in got


def test_the_lookback_setting_moves_the_cutoff(tmp_path: Path, wh: DuckDBWarehouse) -> None:
    """OLIST_LOOKBACK_DAYS is the window of a model that sets none; a model's own wins."""
    write_sql(
        tmp_path,
        {
            f"warehouse/{name}.sql": (
                "{{ config(materialized='incremental', unique_key='id', incremental_key='ts'"
                f"{extra}) }}}}\nselect id, ts from raw.events"
            )
            for name, extra in (("by_setting", ""), ("own", ", lookback_days=1"))
        },
    )
    wh.execute("create schema raw")
    wh.execute("create table raw.events as select 1 as id, timestamp '2018-01-10 12:00' as ts")
    settings = engine_settings(tmp_path, threads=1, lookback_days=5)
    project = load_project(settings, wh.dialect)
    build(settings, wh, project)
    for name in ("by_setting", "own"):
        StateStore(wh, settings.raw_dataset).forget("model", name)  # raw.events is no source
    got = by_name(build(settings, wh, project))
    assert got["by_setting"].message.endswith("(ts >= cast('2018-01-05 12:00:00' as TIMESTAMP))")
    assert got["own"].message.endswith("(ts >= cast('2018-01-09 12:00:00' as TIMESTAMP))")


def test_incremental_rerun_on_the_same_data_equals_a_full_refresh(
    shop: tuple[Settings, Project], wh: DuckDBWarehouse
) -> None:
    settings, project = shop
    build(settings, wh, project)
    wh.execute(
        "insert into raw.orders_raw values ('o5', 'c1', 'shipped', '2018-01-19 08:00:00', null)"
    )
    build(settings, wh, project)
    build(settings, wh, project)
    merged = sorted(wh.query('select * from "t_warehouse"."fact_orders"'))
    build(settings, wh, project, full_refresh=True)
    assert sorted(wh.query('select * from "t_warehouse"."fact_orders"')) == merged


def test_is_incremental_and_this_render_only_when_the_table_exists(
    tmp_path: Path, wh: DuckDBWarehouse
) -> None:
    write_sql(
        tmp_path,
        {
            "warehouse/inc.sql": (
                "{{ config(materialized='incremental', unique_key='id', incremental_key='ts') }}\n"
                "select 1 as id, timestamp '2018-01-01' as ts\n"
                "{% if is_incremental() %}where ts > (select max(ts) from {{ this }}){% endif %}"
            )
        },
    )
    settings = engine_settings(tmp_path, threads=THREADS)
    project = load_project(settings, wh.dialect)
    assert "max(ts)" not in render_model(settings, wh, project, "inc")
    assert build(settings, wh, project)[0].status == "success"
    assert 'from "t_warehouse"."inc")' in render_model(settings, wh, project, "inc")
    assert "max(ts)" not in render_model(settings, wh, project, "inc", full_refresh=True)


def test_incremental_cutoff_is_the_watermark_minus_the_lookback_as_a_constant(
    tmp_path: Path, wh: DuckDBWarehouse
) -> None:
    """A model narrows its own work with incremental_cutoff(): the same constant the MERGE
    filters on, computed before rendering, so no subquery reads the target. An empty table
    took the full SELECT; outside an incremental build the name is an error."""
    write_sql(
        tmp_path,
        {
            "warehouse/inc.sql": (
                "{{ config(materialized='incremental', unique_key='id', incremental_key='ts',"
                " lookback_days=2) }}\n"
                "select id, ts from raw.events\n"
                "{% if is_incremental() %}where ts >= {{ incremental_cutoff() }}{% endif %}"
            ),
        },
    )
    wh.execute("create schema raw")
    wh.execute("create table raw.events as select 1 as id, timestamp '2018-01-10 12:00' as ts")
    settings = engine_settings(tmp_path, threads=1)
    project = load_project(settings, wh.dialect)
    staged: list[str] = []
    real_staged = DuckDBWarehouse.staged_rows

    def spy(self: DuckDBWarehouse, select_sql: str) -> Any:
        staged.append(select_sql)
        return real_staged(self, select_sql)

    first = by_name(build(settings, wh, project, select="inc"))["inc"]
    assert first.message == "table created, 1 rows"
    wh.execute(
        "insert into raw.events values (2, timestamp '2018-01-09 00:00'), "  # inside 2 days
        "(3, timestamp '2018-01-07 00:00')"  # before the cutoff: not read
    )
    StateStore(wh, settings.raw_dataset).forget("model", "inc")  # raw.events is no source
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(DuckDBWarehouse, "staged_rows", spy)
        merged = by_name(build(settings, wh, project, select="inc"))["inc"]
    assert merged.status == "success", merged.message
    assert merged.message == "merged 2 rows (ts >= cast('2018-01-08 12:00:00' as TIMESTAMP))"
    # The model's own WHERE and the MERGE's filter carry the same constant; no subquery.
    (sql,) = staged
    assert sql.count("ts >= cast('2018-01-08 12:00:00' as TIMESTAMP)") == 2
    assert '"t_warehouse"."inc"' not in sql
    assert sorted(wh.query('select id from "t_warehouse"."inc"')) == [(1,), (2,)]
    # Validation and the docs render the incremental branch with the epoch: every row.
    assert "cast('1970-01-01 00:00:00' as TIMESTAMP)" in render_model(settings, wh, project, "inc")
    # Outside an incremental build the name is an error, found when the project loads.
    write_sql(tmp_path, {"warehouse/misuse.sql": "select {{ incremental_cutoff() }} as c"})
    with pytest.raises(ProjectError, match=r"misuse.sql:1: incremental_cutoff\(\) is only"):
        load_project(settings, wh.dialect)


def test_incremental_key_must_be_a_date_or_timestamp(tmp_path: Path, wh: DuckDBWarehouse) -> None:
    write_sql(
        tmp_path,
        {
            "warehouse/inc.sql": "{{ config(materialized='incremental', unique_key='id',"
            " incremental_key='id') }}select 1 as id"
        },
    )
    settings = engine_settings(tmp_path, threads=THREADS)
    project = load_project(settings, wh.dialect)
    build(settings, wh, project)
    StateStore(wh, settings.raw_dataset).forget("model", "inc")  # else it is up to date
    result = build(settings, wh, project)[0]
    assert result.status == "error"
    assert result.message == "incremental_key id must be a date or timestamp, got 1"


FAILING = {
    "staging/base.sql": "select 1 as id",
    "warehouse/bad.sql": "select no_such_column from {{ ref('base') }}",
    "warehouse/child.sql": "select * from {{ ref('bad') }}",
    "warehouse/grandchild.sql": "select * from {{ ref('child') }} join {{ ref('base') }} using(id)",
    "warehouse/sibling.sql": "select * from {{ ref('base') }}",
}


def test_descendants_of_a_failed_model_are_skipped_and_never_built(
    tmp_path: Path, wh: DuckDBWarehouse
) -> None:
    write_sql(tmp_path, FAILING)
    settings = engine_settings(tmp_path, threads=THREADS)
    events: list[ModelResult] = []
    results = build(settings, wh, load_project(settings, wh.dialect), on_event=events.append)

    got = by_name(results)
    assert got["bad"].status == "error" and "no_such_column" in got["bad"].message
    assert got["child"].status == "skipped"
    assert got["child"].message == "skipped: upstream bad failed"
    assert got["grandchild"].message == "skipped: upstream bad failed"
    assert got["base"].status == got["sibling"].status == "success"
    assert table_type(wh, "t_warehouse", "sibling") == "BASE TABLE"
    for name in ("bad", "child", "grandchild"):
        assert not wh.table_exists("t_warehouse", name)
    assert sorted(e.name for e in events) == sorted(got)  # one event per model, skips too


def test_a_template_error_fails_only_that_model(tmp_path: Path, wh: DuckDBWarehouse) -> None:
    write_sql(
        tmp_path, {"warehouse/ok.sql": "select 1 as id", "warehouse/x.sql": "select\n{{ nope }}"}
    )
    settings = engine_settings(tmp_path, threads=THREADS)
    got = by_name(build(settings, wh, load_project(settings)))  # no dialect: not pre-rendered
    assert got["ok"].status == "success"
    assert got["x"].status == "error"
    assert (
        got["x"].message
        == "sql/warehouse/x.sql:2: 'nope' is undefined; is a variable or helper misspelt?"
    )


def test_select_builds_only_the_selected_models(
    shop: tuple[Settings, Project], wh: DuckDBWarehouse
) -> None:
    settings, project = shop
    results = build(settings, wh, project, select="+dim_customer")
    assert [r.name for r in results] == ["stg_customers", "dim_customer"]
    assert not wh.table_exists("t_warehouse", "fact_orders")
    assert not wh.table_exists("t_staging", "stg_orders")
    with pytest.raises(ProjectError, match="did you mean 'fact_orders'"):
        build(settings, wh, project, select="fact_order")


class SpyWarehouse(DuckDBWarehouse):
    """Records how many tables are being created at once, and when each ran."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.lock = threading.Lock()
        self.active = self.peak = 0
        self.spans: dict[str, tuple[float, float]] = {}

    def create_table_as(
        self,
        schema: str,
        name: str,
        select_sql: str,
        *,
        partition_by: str | None = None,
        cluster_by: Sequence[str] = (),
    ) -> int:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        start = time.perf_counter()
        try:
            time.sleep(0.02)  # long enough for the pool to start the other ready models
            return super().create_table_as(
                schema, name, select_sql, partition_by=partition_by, cluster_by=cluster_by
            )
        finally:
            with self.lock:
                self.active -= 1
                self.spans[name] = (start, time.perf_counter())


@pytest.mark.parametrize("threads", [1, 4])
def test_independent_models_build_concurrently_and_correctly(tmp_path: Path, threads: int) -> None:
    parts = {
        f"warehouse/part_{i}.sql": f"select range as n, {i} as part from range({1000 * (i + 1)})"
        for i in range(8)
    }
    union = " union all ".join(f"select * from {{{{ ref('part_{i}') }}}}" for i in range(8))
    write_sql(
        tmp_path,
        {
            **parts,
            "warehouse/total.sql": f"select part, count(*) as n from ({union}) group by part",
        },
    )
    settings = engine_settings(tmp_path, threads=threads)
    spy = SpyWarehouse(tmp_path / "w.duckdb")
    try:
        results = build(settings, spy, load_project(settings, spy.dialect))
        assert all(r.status == "success" for r in results), results
        assert spy.peak == threads if threads == 1 else spy.peak > 1
        assert spy.query('select sum(n) from "t_warehouse"."total"') == [(36000,)]
        assert spy.query('select n from "t_warehouse"."total" where part = 7') == [(8000,)]
        last_part_done = max(end for name, (_, end) in spy.spans.items() if name != "total")
        assert spy.spans["total"][0] >= last_part_done  # never before all its refs
    finally:
        spy.close()


def test_the_duckdb_merge_upserts_on_the_key_within_the_target_filter(
    wh: DuckDBWarehouse,
) -> None:
    """DuckDB applies a MERGE as DELETE + INSERT: the same rows as MERGE's update/insert."""
    wh.execute("create schema m")
    wh.execute(
        "create table m.t as select * from (values "
        "('a', 1, 'old', date '2018-01-01'), ('a', 2, 'old', date '2018-01-01'), "
        "('b', 1, 'old', date '2018-02-01'), (null, 1, 'old', date '2018-01-01')"
        ") as v(k1, k2, v, d)"
    )
    source = (
        "select * from (values ('a', 2, 'new', date '2018-01-01'), "  # matched: replaced
        "('c', 1, 'new', date '2018-01-01'), "  # new key: inserted
        "('b', 1, 'new', date '2018-01-01'), "  # its row is outside the filter: not matched
        "(null, 1, 'new', date '2018-01-01')"  # a NULL key matches nothing
        ") as v(k1, k2, v, d)"
    )
    merged = wh.merge(
        "m", "t", source, unique_key=["k1", "k2"], target_filter="t.d = date '2018-01-01'"
    )
    assert merged == 4
    assert sorted(wh.query("select k1, k2, v from m.t"), key=repr) == sorted(
        [
            ("a", 1, "old"),
            ("a", 2, "new"),
            ("b", 1, "old"),
            ("b", 1, "new"),
            ("c", 1, "new"),
            (None, 1, "old"),
            (None, 1, "new"),
        ],
        key=repr,
    )


def test_catalogue_lookups_inside_a_transaction_leave_it_usable(wh: DuckDBWarehouse) -> None:
    """A table or view not there is [] and False, also mid-transaction: the build asks
    before creating each model, inside the run's one transaction."""
    wh.execute("create schema s")
    with wh.transaction():
        wh.execute("create table s.t (id varchar, amount decimal(38, 2), paid_at timestamp)")
        assert not wh.table_exists("s", "missing") and wh.columns("s", "missing") == []
        wh.execute("create view s.v as select id, amount * 2 as doubled from s.t")
        wh.execute("insert into s.t values ('a', 1.50, null)")
    assert wh.columns("s", "t") == [
        ("id", "VARCHAR"),
        ("amount", "DECIMAL(38,2)"),
        ("paid_at", "TIMESTAMP"),
    ]
    assert wh.table_exists("s", "v") and wh.columns("s", "v") == [
        ("id", "VARCHAR"),
        ("doubled", "DECIMAL(38,2)"),
    ]
    assert wh.query("select doubled from s.v") == [(3,)]


@pytest.mark.parametrize(
    ("rows_now", "same"),
    [
        ("('a', 1), ('a', 1), ('b', 2)", True),  # the same rows, in another order
        ("('a', 1), ('b', 2)", False),  # a repeated row lost a copy
        ("('a', 1), ('a', 1), ('b', 2), ('b', 2)", False),  # and one gained a copy
        ("('a', 1), ('a', 1), ('b', 3)", False),  # a value changed
    ],
)
def test_a_table_rebuilt_with_the_same_rows_is_kept(
    rows_now: str, same: bool, tmp_path: Path, wh: DuckDBWarehouse
) -> None:
    """Rows compared as multisets: each row's hash with its number of copies."""
    from olist_cli.engine.build import _replace_unless_same

    write_sql(tmp_path, {"warehouse/kept.sql": "select * from raw.things"})
    settings = engine_settings(tmp_path, threads=THREADS)
    project = load_project(settings, wh.dialect)
    wh.execute("create schema raw; create schema t_warehouse")
    wh.execute("create table raw.things as select * from (values ('b', 2), ('a', 1), ('a', 1))")
    wh.execute('create table "t_warehouse"."kept" as select * from raw.things')
    wh.execute(f"create or replace table raw.things as select * from (values {rows_now})")
    sql = render_model(settings, wh, project, "kept")
    model = project.models["kept"]
    rows, kept = _replace_unless_same(wh, model, "t_warehouse", sql)
    assert kept is same
    assert rows == len(wh.query("select * from raw.things"))
    now = 'select * from "t_warehouse"."kept" order by all'
    assert wh.query(now) == wh.query("select * from raw.things order by all")


def test_insert_rows_keeps_each_value_and_type(wh: DuckDBWarehouse) -> None:
    """The run record and the engine state go in as typed lists, one per column: NULLs
    stay NULL, a timestamp with a zone is stored in UTC (as a bound value was), and no
    rows is no statement."""
    import datetime as dt

    brasilia = dt.timezone(dt.timedelta(hours=-3))
    wh.execute("create schema s")
    wh.execute("create table s.r (name varchar, n bigint, seen_at timestamp, secs double)")
    columns = [("name", "VARCHAR"), ("n", "BIGINT"), ("seen_at", "TIMESTAMP"), ("secs", "DOUBLE")]
    wh.insert_rows("s", "r", columns, [])
    wh.insert_rows(
        "s",
        "r",
        columns,
        [
            ("it's", 1, dt.datetime(2018, 1, 1, 9, tzinfo=brasilia), 0.25),
            (None, None, None, None),
        ],
    )
    assert wh.query("select * from s.r order by name nulls last") == [
        ("it's", 1, dt.datetime(2018, 1, 1, 12), 0.25),
        (None, None, None, None),
    ]
