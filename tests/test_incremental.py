"""Incremental models equal a full refresh: the as-of walk, and changes of every kind.

The walk feeds one warehouse the generator's `--as-of` snapshots in date order, monthly from
2016-11 to 2018-10 plus a few dates only days apart, then the full data, running
`olist run-all --source <snapshot>` after each: a step with new events reloads the raw files
and replaces the changed rows of the incremental models. Some snapshots are also changed by
hand before their step, as real files can change: orders removed (with their items,
payments, reviews and customer; the next snapshot brings them back), a late delivery dated
before the newest event already loaded, a payment value and a customer's city edited with no
new event time. After every step every warehouse table must equal a full refresh of its
snapshot, and at the end, row for row, a `--full-refresh` build of the final data in a
second warehouse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from helpers import (
    ORDERS_FILE,
    PAYMENTS_FILE,
    STAGING,
    STAGING_VIEWS,
    WAREHOUSE,
    WAREHOUSE_TABLES,
    copy_data_dir,
    csv_records,
    edit_field,
    field_of,
    generate,
    olist,
    query,
    remove_orders,
    spy_on_builds,
)
from olist_cli.engine.checks import CHANGED_ROWS_NOTE

SCALE = 0.02
SEED = 11
FACTS = ("fact_orders", "fact_order_items")
# Every model built by MERGE: the two facts and the dimensions that grow with sales.
MERGED = (*FACTS, "dim_customer", "dim_product", "dim_seller")
# The snapshots changed by hand before their step (see _perturb).
PERTURBED = (dt.date(2017, 6, 1), dt.date(2017, 11, 24), dt.date(2018, 3, 10), dt.date(2018, 8, 30))
CUSTOMERS_FILE = "olist_customers_dataset.csv"


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
    replaces: list[tuple[str, int, int, str, str]]  # table, +rows, -rows, new rows' SQL, matching
    tables_created: list[str]
    statuses: dict[str, str]  # fact_orders: order_id -> order_status
    item_statuses: dict[tuple[str, int], str]  # fact_order_items: key -> order_status
    orders_md5: str = ""
    model_statuses: dict[str, str] = field(default_factory=dict)
    model_messages: dict[str, str] = field(default_factory=dict)
    drift: dict[str, tuple[int, int]] = field(default_factory=dict)
    # test -> (status, failures): the run-all's own tests, and a whole `olist test` after it
    tested: dict[str, tuple[str, int]] = field(default_factory=dict)
    tested_whole: dict[str, tuple[str, int]] = field(default_factory=dict)
    on_changed_rows: int = 0  # the run-all's tests that checked changed rows only
    removed: set[str] = field(default_factory=set)  # orders taken out of its snapshot
    late: dict[str, str] = field(default_factory=dict)  # order -> its late delivery time


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


def _perturb(folder: Path, as_of: dt.date) -> tuple[set[str], dict[str, str]]:
    """Change a snapshot as real files change between two downloads, none of it with a new
    event time: 2 % of the orders removed, up to two shipped orders delivered late (dated
    three days after purchase, long before the newest event), a payment value and a customer's
    city edited. Returns (the removed orders, order -> late delivery time)."""
    _, orders = csv_records(folder / ORDERS_FILE)
    ids = [field_of(r, 0) for r in orders]
    removed = set(ids[::50])
    shipped = [
        i
        for i, r in enumerate(orders)
        if field_of(r, 2) == "shipped"
        and field_of(r, 0) not in removed
        and field_of(r, 3) < str(as_of - dt.timedelta(days=30))
    ][:2]
    late = {}
    for index in shipped:
        bought = dt.datetime.fromisoformat(field_of(orders[index], 3))
        at = (bought + dt.timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")
        edit_field(folder, ORDERS_FILE, index, 2, "delivered")
        late[edit_field(folder, ORDERS_FILE, index, 6, at)] = at
    remove_orders(folder, removed)
    edit_field(folder, PAYMENTS_FILE, 3, 4, "1234.56")
    edit_field(folder, CUSTOMERS_FILE, 5, 3, "cidade nova")
    return removed, late


@pytest.fixture(scope="module")
def walk(module_dir: Path) -> Walk:
    """Run the whole walk once; the tests below read what each step did."""
    from olist_cli.warehouse.duckdb import DuckDBWarehouse

    work = module_dir
    data_dir = work / "walk"
    db = data_dir / "olist.duckdb"
    replaces: list[tuple[str, int, int, str, str]] = []
    created: list[str] = []
    real_replace = DuckDBWarehouse.replace_rows
    real_create = DuckDBWarehouse.create_table_as

    def spy_replace(self: DuckDBWarehouse, schema: str, name: str, rows_sql: str, **kw: Any) -> Any:
        done = real_replace(self, schema, name, rows_sql, **kw)
        replaces.append((name, done.inserted, done.deleted, rows_sql, kw["matching"]))
        return done

    def spy_create(self: DuckDBWarehouse, schema: str, name: str, *a: Any, **kw: Any) -> int:
        created.append(name)
        return real_create(self, schema, name, *a, **kw)

    steps: list[Step] = []
    snapshots = work / "snapshots"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(DuckDBWarehouse, "replace_rows", spy_replace)
        mp.setattr(DuckDBWarehouse, "create_table_as", spy_create)
        engine_results = spy_on_builds(mp)
        for as_of in _walk_dates():
            folder = snapshots / (as_of.isoformat() if as_of else "full")
            generate(folder, scale=SCALE, seed=SEED, as_of=as_of)
            removed, late = _perturb(folder, as_of) if as_of in PERTURBED else (set(), {})
            replaces.clear()
            created.clear()
            result = olist(["run-all", "--source", str(folder)], data_dir)
            assert result.exit_code == 0, f"as of {as_of}:\n{result.output}"
            statuses, item_statuses = _fact_statuses(db)
            steps.append(
                Step(as_of, result.output, list(replaces), list(created), statuses, item_statuses)
            )
            steps[-1].removed, steps[-1].late = removed, late
            steps[-1].drift = _drift_from_own_fullquery(db, data_dir)
            steps[-1].model_statuses = engine_results.statuses()
            steps[-1].model_messages = {r.name: r.message for r in engine_results.models[-1]}
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
    # Early on a month can more than double the data (up to February 2017): the raw tables
    # are rewritten whole, so which rows changed is unknown, and the models are rebuilt
    # whole. Later steps that change anything change rows in place (the full data adds
    # nothing to the last snapshot).
    since = dt.date(2017, 3, 1)
    narrowing = {
        step.as_of: step.on_changed_rows
        for step in walk.steps[1:]
        if (step.as_of is None or step.as_of >= since) and "success" in step.model_statuses.values()
    }
    assert len(narrowing) > 20 and min(narrowing.values()) > 0, narrowing


def test_the_walk_changes_the_data_at_every_step(walk: Walk) -> None:
    """Each snapshot adds orders, until the last months; the walk really moves."""
    sizes = [len(step.statuses) for step in walk.steps if not step.removed]
    assert sizes == sorted(sizes)
    assert sizes[0] > 0
    assert sizes[-1] > 10 * sizes[0]
    assert len(walk.steps) >= 30
    perturbed = [step for step in walk.steps if step.removed]
    assert len(perturbed) == len(PERTURBED)
    for step in perturbed:
        assert not step.removed & set(step.statuses), "a removed order stayed in fact_orders"
        assert step.late
        for order_id in step.late:
            assert step.statuses[order_id] == "delivered"
    for before, after in zip(walk.steps, walk.steps[1:], strict=False):
        assert before.removed <= set(after.statuses)  # the next snapshot brings them back


def test_facts_are_merged_not_rebuilt_after_the_first_step(walk: Walk) -> None:
    """After the first build, a step with changed orders replaces the changed rows of both
    facts and the dimensions that grow with them; one without is a no-op.

    (At this scale no order is placed in December 2016, so the 2017-01-01 snapshot holds
    the same files as the 2016-12-01 one: that step must leave the facts `up to date`.)
    Early on a month can more than double the data: a raw table is then replaced whole,
    which rows changed is not known, and the models are rebuilt whole, saying why.
    """
    first, *later = walk.steps
    assert set(MERGED) <= set(first.tables_created)  # the first build creates them
    unchanged_steps = replaced_steps = 0
    for before, step in zip(walk.steps, later, strict=False):
        merged = {name for name, *_ in step.replaces}
        if step.orders_md5 == before.orders_md5:
            unchanged_steps += 1
            assert merged == set(), f"as of {step.as_of}: replaced {merged} from unchanged files"
            for name in MERGED:
                assert step.model_statuses[name] == "up to date", step.output
        elif merged:
            replaced_steps += 1
            assert merged == set(MERGED), f"as of {step.as_of}: replaced {merged}"
            assert not set(MERGED) & set(step.tables_created), f"rebuilt as of {step.as_of}"
        else:
            assert step.as_of is not None and step.as_of < dt.date(2017, 6, 1), {
                n: step.model_messages[n] for n in MERGED
            }
            for name in MERGED:
                message = step.model_messages[name]
                assert message.startswith("rebuilt whole (which rows of"), (step.as_of, message)
    assert unchanged_steps >= 1 and replaced_steps > 20
    total = {
        name: sum(rows for s in later for n, rows, *_ in s.replaces if n == name) for name in MERGED
    }
    assert all(total.values()), total
    removed = {
        name: sum(gone for s in later if s.removed for n, _, gone, *_ in s.replaces if n == name)
        for name in MERGED
    }
    assert all(removed.values()), removed


def test_replaces_read_only_the_changed_values(walk: Walk) -> None:
    """The new rows come from the model narrowed to the changed values (gathered once into
    scratch tables), never from a scan of the table being replaced into; the table's old
    rows are chosen by the same values."""
    seen = 0
    for step in walk.steps[1:]:
        for name, _, _, rows_sql, matching in step.replaces:
            assert f'"{WAREHOUSE}"."{name}"' not in rows_sql
            assert "olist_values_" in rows_sql and "olist_values_" in matching
            assert "is not distinct from t." in matching
            seen += 1
    assert seen > 100


def test_orders_change_status_in_place_between_steps(walk: Walk) -> None:
    """The MERGE updates existing rows: orders move from shipped to delivered, etc."""
    moved: dict[tuple[str, str], int] = {}
    items_moved = 0
    for before, after in zip(walk.steps, walk.steps[1:], strict=False):
        for order_id, status in before.statuses.items():
            new = after.statuses.get(order_id)  # None: removed from the snapshot
            if new is not None and new != status:
                moved[(status, new)] = moved.get((status, new), 0) + 1
        items_moved += sum(
            1
            for key, status in before.item_statuses.items()
            if after.item_statuses.get(key, status) != status
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


# -- changes that carry no new event time -------------------------------------------------


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


def _shipped_orders_between(db: Path, low: dt.datetime, high: dt.datetime) -> str:
    """A shipped, not delivered order placed between the two moments, every event before
    ``high``."""
    rows = query(
        db,
        f"select f.order_id from {WAREHOUSE}.fact_orders as f "
        "where f.order_status = 'shipped' and f.order_delivered_customer_date is null "
        "and f.order_delivered_carrier_date is not null and f.order_updated_at < ? "
        "and f.order_purchase_timestamp >= ? and f.item_count > 0 order by f.order_id limit 1",
        [high, low],
    )
    assert rows, f"the sample has no shipped order placed between {low} and {high}"
    return rows[0][0]


def _purchased(db: Path, order_id: str) -> dt.datetime:
    return query(
        db,
        f"select order_purchase_timestamp from {WAREHOUSE}.fact_orders where order_id = ?",
        [order_id],
    )[0][0]


def deliver(raw: Path, order_id: str, at: dt.datetime) -> None:
    """Rewrite one order's record: delivered to the customer at ``at``."""
    _, records = csv_records(raw / ORDERS_FILE)
    (index,) = [i for i, r in enumerate(records) if field_of(r, 0) == order_id]
    edit_field(raw, ORDERS_FILE, index, 2, "delivered")
    edit_field(raw, ORDERS_FILE, index, 6, at.strftime("%Y-%m-%d %H:%M:%S"))


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


