"""Write, audit, publish: a run whose tests or models fail publishes nothing.

Each test starts from a warehouse built from an as-of snapshot (the previous successful
run), feeds it the full data with a defect, and checks that `olist run-all` exits 1, names
what failed, and leaves every published table exactly as it was: contents and the
fingerprints in `_olist_state`. Fixing the input then publishes normally.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from pathlib import Path

import pytest

from helpers import (
    ITEMS_FILE,
    MODELS,
    ORDERS_FILE,
    Builds,
    copy_data_dir,
    digests,
    duplicate_a_line,
    edited_sql,
    olist,
    recorded_state,
    relations,
    sample_snapshots,
)
from olist_cli.errors import EXIT_FAILURE

SCALE = 0.02
SEED = 5
AS_OF = dt.date(2018, 5, 1)  # the previous run's data; the full data adds ~4 months
NOTHING_PUBLISHED = "nothing was published"
MODEL_SCHEMAS = "dev_warehouse_%"


# -- what readers see ------------------------------------------------------------------------


def published_tables(db: Path) -> dict[str, str]:
    """An order-independent digest of every table the models build (the published layer)."""
    return digests(db, kind="BASE TABLE", schema_like=MODEL_SCHEMAS)


def published_views(db: Path) -> dict[str, str]:
    """The same for what the staging views return."""
    return digests(db, kind="VIEW", schema_like=MODEL_SCHEMAS)


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshots(module_dir: Path) -> tuple[Path, Path]:
    """(the previous run's files, as of AS_OF; the full data)."""
    return sample_snapshots(module_dir, scale=SCALE, seed=SEED, as_of=AS_OF)


@pytest.fixture(scope="module")
def good_build(module_dir: Path, snapshots: tuple[Path, Path]) -> Path:
    """The data dir of a successful run on the previous files."""
    data_dir = module_dir / "good"
    result = olist(["run-all", "--source", str(snapshots[0])], data_dir)
    assert result.exit_code == 0, result.output
    return data_dir


@pytest.fixture(scope="module")
def clean_full_build(module_dir: Path, snapshots: tuple[Path, Path]) -> Path:
    """A fresh warehouse built from the full data: what a successful run publishes."""
    data_dir = module_dir / "clean"
    result = olist(["run-all", "--source", str(snapshots[1])], data_dir)
    assert result.exit_code == 0, result.output
    return data_dir / "olist.duckdb"


@pytest.fixture
def warehouse(good_build: Path, tmp_path: Path) -> Path:
    """A private copy of the good build's data dir."""
    return copy_data_dir(good_build, tmp_path / "data")


def _new_order_id(previous: Path, full: Path) -> str:
    """A delivered order with items that the full data holds and the previous files did not
    (so the failed run would MERGE it in)."""

    def first_cells(path: Path) -> set[str]:
        with path.open(encoding="utf-8") as lines:
            return {line.split(",", 1)[0].strip('"') for line in lines}

    known = first_cells(previous / ORDERS_FILE)
    with_items = first_cells(full / ITEMS_FILE)
    with (full / ORDERS_FILE).open(encoding="utf-8") as lines:
        for line in lines:
            order_id = line.split(",", 1)[0].strip('"')
            if order_id not in known and order_id in with_items and ",delivered," in line:
                return order_id
    raise AssertionError("the full data holds no new delivered order with items")


# -- a failing data test ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_name", "failing_test"),
    [
        (ORDERS_FILE, "unique_stg_orders_order_id"),
        (ITEMS_FILE, "unique_combination_fact_order_items_order_id__order_item_id"),
    ],
    ids=["duplicated-order", "duplicated-item"],
)
def test_a_failing_test_publishes_nothing(
    warehouse: Path,
    snapshots: tuple[Path, Path],
    clean_full_build: Path,
    tmp_path: Path,
    file_name: str,
    failing_test: str,
    builds: Builds,
) -> None:
    previous, full = snapshots
    db = warehouse / "olist.duckdb"
    tables_before, state_before = published_tables(db), recorded_state(db)
    assert tables_before != published_tables(clean_full_build)  # the new data changes them

    bad = tmp_path / "bad"
    shutil.copytree(full, bad)
    duplicate_a_line(bad, file_name, containing=_new_order_id(previous, full))

    result = olist(["run-all", "--source", str(bad)], warehouse)
    assert result.exit_code == EXIT_FAILURE, result.output
    assert failing_test in result.output
    error = result.stderr.strip().splitlines()[-1]
    assert failing_test in error and NOTHING_PUBLISHED in error
    # The models did build in this run (so there was something to hold back) ...
    statuses = builds.statuses()
    assert statuses["fact_orders"] == statuses["fact_order_items"] == "success"
    failed = {t.name for t in builds.tests[-1] if t.status in ("fail", "error")}
    assert failing_test in failed
    # ... and none of it is visible, nor recorded as built or tested.
    assert published_tables(db) == tables_before
    assert recorded_state(db) == state_before

    # The same bad files again: no fingerprint claims the failed build, so it fails again.
    again = olist(["run-all", "--source", str(bad)], warehouse)
    assert again.exit_code == EXIT_FAILURE, again.output
    assert failing_test in again.stderr
    assert published_tables(db) == tables_before

    # Fixed input: the next run publishes the full data, as a clean build would.
    fixed = olist(["run-all", "--source", str(full)], warehouse)
    assert fixed.exit_code == 0, fixed.output
    assert published_tables(db) == published_tables(clean_full_build)
    assert published_views(db) == published_views(clean_full_build)


