"""Incremental facts equal a full refresh: the as-of walk, and late updates around the lookback.

The walk feeds one warehouse the generator's `--as-of` snapshots in date order, monthly from
2016-11 to 2018-10 plus a few dates only days apart, then the full data, running
`olist run-all --source <snapshot>` after each: a step with new events reloads the raw files
and MERGEs the facts. Every warehouse table must then equal, row for row, a
`--full-refresh` build of the final data in a second warehouse.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from helpers import (
    ORDERS_FILE,
    STAGING,
    STAGING_VIEWS,
    WAREHOUSE,
    WAREHOUSE_TABLES,
    copy_data_dir,
    generate,
    olist,
    query,
    spy_on_builds,
)
from olist_cli.engine.checks import CHANGED_ROWS_NOTE

SCALE = 0.02
SEED = 11
FACTS = ("fact_orders", "fact_order_items")
# Every model built by MERGE: the two facts and the dimensions that grow with sales.
MERGED = (*FACTS, "dim_customer", "dim_product", "dim_seller")
LOOKBACK = dt.timedelta(days=3)  # OLIST_LOOKBACK_DAYS's default


def _walk_dates() -> list[dt.date | None]:
    """The first of every month 2016-11 … 2018-10, dates a day or a few apart, the full data.

    At this scale the generator's first orders are in October 2016 (the real data's
    September orders round to none), so every snapshot of the walk holds some orders. A
    snapshot without any order is its own test below.
    """
    monthly = [dt.date(2016 + (10 + i) // 12, (10 + i) % 12 + 1, 1) for i in range(24)]
    close = [
        dt.date(2017, 11, 23),  # Black Friday week: 1, 2 and 4 days apart
        dt.date(2017, 11, 24),
        dt.date(2017, 11, 26),
        dt.date(2017, 11, 30),
        dt.date(2018, 3, 10),  # 5 days apart: more than the lookback
        dt.date(2018, 3, 15),
        dt.date(2018, 8, 29),  # the last weeks, when the data's tail gets canceled
        dt.date(2018, 8, 30),
        dt.date(2018, 9, 2),
        dt.date(2018, 10, 16),
    ]
    return [*sorted(set(monthly + close)), None]


# -- the walk ------------------------------------------------------------------------------


@dataclass
class Step:
    as_of: dt.date | None
    output: str
    merges: list[tuple[str, int, str, str | None]]  # table, rows, source SQL, target filter
    tables_created: list[str]
    statuses: dict[str, str]  # fact_orders: order_id -> order_status
    item_statuses: dict[tuple[str, int], str]  # fact_order_items: key -> order_status
    orders_md5: str = ""
    model_statuses: dict[str, str] = field(default_factory=dict)
    drift: dict[str, tuple[int, int]] = field(default_factory=dict)
    # test -> (status, failures): the run-all's own tests, and a whole `olist test` after it
    tested: dict[str, tuple[str, int]] = field(default_factory=dict)
    tested_whole: dict[str, tuple[str, int]] = field(default_factory=dict)
    on_changed_rows: int = 0  # the run-all's tests that checked changed rows only


@dataclass
class Walk:
    steps: list[Step]
    incremental_db: Path
    full_refresh_db: Path
    full_refresh_output: str


def _fact_statuses(db: Path) -> tuple[dict[str, str], dict[tuple[str, int], str]]:
    orders = dict(query(db, f"select order_id, order_status from {WAREHOUSE}.fact_orders"))
    items = {
        (o, int(i)): s
        for o, i, s in query(
            db, f"select order_id, order_item_id, order_status from {WAREHOUSE}.fact_order_items"
        )
    }
    return orders, items


def _drift_from_own_fullquery(db: Path, data_dir: Path) -> dict[str, tuple[int, int]]:
    """For each warehouse table: (rows only in the table, rows only in its full SELECT).

    The full SELECT is the model rendered as a full refresh would build it, over the raw
    tables as they stand now: so this says whether the table equals a full refresh,
    at every step of the walk, not only at its end.
    """
    from olist_cli.engine import load_project, render_model
    from olist_cli.settings import load_settings
    from olist_cli.warehouse.duckdb import DuckDBWarehouse

    settings = load_settings(data_dir=data_dir)
    warehouse = DuckDBWarehouse(db)
    try:
        project = load_project(settings, warehouse.dialect)
        drift = {}
        for name in WAREHOUSE_TABLES:
            sql = render_model(settings, warehouse, project, name, full_refresh=True)
            table = f"{WAREHOUSE}.{name}"
            only_table = warehouse.query(
                f"select count(*) from (select * from {table} except all "
                f"select * from (\n{sql}\n) as q) as d"
            )[0][0]
            only_query = warehouse.query(
                f"select count(*) from (select * from (\n{sql}\n) as q except all "
                f"select * from {table}) as d"
            )[0][0]
            drift[name] = (int(only_table), int(only_query))
        return drift
    finally:
        warehouse.close()


@pytest.fixture(scope="module")
def walk(module_dir: Path) -> Walk:
    """Run the whole walk once; the tests below read what each step did."""
    from olist_cli.warehouse.duckdb import DuckDBWarehouse

    work = module_dir
    data_dir = work / "walk"
    db = data_dir / "olist.duckdb"
    merges: list[tuple[str, int, str, str | None]] = []
    created: list[str] = []
    real_merge = DuckDBWarehouse.merge
    real_create = DuckDBWarehouse.create_table_as
    real_staged = DuckDBWarehouse.staged_rows
    real_kept = DuckDBWarehouse.kept_rows
    staged: dict[str, str] = {}  # SELECT of a scratch table -> the SELECT that filled it

    def spy_merge(self: DuckDBWarehouse, schema: str, name: str, select_sql: str, **kw: Any) -> int:
        rows = real_merge(self, schema, name, select_sql, **kw)
        # The MERGE reads the new rows from a scratch table: record the SELECT behind it.
        source = staged.get(select_sql, select_sql)
        merges.append((name, rows, source, kw.get("target_filter")))
        return rows

    @contextmanager
    def spy_staged(self: DuckDBWarehouse, select_sql: str) -> Iterator[str]:
        with real_staged(self, select_sql) as rows_sql:
            staged[rows_sql] = select_sql
            yield rows_sql

    def spy_kept(self: DuckDBWarehouse, select_sql: str, **kw: Any) -> str:
        name = real_kept(self, select_sql, **kw)
        staged[f"select * from {name}"] = select_sql  # what a merge reads, when it keeps them
        return name

    def spy_create(self: DuckDBWarehouse, schema: str, name: str, *a: Any, **kw: Any) -> int:
        created.append(name)
        return real_create(self, schema, name, *a, **kw)

    steps: list[Step] = []
    snapshots = work / "snapshots"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(DuckDBWarehouse, "merge", spy_merge)
        mp.setattr(DuckDBWarehouse, "staged_rows", spy_staged)
        mp.setattr(DuckDBWarehouse, "kept_rows", spy_kept)
        mp.setattr(DuckDBWarehouse, "create_table_as", spy_create)
        engine_results = spy_on_builds(mp)
        for as_of in _walk_dates():
            folder = snapshots / (as_of.isoformat() if as_of else "full")
            generate(folder, scale=SCALE, seed=SEED, as_of=as_of)
            merges.clear()
            created.clear()
            result = olist(["run-all", "--source", str(folder)], data_dir)
            assert result.exit_code == 0, f"as of {as_of}:\n{result.output}"
            statuses, item_statuses = _fact_statuses(db)
            steps.append(
                Step(as_of, result.output, list(merges), list(created), statuses, item_statuses)
            )
            steps[-1].drift = _drift_from_own_fullquery(db, data_dir)
            steps[-1].model_statuses = engine_results.statuses()
            steps[-1].orders_md5 = hashlib.md5((folder / ORDERS_FILE).read_bytes()).hexdigest()
            run_all_tests = engine_results.tests[-1]
            steps[-1].tested = {r.name: (r.status, r.failures) for r in run_all_tests}
            steps[-1].on_changed_rows = sum(CHANGED_ROWS_NOTE in r.message for r in run_all_tests)
            whole = olist(["test"], data_dir)
            assert whole.exit_code == 0, f"as of {as_of}:\n{whole.output}"
            steps[-1].tested_whole = {
                r.name: (r.status, r.failures) for r in engine_results.tests[-1]
            }

    fresh_dir = work / "fresh"
    fresh = olist(["run-all", "--full-refresh", "--source", str(snapshots / "full")], fresh_dir)
    assert fresh.exit_code == 0, fresh.output
    return Walk(steps, db, fresh_dir / "olist.duckdb", fresh.output)


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, name: str) -> list[tuple]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [catalog, schema, name],
    ).fetchall()


def test_walk_ends_equal_to_a_full_refresh_row_for_row(walk: Walk) -> None:
    """EXCEPT ALL both ways is empty for every warehouse table and every staging view."""
    con = duckdb.connect(str(walk.incremental_db), read_only=True)
    try:
        con.execute(f"attach '{walk.full_refresh_db}' as fresh (read_only)")
        home = con.execute("select current_database()").fetchone()[0]
        relations = [(WAREHOUSE, t) for t in WAREHOUSE_TABLES] + [
            (STAGING, v) for v in STAGING_VIEWS
        ]
        differences = {}
        for schema, name in relations:
            mine, theirs = f"{schema}.{name}", f"fresh.{schema}.{name}"
            columns = _columns(con, home, schema, name)
            assert columns, f"{mine} missing from the incremental warehouse"
            assert columns == _columns(con, "fresh", schema, name), mine
            count = con.execute(f"select count(*) from {mine}").fetchone()[0]
            assert count == con.execute(f"select count(*) from {theirs}").fetchone()[0], mine
            assert count > 0, mine
            extra = con.execute(
                f"select count(*) from (select * from {mine} except all select * from {theirs})"
            ).fetchone()[0]
            missing = con.execute(
                f"select count(*) from (select * from {theirs} except all select * from {mine})"
            ).fetchone()[0]
            if extra or missing:
                differences[mine] = (extra, missing)
        assert differences == {}, "rows only in the incremental build, only in the full refresh"
    finally:
        con.close()


def test_every_step_of_the_walk_equals_a_full_refresh_of_its_snapshot(walk: Walk) -> None:
    """Drift that a later step would hide (or the last step heal) is caught where it starts."""
    drifted = {
        str(step.as_of or "full"): {n: d for n, d in step.drift.items() if d != (0, 0)}
        for step in walk.steps
    }
    assert {k: v for k, v in drifted.items() if v} == {}


def test_every_step_tests_its_changed_rows_as_a_whole_test_run_would(walk: Walk) -> None:
    """Each run-all's data tests, many on changed rows only, find what `olist test` finds."""
    for step in walk.steps:
        assert step.tested == step.tested_whole, f"as of {step.as_of}"
    # Early on a month can more than double the data (January 2017): the raw tables are
    # rewritten whole, so which rows changed is unknown. Later steps that change anything
    # change rows in place (the full data adds nothing to the last snapshot).
    since = dt.date(2017, 2, 1)
    narrowing = {
        step.as_of: step.on_changed_rows
        for step in walk.steps[1:]
        if (step.as_of is None or step.as_of >= since) and "success" in step.model_statuses.values()
    }
    assert len(narrowing) > 20 and min(narrowing.values()) > 0, narrowing