def test_late_updates_reach_the_facts_however_old_their_event_time(
    copy_of_base: tuple[Path, Path],
) -> None:
    """Deliveries reported after the facts were built, dated a day before the newest event
    already loaded and more than a year before it: both reach the facts in the next run, since the
    run replaces the rows of the orders whose raw rows changed, whatever their dates."""
    raw, data_dir = copy_of_base
    db = data_dir / "olist.duckdb"
    watermark = _watermark(db)
    day = dt.timedelta(days=1)
    recent = _shipped_orders_between(db, watermark - 60 * day, watermark - 2 * day)
    old = _shipped_orders_between(db, watermark - 2000 * day, watermark - 400 * day)
    deliveries = {recent: watermark - day, old: _purchased(db, old) + 9 * day}
    for order_id, at in deliveries.items():
        assert _fact_row(db, order_id)[0] == "shipped"
        deliver(raw, order_id, at)

    result = olist(["run-all", "--source", str(raw)], data_dir)
    assert result.exit_code == 0, result.output
    assert _watermark(db) == watermark  # no event later than before: late updates
    for order_id, at in deliveries.items():
        assert _fact_row(db, order_id) == ("delivered", at, at.date())
        assert _item_statuses(db, order_id) == {"delivered"}
    drift = _drift_from_own_fullquery(db, data_dir)
    assert {n: d for n, d in drift.items() if d != (0, 0)} == {}


