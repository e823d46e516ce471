"""Building models on a real DuckDB file: materializations, incremental MERGE, failures,
selection and concurrency. Raw rows are hand-made (tests/fixtures/engine/shop/raw.sql).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from helpers import engine_settings, write_sql
from olist_cli.engine import ModelResult, Project, build, load_project, render_model
from olist_cli.engine.changes import RunChanges
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


def _loaded(wh: DuckDBWarehouse, table: str, md5: str) -> None:
    """Record a load of ``table`` in `_load_metadata`, as the loader would."""
    wh.execute(
        "create table if not exists raw._load_metadata (load_id varchar, table_name varchar, "
        "file_name varchar, file_md5 varchar, file_bytes bigint, row_count bigint, "
        "started_at timestamp, finished_at timestamp, status varchar, duration_s double)"
    )
    wh.execute(
        "insert into raw._load_metadata values ('l', ?, 'f.csv', ?, 1, 1, now(), now(), "
        "'success', 0)",
        [table, md5],
    )


def _changing(wh: DuckDBWarehouse, table: str, *statements: str) -> RunChanges:
    """Run the statements on a raw table as a load would change it (a new file's MD5),
    and return what the loader tells the engine: the rows it deleted and inserted."""
    wh.execute(f"create or replace temp table before_change as select * from raw.{table}")
    for statement in statements:
        wh.execute(statement)
    wh.execute(
        f"create or replace temp table changed_{table} as "
        f"select *, true as olist_inserted from (select * from raw.{table} "
        "except all select * from before_change) "
        f"union all select *, false from (select * from before_change "
        f"except all select * from raw.{table})"
    )
    _loaded(wh, table, f"after {statements}")
    recorded = wh.query(
        "select file_md5 from raw._load_metadata where table_name = ? "
        "order by rowid desc limit 1 offset 1",
        [table],
    )[0][0]
    return RunChanges(sources_before={table: recorded}, raw={table: f"changed_{table}"})


ORDER_CHANGES = (
    "update raw.orders_raw set order_status = 'delivered', "
    "order_delivered_customer_date = '2018-01-22 09:00:00' where order_id = 'o3'",
    "insert into raw.orders_raw values ('o4', 'c2', 'shipped', '2018-01-21 08:00:00', null), "
    "('o6', 'c2', 'shipped', '2015-01-16 08:00:00', null)",  # new, one dated long ago
    # o2 changes with no new event time; o1 is gone from the file.
    "update raw.orders_raw set order_status = 'canceled' where order_id = 'o2'",
    "delete from raw.orders_raw where order_id = 'o1'",
)


def _shop_on_one_thread(
    shop: tuple[Settings, Project], wh: DuckDBWarehouse
) -> tuple[Settings, Project]:
    """The shop built once on one thread (where a build tracks what changed), its raw
    tables recorded as loaded."""
    settings, project = shop
    settings = engine_settings(settings.sql_dir.parent, threads=1)
    _loaded(wh, "orders_raw", "v1")
    _loaded(wh, "customers_raw", "c1")
    build(settings, wh, project)
    return settings, project


def test_incremental_replaces_the_rows_of_the_changed_keys_deletions_included(
    shop: tuple[Settings, Project], wh: DuckDBWarehouse
) -> None:
    """Whatever the change (a new event, a new order dated long ago, a status with no new
    event time, an order gone), the table equals a full refresh; other rows stay."""
    settings, project = _shop_on_one_thread(shop, wh)
    row_of_o2 = 'select rowid from "t_warehouse"."fact_orders" where order_id = \'o2\''
    untouched = wh.query(row_of_o2)

    changes = _changing(wh, "orders_raw", *ORDER_CHANGES[:2], ORDER_CHANGES[3])
    fact = by_name(build(settings, wh, project, changes=changes))["fact_orders"]

    assert fact.status == "success", fact.message
    # o3, o4 and o6 in; o3's old row and o1's out.
    assert fact.message == "replaced the rows of the changed order_id: +3 -2"
    got = orders(wh)
    assert set(got) == {"o2", "o3", "o4", "o6"}
    assert got["o3"][0] == "delivered"
    assert wh.query(row_of_o2) == untouched  # a row of an unchanged order is not rewritten

    changes = _changing(wh, "orders_raw", ORDER_CHANGES[2])
    fact = by_name(build(settings, wh, project, changes=changes))["fact_orders"]
    assert fact.message == "replaced the rows of the changed order_id: +1 -1"
    assert orders(wh)["o2"][0] == "canceled"
    merged = sorted(wh.query('select * from "t_warehouse"."fact_orders"'))
    build(settings, wh, project, full_refresh=True)
    assert sorted(wh.query('select * from "t_warehouse"."fact_orders"')) == merged


def test_an_incremental_model_whose_changed_rows_are_unknown_is_rebuilt_whole(
    shop: tuple[Settings, Project], wh: DuckDBWarehouse
) -> None:
    """A raw table changed by another run (its changed rows went with that run), or no
    change tracking at all: the table is rebuilt whole, and says why."""
    settings, project = _shop_on_one_thread(shop, wh)
    for statement in ORDER_CHANGES:
        wh.execute(statement)
    _loaded(wh, "orders_raw", "v2")  # loaded by an earlier command: rows not known now
    fact = by_name(build(settings, wh, project))["fact_orders"]
    assert fact.message.startswith(
        "rebuilt whole (its inputs changed since its last build in another run"
    ), fact.message
    assert set(orders(wh)) == {"o2", "o3", "o4", "o6"}
    # Several threads share no scratch tables: nothing is tracked.
    _loaded(wh, "orders_raw", "v3")
    threaded = engine_settings(settings.sql_dir.parent, threads=THREADS)
    fact = by_name(build(threaded, wh, project))["fact_orders"]
    assert fact.message.startswith("rebuilt whole (this run does not know"), fact.message


def test_a_ref_read_whole_rebuilds_the_table_whole(
    shop: tuple[Settings, Project], wh: DuckDBWarehouse
) -> None:
    """A ref not in keys_from (here stg_orders, once its promise is taken away) that
    changed: replacing some rows would prove nothing, so the table is rebuilt."""
    settings, project = shop
    fact = settings.sql_dir / "warehouse" / "fact_orders.sql"
    fact.write_text(
        fact.read_text()
        .replace("keys_from={'stg_orders': 'order_id'},", "")
        .replace(
            "{% if is_incremental() %}where order_id in {{ changed('order_id') }}{% endif %}", ""
        )
    )
    settings, project = _shop_on_one_thread((settings, load_project(settings, wh.dialect)), wh)
    changes = _changing(wh, "orders_raw", ORDER_CHANGES[0])
    result = by_name(build(settings, wh, project, changes=changes))["fact_orders"]
    assert result.message == "rebuilt whole (stg_orders, which it reads whole, changed), 3 rows"


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
                "{{ config(materialized='incremental', unique_key='id') }}\n"
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


def test_changed_lists_a_keys_from_column_and_only_in_an_incremental_build(
    tmp_path: Path, wh: DuckDBWarehouse
) -> None:
    """changed('column') is a subquery of the values the build gathered; validation and the
    docs render an empty one, said in the SQL; any other use is found when the project
    loads, naming the file."""
    write_sql(
        tmp_path,
        {
            "staging/events.sql": "{{ config(delta_key='order_id') }}"
            "select * from {{ source('raw', 'orders') }}",
            "warehouse/inc.sql": (
                "{{ config(materialized='incremental', unique_key='order_id',"
                " keys_from={'events': 'order_id'}) }}\n"
                "select order_id from {{ ref('events') }}\n"
                "{% if is_incremental() %}where order_id in {{ changed('order_id') }}{% endif %}"
            ),
        },
    )
    settings = engine_settings(tmp_path, threads=1)
    project = load_project(settings, wh.dialect)
    wh.execute('create schema raw; create schema "t_warehouse"')
    wh.execute('create table "t_warehouse"."inc" (order_id varchar)')
    rendered = render_model(settings, wh, project, "inc")
    assert 'order_id in (select order_id from "t_warehouse"."inc" where false' in rendered
    assert "changed(): a build lists the values whose rows changed here" in rendered
    for body, problem in (
        ("select {{ changed('order_id') }} as c", r"misuse.sql:1: changed\(\) is only defined"),
        (
            "{{ config(materialized='incremental', unique_key='id', keys_from={'events': "
            "'order_id'}) }}select 1 as id from {{ ref('events') }}"
            "{% if is_incremental() %}where {{ changed('id') }}{% endif %}",
            r"changed\('id'\): id is not one of the model's keys_from columns \(order_id\)",
        ),
    ):
        write_sql(tmp_path, {"warehouse/misuse.sql": body})
        with pytest.raises(ProjectError, match=problem):
            load_project(settings, wh.dialect)


def test_a_keys_from_column_the_table_lacks_is_named(
    shop: tuple[Settings, Project], wh: DuckDBWarehouse
) -> None:
    settings, project = _shop_on_one_thread(shop, wh)
    wh.execute('alter table "t_warehouse"."fact_orders" rename order_id to id')
    changes = _changing(wh, "orders_raw", ORDER_CHANGES[0])
    fact = by_name(build(settings, wh, project, changes=changes))["fact_orders"]
    assert fact.status == "error"
    assert fact.message == "fact_orders: keys_from order_id is not a column of it"


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


def test_replace_rows_swaps_the_matching_rows_and_those_of_the_new_keys(
    wh: DuckDBWarehouse,
) -> None:
    """The rows the condition selects and the rows of the new keys go; the new rows come;
    ``touched`` holds both sides; a NULL key matches nothing by key."""
    wh.execute("create schema m")
    wh.execute(
        "create table m.t as select * from (values "
        "('a', 1, 'old', 'x'), ('a', 2, 'old', 'x'), "
        "('b', 1, 'old', 'gone'), (null, 1, 'old', 'x')"
        ") as v(k1, k2, v, g)"
    )
    source = (
        "select * from (values ('a', 2, 'new', 'x'), "  # its key's old row: replaced
        "('c', 1, 'new', 'x'), "  # a new key: inserted
        "(null, 1, 'new', 'x')"  # a NULL key matches nothing
        ") as v(k1, k2, v, g)"
    )
    replaced = wh.replace_rows("m", "t", source, unique_key=["k1", "k2"], matching="t.g = 'gone'")
    assert (replaced.inserted, replaced.deleted) == (3, 2)
    assert sorted(wh.query("select k1, k2, v from m.t"), key=repr) == sorted(
        [("a", 1, "old"), ("a", 2, "new"), ("c", 1, "new"), (None, 1, "old"), (None, 1, "new")],
        key=repr,
    )
    assert sorted(wh.query(replaced.touched), key=repr) == sorted(
        [
            ("a", 2, "old", "x"),
            ("b", 1, "old", "gone"),
            ("a", 2, "new", "x"),
            ("c", 1, "new", "x"),
            (None, 1, "new", "x"),
        ],
        key=repr,
    )
    assert len(wh.query(f"select * from {replaced.new_rows}")) == 3


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