def test_the_walk_changes_the_data_at_every_step(walk: Walk) -> None:
    """Each snapshot adds orders, until the last months; the walk really moves."""
    sizes = [len(step.statuses) for step in walk.steps]
    assert sizes == sorted(sizes)
    assert sizes[0] > 0
    assert sizes[-1] > 10 * sizes[0]
    assert len(walk.steps) >= 30


def test_facts_are_merged_not_rebuilt_after_the_first_step(walk: Walk) -> None:
    """After the first build, a step with new orders MERGEs both facts and dim_customer;
    one without is a no-op.

    (At this scale no order is placed in December 2016, so the 2017-01-01 snapshot holds
    the same files as the 2016-12-01 one: that step must leave the facts `up to date`.)
    """
    first, *later = walk.steps
    assert set(MERGED) <= set(first.tables_created)  # the first build creates them
    unchanged_steps = 0
    for before, step in zip(walk.steps, later, strict=False):
        assert not set(MERGED) & set(step.tables_created), f"rebuilt as of {step.as_of}"
        merged = {name for name, *_ in step.merges}
        if step.orders_md5 == before.orders_md5:
            unchanged_steps += 1
            assert merged == set(), f"as of {step.as_of}: merged {merged} from unchanged files"
            for name in MERGED:
                assert step.model_statuses[name] == "up to date", step.output
        else:
            assert merged == set(MERGED), f"as of {step.as_of}: merged {merged}"
    assert unchanged_steps >= 1
    total = {
        name: sum(rows for s in later for n, rows, *_ in s.merges if n == name) for name in MERGED
    }
    assert all(total.values()), total