def test_orders_gone_from_the_files_leave_every_model_and_the_tests_pass(
    copy_of_base: tuple[Path, Path],
) -> None:
    """Orders removed from the files (with their items, payments, reviews and customers)
    leave the facts and the dimensions in the same run: the completeness tests pass, and
    the next run too (they used to fail every run until a --full-refresh)."""
    raw, data_dir = copy_of_base
    db = data_dir / "olist.duckdb"
    gone = {
        r[0]
        for r in query(
            db,
            f"select order_id from {WAREHOUSE}.fact_orders where item_count > 0 "
            "order by order_id limit 12",
        )
    }
    people = {
        r[0]
        for r in query(
            db,
            f"select customer_unique_id from {WAREHOUSE}.fact_orders f where order_id in "
            f"({', '.join('?' * len(gone))}) and not exists (select 1 from {WAREHOUSE}.fact_orders "
            f"o where o.customer_unique_id = f.customer_unique_id and o.order_id not in "
            f"({', '.join('?' * len(gone))}))",
            [*gone, *gone],
        )
    }
    assert people, "some removed orders should be their person's only order"
    remove_orders(raw, gone)
    for _ in range(2):
        result = olist(["run-all", "--source", str(raw)], data_dir)
        assert result.exit_code == 0, result.output
    listed = ", ".join(f"'{o}'" for o in gone)
    for table in ("fact_orders", "fact_order_items"):
        assert query(
            db, f"select count(*) from {WAREHOUSE}.{table} where order_id in ({listed})"
        ) == [(0,)]
    who = ", ".join(f"'{p}'" for p in people)
    assert query(
        db, f"select count(*) from {WAREHOUSE}.dim_customer where customer_unique_id in ({who})"
    ) == [(0,)]
    drift = _drift_from_own_fullquery(db, data_dir)
    assert {n: d for n, d in drift.items() if d != (0, 0)} == {}