def test_staging_views_show_the_previous_data_after_a_failed_run(
    warehouse: Path, snapshots: tuple[Path, Path], tmp_path: Path
) -> None:
    """Readers of the staging views must not see the data of a run that published nothing.

    The staging models are views over the raw tables, and the raw load commits before the
    publishing transaction; so unless the load is part of what is published (or the views
    read something that is), a failed run shows its rejected data through every view.
    """
    previous, full = snapshots
    db = warehouse / "olist.duckdb"
    views_before = published_views(db)
    bad = tmp_path / "bad"
    shutil.copytree(full, bad)
    duplicate_a_line(bad, ORDERS_FILE, containing=_new_order_id(previous, full))

    result = olist(["run-all", "--source", str(bad)], warehouse)
    assert result.exit_code == EXIT_FAILURE, result.output
    changed = sorted(k for k, v in published_views(db).items() if views_before.get(k) != v)
    assert changed == [], f"views showing the unpublished run's data: {changed}"


def test_a_failing_first_run_leaves_no_table(snapshots: tuple[Path, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(snapshots[1], bad)
    duplicate_a_line(bad, ORDERS_FILE)
    data_dir = tmp_path / "data"

    result = olist(["run-all", "--source", str(bad)], data_dir)
    assert result.exit_code == EXIT_FAILURE, result.output
    assert NOTHING_PUBLISHED in result.stderr
    db = data_dir / "olist.duckdb"
    assert relations(db, kind="BASE TABLE", schema_like=MODEL_SCHEMAS) == []
    assert relations(db, kind="VIEW", schema_like=MODEL_SCHEMAS) == []


# -- a model that fails to build ---------------------------------------------------------------


def _sql_with_a_broken_model(folder: Path, name: str, old: str) -> Path:
    """A copy of sql/ where model ``name`` selects a column that does not exist."""
    return edited_sql(folder, name, old, "no_such_column,")


def test_a_model_that_fails_to_build_publishes_nothing(
    warehouse: Path,
    snapshots: tuple[Path, Path],
    clean_full_build: Path,
    tmp_path: Path,
    builds: Builds,
) -> None:
    """The models that built fine before it in the same run are rolled back with it."""
    db = warehouse / "olist.duckdb"
    tables_before, state_before = published_tables(db), recorded_state(db)
    sql = _sql_with_a_broken_model(
        tmp_path / "broken-sql", "dim_customer", "customers.customer_city,"
    )

    # --full-refresh: dim_customer is incremental, and a changed incremental model would be
    # refused before anything builds; rebuilt, it is the last model and fails at its turn.
    result = olist(
        ["run-all", "--full-refresh", "--source", str(snapshots[1])],
        warehouse,
        OLIST_SQL_DIR=str(sql),
    )
    assert result.exit_code == EXIT_FAILURE, result.output
    error = result.stderr.strip().splitlines()[-1]
    assert "dim_customer" in error and "no_such_column" in error
    assert NOTHING_PUBLISHED in error
    statuses = builds.statuses()
    assert statuses["dim_customer"] == "error"
    built = {name for name, status in statuses.items() if status == "success"}
    assert {"stg_orders", "fact_orders", "fact_order_items", "dim_seller"} <= built
    assert published_tables(db) == tables_before
    assert recorded_state(db) == state_before

    fixed = olist(["run-all", "--source", str(snapshots[1])], warehouse)
    assert fixed.exit_code == 0, fixed.output
    assert published_tables(db) == published_tables(clean_full_build)


def test_only_the_broken_model_is_reported_as_failed(
    warehouse: Path, snapshots: tuple[Path, Path], tmp_path: Path, builds: Builds
) -> None:
    """A model that fails must not make the models independent of it report errors.

    dim_date is broken; no model reads it, and it is the first warehouse model built. The
    others either build (and are rolled back with the run) or are reported as not built
    because of the failure, but none is an `error` of its own: the output must point at
    the one model to fix.
    """
    sql = _sql_with_a_broken_model(tmp_path / "broken-sql", "dim_date", "date_day as date_key,")
    result = olist(["run-all", "--source", str(snapshots[1])], warehouse, OLIST_SQL_DIR=str(sql))
    assert result.exit_code == EXIT_FAILURE, result.output
    statuses = builds.statuses()
    assert len(statuses) == len(MODELS)
    errors = sorted(n for n, s in statuses.items() if s == "error")
    assert errors == ["dim_date"], result.output


# -- a data test that cannot run ---------------------------------------------------------------

BROKEN_TEST = "assert_fact_orders_complete"  # an error-level test, not named first in a list


def sql_with_a_broken_test(folder: Path) -> Path:
    """A copy of sql/ where test BROKEN_TEST counts a column that does not exist."""
    old = "count(distinct order_id) as n_distinct"
    return edited_sql(folder, BROKEN_TEST, old, "count(distinct no_such_column) as n_distinct")


def test_a_test_that_cannot_run_publishes_nothing(
    warehouse: Path,
    snapshots: tuple[Path, Path],
    clean_full_build: Path,
    tmp_path: Path,
    builds: Builds,
) -> None:
    """An error-level test whose SQL does not run checked nothing: the run must hold back
    what it built, as for a test that finds failing rows, and say which test it was."""
    db = warehouse / "olist.duckdb"
    tables_before, views_before = published_tables(db), published_views(db)
    state_before = recorded_state(db)
    assert tables_before != published_tables(clean_full_build)  # the new data changes them
    sql = sql_with_a_broken_test(tmp_path / "broken-sql")

    result = olist(["run-all", "--source", str(snapshots[1])], warehouse, OLIST_SQL_DIR=str(sql))
    assert result.exit_code == EXIT_FAILURE, result.output
    tests = {t.name: t for t in builds.tests[-1]}
    assert tests[BROKEN_TEST].status == "error"
    assert "no_such_column" in tests[BROKEN_TEST].message
    # The others cannot run after it in the same DuckDB transaction, and say why.
    not_run = [t for t in tests.values() if t.status == "error" and t.name != BROKEN_TEST]
    assert not_run and all(BROKEN_TEST in t.message for t in not_run)
    error = result.stderr.strip().splitlines()[-1]
    failed = f"1 error-level data test(s) failed ({len(not_run)} more not run): {BROKEN_TEST};"
    assert failed in error and NOTHING_PUBLISHED in error
    assert f"ERROR {BROKEN_TEST}: Binder Error: " in result.output  # with its own reason
    # The models did build in this run (so there was something to hold back) ...
    assert builds.statuses()["fact_orders"] == "success"
    # ... and none of it is visible, nor recorded as built or tested.
    assert published_tables(db) == tables_before
    assert published_views(db) == views_before
    assert recorded_state(db) == state_before

    # The test mended: the same files publish what a clean build of them does.
    fixed = olist(["run-all", "--source", str(snapshots[1])], warehouse)
    assert fixed.exit_code == 0, fixed.output
    assert published_tables(db) == published_tables(clean_full_build)


def test_a_transaction_aborted_by_a_caught_error_is_an_error_not_a_silent_rollback(
    tmp_path: Path,
) -> None:
    """DuckDB rolls an aborted transaction back at COMMIT without raising: the adapter
    asks first, so nobody reports "published" for work that was thrown away."""
    import duckdb

    from olist_cli.errors import WarehouseError
    from olist_cli.warehouse.duckdb import DuckDBWarehouse

    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    try:
        warehouse.execute("create table t (a int)")
        aborted = pytest.raises(WarehouseError, match="DuckDB aborted it: nothing was written")
        with aborted, warehouse.transaction():
            warehouse.execute("insert into t values (1)")
            with contextlib.suppress(duckdb.Error):
                warehouse.execute("select no_such_column")
        assert warehouse.query("select count(*) from t") == [(0,)]
        with warehouse.transaction():  # the connection is usable again
            warehouse.execute("insert into t values (2)")
        assert warehouse.query("select a from t") == [(2,)]
    finally:
        warehouse.close()