def test_merges_read_recent_rows_and_touch_only_their_partitions(walk: Walk) -> None:
    """Source side: a constant watermark filter. Target side: the touched partitions only."""
    partition = {
        "fact_orders": "order_purchase_date_day",
        "fact_order_items": "shipping_limit_date_day",
        "dim_customer": None,  # dimensions: not partitioned
        "dim_product": None,
        "dim_seller": None,
    }
    incremental_key = {
        "fact_orders": "order_updated_at",
        "fact_order_items": "order_updated_at",
        "dim_customer": "last_updated_at",
        "dim_product": "last_updated_at",
        "dim_seller": "last_updated_at",
    }
    seen = 0
    for step in walk.steps[1:]:
        for name, rows, source_sql, target_filter in step.merges:
            # The watermark is a constant computed beforehand, not a subquery on the target.
            assert f'"{WAREHOUSE}"."{name}"' not in source_sql
            assert f"{WAREHOUSE}.{name}" not in source_sql
            assert f"{incremental_key[name]} >=" in source_sql
            if name == "dim_customer":
                # The model narrows itself to the people with a changed order, on the same
                # constant (incremental_cutoff()), instead of aggregating everyone's history.
                assert "changed_orders.order_updated_at >= cast(" in source_sql
                assert target_filter is None
                continue
            if name in ("dim_product", "dim_seller"):
                # Likewise: the products and sellers of a changed order, on that constant.
                assert "where order_updated_at >= cast(" in source_sql
                assert target_filter is None
                continue
            if rows:
                seen += 1
                assert target_filter is not None and partition[name] in target_filter, (
                    f"{name} as of {step.as_of}: MERGE scans the whole target"
                )
    assert seen > 20