def test_a_header_only_payments_file_with_allow_shrink_equals_a_full_refresh(
    copy_of_base: tuple[Path, Path], tmp_path: Path
) -> None:
    """Every payment row gone (allowed for this run): every order's payment total follows,
    and the warn-level test that counts orders without payments finds them all, as a full
    refresh of the same files does (it used to keep the old totals and count 3)."""
    raw, data_dir = copy_of_base
    db = data_dir / "olist.duckdb"
    payments = raw / PAYMENTS_FILE
    payments.write_text(payments.read_text(encoding="utf-8").splitlines(keepends=True)[0])

    refused = olist(["run-all", "--source", str(raw)], data_dir)
    assert refused.exit_code == 1, refused.output
    assert "--allow-shrink" in refused.output

    result = olist(["run-all", "--allow-shrink", "--source", str(raw)], data_dir)
    assert result.exit_code == 0, result.output
    assert query(db, f"select sum(total_order_value) from {WAREHOUSE}.fact_orders") == [(0,)]
    drift = _drift_from_own_fullquery(db, data_dir)
    assert {n: d for n, d in drift.items() if d != (0, 0)} == {}
    fresh = olist(["run-all", "--full-refresh", "--source", str(raw)], tmp_path / "fresh")
    assert fresh.exit_code == 0, fresh.output
    test = "assert_delivered_orders_have_items_and_payments"
    mine = [line for line in result.output.splitlines() if f"WARN  {test}:" in line]
    theirs = [line for line in fresh.output.splitlines() if f"WARN  {test}:" in line]
    assert mine and [m.split(": ", 1)[1] for m in mine] == [t.split(": ", 1)[1] for t in theirs]
    delivered = query(
        db, f"select count(*) from {WAREHOUSE}.fact_orders where order_status = 'delivered'"
    )[0][0]
    assert f"{delivered} failing rows" in mine[0]