def test_orders_change_status_in_place_between_steps(walk: Walk) -> None:
    """The MERGE updates existing rows: orders move from shipped to delivered, etc."""
    moved: dict[tuple[str, str], int] = {}
    items_moved = 0
    for before, after in zip(walk.steps, walk.steps[1:], strict=False):
        for order_id, status in before.statuses.items():
            new = after.statuses[order_id]  # an order never disappears
            if new != status:
                moved[(status, new)] = moved.get((status, new), 0) + 1
        items_moved += sum(
            1 for key, status in before.item_statuses.items() if after.item_statuses[key] != status
        )
    assert moved.get(("shipped", "delivered"), 0) > 10, moved
    assert moved.get(("created", "approved"), 0) + moved.get(("approved", "shipped"), 0) > 0, moved
    assert items_moved > 10


def test_a_snapshot_without_orders_builds_and_the_next_one_merges(tmp_path: Path) -> None:
    """The walk's true start: a snapshot taken before the first order (at this scale the
    first one is placed in October 2016) holds headers only. It builds empty facts, and
    the next snapshot MERGEs into them (the empty-table path of the watermark) to the same
    tables as a full refresh.
    """
    empty = generate(tmp_path / "empty", scale=SCALE, seed=SEED, as_of=dt.date(2016, 9, 30))
    first = generate(tmp_path / "first", scale=SCALE, seed=SEED, as_of=dt.date(2016, 11, 1))
    assert len((empty / ORDERS_FILE).read_text(encoding="utf-8").splitlines()) == 1
    data_dir = tmp_path / "data"
    db = data_dir / "olist.duckdb"

    result = olist(["run-all", "--source", str(empty)], data_dir)
    assert result.exit_code == 0, result.output
    for name in FACTS:
        assert query(db, f"select count(*) from {WAREHOUSE}.{name}") == [(0,)]

    result = olist(["run-all", "--source", str(first)], data_dir)
    assert result.exit_code == 0, result.output
    assert query(db, f"select count(*) from {WAREHOUSE}.fact_orders")[0][0] > 0
    drift = _drift_from_own_fullquery(db, data_dir)
    assert {n: d for n, d in drift.items() if d != (0, 0)} == {}


# -- late updates around the lookback --------------------------------------------------------


@pytest.fixture(scope="module")
def base(module_dir: Path) -> tuple[Path, Path]:
    """The full data at a small scale and a warehouse built from it: (raw folder, data dir)."""
    raw = generate(module_dir / "base-raw", scale=SCALE, seed=SEED)
    data_dir = module_dir / "base"
    result = olist(["run-all", "--source", str(raw)], data_dir)
    assert result.exit_code == 0, result.output
    return raw, data_dir


@pytest.fixture
def copy_of_base(base: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    raw, data_dir = base
    shutil.copytree(raw, tmp_path / "raw")
    return tmp_path / "raw", copy_data_dir(data_dir, tmp_path / "data")


def _watermark(db: Path) -> dt.datetime:
    return query(db, f"select max(order_updated_at) from {WAREHOUSE}.fact_orders")[0][0]


def _shipped_orders_before(db: Path, moment: dt.datetime, n: int) -> list[str]:
    """Shipped, not delivered orders whose every event is before ``moment``."""
    rows = query(
        db,
        f"select f.order_id from {WAREHOUSE}.fact_orders as f "
        "where f.order_status = 'shipped' and f.order_delivered_customer_date is null "
        "and f.order_delivered_carrier_date is not null and f.order_updated_at < ? "
        "and f.item_count > 0 order by f.order_id limit ?",
        [moment, n],
    )
    assert len(rows) == n, f"the sample has too few shipped orders before {moment}"
    return [r[0] for r in rows]


def _cell(value: str) -> str:
    """A cell as the generator writes it: quoted when it starts with a digit or needs it."""
    if value == "":
        return ""
    needs = value[0].isdigit() or any(c in value for c in ',"\n')
    return '"' + value.replace('"', '""') + '"' if needs else value


def deliver(raw: Path, order_id: str, at: dt.datetime) -> None:
    """Rewrite one order's line: delivered to the customer at ``at``."""
    path = raw / ORDERS_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if order_id in line]
    assert len(hits) == 1
    fields = next(csv.reader(io.StringIO(lines[hits[0]])))
    assert fields[0] == order_id
    fields[2] = "delivered"
    fields[6] = at.strftime("%Y-%m-%d %H:%M:%S")
    lines[hits[0]] = ",".join(_cell(f) for f in fields) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def _fact_row(db: Path, order_id: str) -> tuple[str, dt.datetime | None, dt.date | None]:
    return query(
        db,
        f"select order_status, order_delivered_customer_date, delivery_date "
        f"from {WAREHOUSE}.fact_orders where order_id = ?",
        [order_id],
    )[0]


def _item_statuses(db: Path, order_id: str) -> set[str]:
    rows = query(
        db, f"select order_status from {WAREHOUSE}.fact_order_items where order_id = ?", [order_id]
    )
    assert rows
    return {r[0] for r in rows}


def test_late_update_inside_the_lookback_is_applied(copy_of_base: tuple[Path, Path]) -> None:
    """A delivery dated before the watermark but within the lookback reaches the facts.

    Two orders are delivered late: one a day before the watermark, one exactly at
    watermark − lookback (the window's edge, which is inclusive).
    """
    raw, data_dir = copy_of_base
    db = data_dir / "olist.duckdb"
    watermark = _watermark(db)
    cutoff = watermark - LOOKBACK
    recent, at_edge = _shipped_orders_before(db, cutoff - dt.timedelta(days=1), 2)
    deliveries = {recent: watermark - dt.timedelta(days=1), at_edge: cutoff}
    for order_id, at in deliveries.items():
        assert _fact_row(db, order_id)[0] == "shipped"
        deliver(raw, order_id, at)

    result = olist(["run-all", "--source", str(raw)], data_dir)
    assert result.exit_code == 0, result.output
    assert _watermark(db) == watermark  # no event later than before: a late update
    for order_id, at in deliveries.items():
        assert _fact_row(db, order_id) == ("delivered", at, at.date())
        assert _item_statuses(db, order_id) == {"delivered"}


def test_update_older_than_the_lookback_waits_for_a_full_refresh(
    copy_of_base: tuple[Path, Path],
) -> None:
    """The documented limit of the incremental key (docs/models.md).

    An incremental run MERGEs only the rows whose `order_updated_at` is at least the
    table's watermark minus OLIST_LOOKBACK_DAYS. A change whose timestamps are all older
    than that (here: a delivery dated one second before watermark − lookback, reported
    after the facts were built) is not seen: the fact row stays stale, the run still
    succeeds. `--full-refresh` rebuilds from all rows and applies it.
    """
    raw, data_dir = copy_of_base
    db = data_dir / "olist.duckdb"
    watermark = _watermark(db)
    cutoff = watermark - LOOKBACK
    (order_id,) = _shipped_orders_before(db, cutoff - dt.timedelta(days=1), 1)
    stale = _fact_row(db, order_id)
    assert stale[0] == "shipped"
    at = cutoff - dt.timedelta(seconds=1)
    deliver(raw, order_id, at)

    incremental = olist(["run-all", "--source", str(raw)], data_dir)
    assert incremental.exit_code == 0, incremental.output
    assert "orders_raw" in incremental.output  # the changed file was loaded ...
    assert query(
        db,
        "select order_status from dev_warehouse_staging.stg_orders where order_id = ?",
        [order_id],
    ) == [("delivered",)]  # ... and staging shows the update,
    assert _fact_row(db, order_id) == stale  # but the fact row is left as it was
    assert _item_statuses(db, order_id) == {"shipped"}

    full = olist(["run-all", "--full-refresh", "--source", str(raw)], data_dir)
    assert full.exit_code == 0, full.output
    assert _fact_row(db, order_id) == ("delivered", at, at.date())
    assert _item_statuses(db, order_id) == {"delivered"}
