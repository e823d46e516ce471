"""Data tests on changed rows only: `olist run-all` checks what its load and merges changed.

A base warehouse is built from the generator's snapshot a month before the end of the
data; each test then runs `olist run-all` on the full files (a month of new and updated
orders), sometimes edited to break one rule in one row, and compares what the run's tests
found with what a whole `olist test` finds, or would find, on the same data.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from helpers import (
    ITEMS_FILE,
    ORDERS_FILE,
    Builds,
    copy_data_dir,
    duplicate_a_line,
    engine_settings,
    olist,
    query,
    sample_snapshots,
    spy_on_builds,
    write_sql,
)
from olist_cli.engine.changes import RunChanges
from olist_cli.engine.checks import CHANGED_ROWS_NOTE
from olist_cli.engine.results import TestResult
from olist_cli.errors import EXIT_FAILURE, ProjectError
from olist_cli.load import FileLoadResult
from olist_cli.warehouse.base import ReplacedRows

SCALE = 0.05
SEED = 5
AS_OF = dt.date(2018, 7, 1)
REVIEWS_FILE = "olist_order_reviews_dataset.csv"
# Tests whose model the load or the merges change, and whose kind has a changed-rows form.
ON_CHANGED_ROWS = (
    "unique_stg_orders_order_id",
    "accepted_values_stg_reviews_review_score",
    "unique_combination_stg_reviews_review_id__order_id",
    "relationships_stg_order_items_order_id__stg_orders",
    "not_null_fact_orders_order_id",
    "unique_fact_orders_order_id",
    "unique_dim_product_product_id",
    "accepted_values_dim_seller_seller_volume_tier",
    # Singular tests that declare narrow_by.
    "assert_fact_order_items_complete",
    "assert_fact_orders_item_count_matches_items",
    "assert_dim_customer_matches_fact_orders",
)


@pytest.fixture(scope="module")
def base(module_dir: Path) -> tuple[Path, Path]:
    """(a data dir built from the month-earlier snapshot, the full files)."""
    previous, full = sample_snapshots(module_dir / "files", scale=SCALE, seed=SEED, as_of=AS_OF)
    data_dir = module_dir / "base"
    result = olist(["run-all", "--source", str(previous)], data_dir)
    assert result.exit_code == 0, result.output
    assert CHANGED_ROWS_NOTE not in result.output  # a first build has nothing to narrow
    return data_dir, full


@pytest.fixture
def data_dir(base: tuple[Path, Path], tmp_path: Path) -> Path:
    return copy_data_dir(base[0], tmp_path / "data")


@pytest.fixture
def files(base: tuple[Path, Path], tmp_path: Path) -> Path:
    """A private copy of the full files, to edit."""
    return Path(shutil.copytree(base[1], tmp_path / "files"))


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Builds:
    return spy_on_builds(monkeypatch)


def _outcomes(results: list[TestResult]) -> dict[str, tuple[str, int]]:
    return {r.name: (r.status, r.failures) for r in results}


def _narrowed(results: list[TestResult]) -> set[str]:
    return {r.name for r in results if CHANGED_ROWS_NOTE in r.message}


def _failed_on_changed_rows(builds: Builds, name: str, failures: int = 1) -> TestResult:
    """The last run's result of test ``name``, which must have failed, on changed rows
    only, with ``failures`` failing rows."""
    result = next(r for r in builds.tests[-1] if r.name == name)
    assert (result.status, result.failures) == ("fail", failures), result.message
    assert CHANGED_ROWS_NOTE in result.message
    return result


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def test_a_month_later_the_changed_rows_are_tested_and_agree_with_a_whole_test_run(
    data_dir: Path, files: Path, builds: Builds
) -> None:
    result = olist(["run-all", "--source", str(files)], data_dir)
    assert result.exit_code == 0, result.output
    run_all = builds.tests[-1]
    narrowed = _narrowed(run_all)
    assert set(ON_CHANGED_ROWS) <= narrowed, sorted(set(ON_CHANGED_ROWS) - narrowed)
    # Singular tests, and the tests of tables rebuilt whole, still run whole.
    kinds = {r.name: r for r in run_all}
    assert "assert_fact_orders_complete" not in narrowed  # no narrow_by: whole counts
    # dim_date's inputs changed but not its rows: the table stays, its tests check nothing.
    assert {r.name: r for r in builds.models[-1]}["dim_date"].message.startswith(
        "rebuilt, no row changed"
    )
    assert "unique_dim_date_date_key" in narrowed
    assert all(kinds[name].status == "pass" for name in narrowed)
    assert f"{len(narrowed)} on changed rows only" in result.output
    # The run's record says what each file held before, not which scratch table held its
    # changed rows: that name means nothing once the run is over.
    record = json.loads(Path("target/run_results.json").read_text(encoding="utf-8"))
    orders = next(f for f in record["files"] if f["table"] == "orders_raw")
    assert orders["previous_md5"] and "changes" not in orders

    whole = olist(["test"], data_dir)
    assert whole.exit_code == 0, whole.output
    assert not _narrowed(builds.tests[-1])  # `olist test` checks everything
    assert _outcomes(builds.tests[-1]) == _outcomes(run_all)


def test_a_duplicated_order_among_the_new_rows_fails_the_run(
    data_dir: Path, files: Path, builds: Builds
) -> None:
    line = duplicate_a_line(files, ORDERS_FILE, containing="2018-08")
    result = olist(["run-all", "--source", str(files)], data_dir)
    assert result.exit_code == EXIT_FAILURE, result.output
    unique = _failed_on_changed_rows(builds, "unique_stg_orders_order_id")
    assert unique.sample_rows[0]["order_id"] == line.split(",")[0].strip('"')
    # The reproduce line is the whole test, runnable once the run is over.
    assert "olist_changed" not in unique.sql and "stg_orders" in unique.sql


def test_a_review_with_a_bad_score_among_the_new_rows_fails_the_run(
    data_dir: Path, files: Path, builds: Builds
) -> None:
    rows = _rows(files / REVIEWS_FILE)
    header = rows[0]
    score = header.index("review_score")
    last = list(rows[-1])
    last[header.index("review_id")] = "f" * 32
    last[score] = "7"
    _write_rows(files / REVIEWS_FILE, [*rows, last])
    result = olist(["run-all", "--source", str(files)], data_dir)
    assert result.exit_code == EXIT_FAILURE, result.output
    accepted = _failed_on_changed_rows(builds, "accepted_values_stg_reviews_review_score")
    assert accepted.sample_rows == [{"review_score": 7, "n_records": 1}]


def test_an_order_gone_from_the_new_file_orphans_its_unchanged_items(
    data_dir: Path, files: Path, builds: Builds
) -> None:
    """The items did not change: only the parent's changed keys lead the test to them."""
    items = _rows(files / ITEMS_FILE)
    orders = _rows(files / ORDERS_FILE)
    purchase = orders[0].index("order_purchase_timestamp")
    with_items = {row[0] for row in items[1:]}
    # An old order (in the base warehouse, its items unchanged) that has items.
    gone = next(r[0] for r in orders[1:] if r[0] in with_items and r[purchase] < "2018-01")
    item_count = sum(1 for row in items[1:] if row[0] == gone)
    _write_rows(files / ORDERS_FILE, [r for r in orders if r[0] != gone])

    result = olist(["run-all", "--source", str(files)], data_dir)
    assert result.exit_code == EXIT_FAILURE, result.output
    orphans = _failed_on_changed_rows(
        builds, "relationships_stg_order_items_order_id__stg_orders", item_count
    )
    assert {row["order_id"] for row in orphans.sample_rows} == {gone}


def test_a_merge_that_loses_a_row_is_caught_by_the_narrowed_singular_tests(
    data_dir: Path, files: Path, builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """narrow_by: the singular tests check the orders whose rows changed, and find the gap."""
    from olist_cli.warehouse.duckdb import DuckDBWarehouse

    real_replace = DuckDBWarehouse.replace_rows
    lost: list[tuple[str, int]] = []

    def losing_replace(
        self: DuckDBWarehouse, schema: str, name: str, rows: str, **kw: Any
    ) -> ReplacedRows:
        replaced = real_replace(self, schema, name, rows, **kw)
        if name == "fact_order_items":
            lost.extend(
                self.query(f"select order_id, order_item_id from {replaced.new_rows} limit 1")
            )
            table = self.relation(schema, name)
            self.execute(
                f"delete from {table} where order_id = ? and order_item_id = ?", list(lost[0])
            )
        return replaced

    monkeypatch.setattr(DuckDBWarehouse, "replace_rows", losing_replace)
    result = olist(["run-all", "--source", str(files)], data_dir)
    assert result.exit_code == EXIT_FAILURE, result.output
    complete = _failed_on_changed_rows(builds, "assert_fact_order_items_complete")
    assert complete.sample_rows == [
        {
            "order_id": lost[0][0],
            "order_item_id": lost[0][1],
            "problem": "missing from fact_order_items",
        }
    ]
    _failed_on_changed_rows(builds, "assert_fact_orders_item_count_matches_items")


def test_an_older_row_beside_the_merged_rows_is_a_duplicate_the_unique_test_finds(
    data_dir: Path, files: Path, builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replaced rows are the changed rows, but not all the table's rows of their keys:
    a row of a replaced key that the replace left behind is a duplicate."""
    from olist_cli.warehouse.duckdb import DuckDBWarehouse

    real_replace = DuckDBWarehouse.replace_rows

    def leaving_replace(
        self: DuckDBWarehouse, schema: str, name: str, rows: str, **kw: Any
    ) -> ReplacedRows:
        replaced = real_replace(self, schema, name, rows, **kw)
        if name == "fact_orders":
            table = self.relation(schema, name)
            self.execute(
                f"insert into {table} select * from {table} "
                f"where order_id = (select min(order_id) from {replaced.new_rows})"
            )
        return replaced

    monkeypatch.setattr(DuckDBWarehouse, "replace_rows", leaving_replace)
    result = olist(["run-all", "--source", str(files)], data_dir)
    assert result.exit_code == EXIT_FAILURE, result.output
    for name in ("unique_fact_orders_order_id", "unique_fact_orders_order_key"):
        _failed_on_changed_rows(builds, name)
    # The row-level tests read the merged rows alone: the copy breaks none of them.
    found = {r.name: r for r in builds.tests[-1]}
    assert found["not_null_fact_orders_order_id"].status == "pass"


def test_a_product_changed_without_a_sale_is_replaced_and_a_translation_rebuilds_whole(
    data_dir: Path, files: Path, builds: Builds, tmp_path: Path
) -> None:
    """keys_from: a product renamed without a sale is among dim_product's changed values
    (its stg_products rows changed) and its row is replaced; a change to the translation
    file, which stg_products reads whole, rebuilds dim_product whole. Both equal a full
    refresh."""
    products = files / "olist_products_dataset.csv"
    rows = _rows(products)
    category = rows[0].index("product_category_name")
    # A product sold only in orders long before this step's changes: no order brings it.
    orders = _rows(files / ORDERS_FILE)
    purchased = orders[0].index("order_purchase_timestamp")
    recent = {row[0] for row in orders[1:] if row[purchased] >= "2018-01"}
    items = _rows(files / ITEMS_FILE)[1:]
    recently_sold = {row[2] for row in items if row[0] in recent}  # product_id
    old = next(row for row in rows[1:] if row[0] not in recently_sold)
    old[category] = "beleza_saude" if old[category] != "beleza_saude" else "esporte_lazer"
    _write_rows(products, rows)

    def equals_a_full_refresh(name: str) -> None:
        fresh = olist(["run-all", "--full-refresh", "--source", str(files)], tmp_path / name)
        assert fresh.exit_code == 0, fresh.output
        table = "dev_warehouse_warehouse.dim_product"
        mine = set(query(data_dir / "olist.duckdb", f"select * from {table}"))
        assert mine == set(query(tmp_path / name / "olist.duckdb", f"select * from {table}"))

    result = olist(["run-all", "--source", str(files)], data_dir)
    assert result.exit_code == 0, result.output
    built = {r.name: r for r in builds.models[-1]}
    assert built["dim_product"].message.startswith("replaced the rows of the changed product_id")
    assert built["dim_seller"].message.startswith("replaced the rows of the changed seller_id")
    equals_a_full_refresh("fresh")
    table = "dev_warehouse_warehouse.dim_product"
    mine = query(
        data_dir / "olist.duckdb", f"select product_id, product_category_name from {table}"
    )
    assert dict(mine)[old[0]] == old[category]

    translation = files / "product_category_name_translation.csv"
    text = translation.read_bytes()
    translation.write_bytes(text.replace(b"health_beauty", b"health and beauty"))
    result = olist(["run-all", "--source", str(files)], data_dir)
    assert result.exit_code == 0, result.output
    built = {r.name: r for r in builds.models[-1]}
    assert built["dim_product"].message.startswith(
        "rebuilt whole (which rows of stg_products changed is not known)"
    ), built["dim_product"].message
    equals_a_full_refresh("fresh-again")
    # The next run has nothing to do.
    assert olist(["run-all", "--source", str(files)], data_dir).exit_code == 0
    assert "up to date" in {r.name: r for r in builds.models[-1]}["dim_product"].status


def test_a_raw_table_loaded_alone_since_the_last_build_means_whole_tests(
    data_dir: Path, files: Path, builds: Builds
) -> None:
    """The views changed with their raw tables before this run: its load saw no change."""
    assert olist(["load", "--source", str(files)], data_dir).exit_code == 0
    result = olist(["run-all", "--source", str(files)], data_dir)
    assert result.exit_code == 0, result.output
    assert "5 loaded" not in result.output and "0 loaded" in result.output
    staging = {r.name for r in builds.tests[-1] if r.model and r.model.startswith("stg_")}
    assert staging and not _narrowed(builds.tests[-1]) & staging


def test_after_a_failed_run_the_next_run_narrows_from_the_last_published_data(
    data_dir: Path, files: Path, builds: Builds, tmp_path: Path
) -> None:
    """A failed run publishes nothing, its load included: the next sees the same change."""
    good = Path(shutil.copytree(files, tmp_path / "good"))
    duplicate_a_line(files, ORDERS_FILE, containing="2018-08")
    assert olist(["run-all", "--source", str(files)], data_dir).exit_code == EXIT_FAILURE
    result = olist(["run-all", "--source", str(good)], data_dir)
    assert result.exit_code == 0, result.output
    assert set(ON_CHANGED_ROWS) <= _narrowed(builds.tests[-1])
    assert olist(["test"], data_dir).exit_code == 0


def test_full_refresh_and_force_test_everything(
    data_dir: Path, files: Path, builds: Builds
) -> None:
    for flag in ("--full-refresh", "--force"):
        result = olist(["run-all", "--source", str(files), flag], data_dir)
        assert result.exit_code == 0, result.output
        assert not _narrowed(builds.tests[-1]), flag


def test_a_singular_test_reading_a_raw_table_runs_again_when_only_that_table_changed(
    data_dir: Path, base: tuple[Path, Path], tmp_path: Path, builds: Builds
) -> None:
    """assert_seller_state_matches_zip reads geolocation_raw through source(): a changed
    geolocation file, no model changing with it, must run it again, not repeat its result."""
    previous = Path(shutil.copytree(base[1].parent / "previous", tmp_path / "previous"))
    geolocation = previous / "olist_geolocation_dataset.csv"
    rows = _rows(geolocation)
    zip_at, state_at = (
        rows[0].index("geolocation_zip_code_prefix"),
        rows[0].index("geolocation_state"),
    )
    sellers = _rows(previous / "olist_sellers_dataset.csv")
    seller_zip = {row[sellers[0].index("seller_zip_code_prefix")] for row in sellers[1:]}
    # Every geolocation row of one seller's zip prefix now says another state.
    moved = next(row[zip_at] for row in rows[1:] if row[zip_at] in seller_zip)
    for row in rows[1:]:
        if row[zip_at] == moved:
            row[state_at] = "XX"
    _write_rows(geolocation, rows)
    result = olist(["run-all", "--source", str(previous)], data_dir)
    assert result.exit_code == 0, result.output
    assert "1 loaded" in result.output  # geolocation_raw only: every model up to date
    zip_test = next(r for r in builds.tests[-1] if r.name == "assert_seller_state_matches_zip")
    assert "(up to date" not in zip_test.message
    whole = olist(["test", "--select", "dim_seller"], data_dir)
    assert whole.exit_code == 0, whole.output
    again = next(r for r in builds.tests[-1] if r.name == "assert_seller_state_matches_zip")
    assert (zip_test.status, zip_test.failures) == (again.status, again.failures)


# -- what the load's results say --------------------------------------------------------


def _file(table: str, status: str, previous: str | None, changes: str | None) -> FileLoadResult:
    return FileLoadResult(
        table, f"{table}.csv", status, 1, 1, "new", 0.0, "", 0, 0, previous, changes
    )  # type: ignore[arg-type]


def test_changes_from_a_load_and_from_its_retry() -> None:
    changes = RunChanges.from_load(
        [
            _file("orders_raw", "loaded", "old", "olist_delta_1"),
            _file("items_raw", "loaded", None, None),  # a first load: rows unknown
            _file("sellers_raw", "skipped", "same", None),
            # A retry: orders_raw is skipped now; customers_raw was loaded by both attempts.
            _file("customers_raw", "loaded", "c0", "olist_delta_2"),
            _file("orders_raw", "skipped", "new", None),
            _file("customers_raw", "loaded", "c1", "olist_delta_3"),
        ]
    )
    assert changes.raw == {"orders_raw": "olist_delta_1", "items_raw": None, "customers_raw": None}
    # Before the run: the first attempt's previous MD5 of each table.
    assert changes.sources_before == {
        "orders_raw": "old",
        "sellers_raw": "same",
        "customers_raw": "c0",
    }


# -- delta_key, declared wrong ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        (
            "{{ config(materialized='table', delta_key='order_id') }}\n"
            "select * from {{ source('raw', 'orders') }}",
            "delta_key is for views",
        ),
        (
            "{{ config(delta_key='order_id') }}\nselect o.order_id from "
            "{{ source('raw', 'orders') }} o join {{ ref('stg_y') }} i using (order_id)",
            "delta_key is for a view that reads raw tables and no model, got 1 source(s) "
            "and 1 ref(s)",
        ),
        (
            "{{ config(delta_key='order id') }}\nselect * from {{ source('raw', 'orders') }}",
            "delta_key must be a plain column name",
        ),
    ],
    ids=["on-a-table", "reads-a-model", "not-a-column-name"],
)
def test_a_wrong_delta_key_is_refused_when_the_project_loads(
    tmp_path: Path, sql: str, problem: str
) -> None:
    from olist_cli.engine import load_project

    write_sql(tmp_path, {"staging/stg_x.sql": sql, "staging/stg_y.sql": "select 1 as order_id"})
    with pytest.raises(ProjectError, match=re.escape(problem)):
        load_project(engine_settings(tmp_path), None)


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ("materialized='table', keys_from={'stg_x': 'id'}", "keys_from is for incremental models"),
        (
            "materialized='incremental', unique_key='id', keys_from={'stg_y': 'id'}",
            "keys_from names stg_y, which the model does not ref",
        ),
        (
            "materialized='incremental', unique_key='id', keys_from=['stg_x']",
            "keys_from must be a dict {ref: column}",
        ),
        ("materialized='incremental'", "an incremental model needs unique_key"),
    ],
    ids=["on-a-table", "not-a-ref", "not-a-dict", "no-unique-key"],
)
def test_a_wrong_keys_from_is_refused_when_the_project_loads(
    tmp_path: Path, config: str, problem: str
) -> None:
    from olist_cli.engine import load_project

    write_sql(
        tmp_path,
        {
            "staging/stg_x.sql": "select 1 as id, now() as at",
            "warehouse/w.sql": f"{{{{ config({config}) }}}}\nselect * from {{{{ ref('stg_x') }}}}",
        },
    )
    with pytest.raises(ProjectError, match=re.escape(problem)):
        load_project(engine_settings(tmp_path), None)


def test_a_wrong_narrow_by_is_refused_when_the_project_loads(tmp_path: Path) -> None:
    from olist_cli.engine import load_project

    write_sql(
        tmp_path,
        {
            "staging/stg_x.sql": "select * from {{ source('raw', 'orders') }}",
            "tests/t.sql": "{{ config(narrow_by=['a', 'b']) }}\nselect * from {{ ref('stg_x') }}",
        },
    )
    with pytest.raises(ProjectError, match="narrow_by must be one plain column name"):
        load_project(engine_settings(tmp_path), None)


@pytest.mark.parametrize(
    ("column", "where"),
    [
        ("order_ref", "the view"),
        # A column the view computes: its raw table has none of that name.
        ("order_purchase_date", "raw table orders_raw"),
    ],
    ids=["not-in-the-view", "not-in-the-raw-table"],
)
def test_a_delta_key_that_names_no_column_fails_the_build_with_its_name(
    data_dir: Path, files: Path, tmp_path: Path, column: str, where: str
) -> None:
    from helpers import edited_sql

    sql = edited_sql(
        tmp_path / "sql", "stg_orders", "delta_key='order_id'", f"delta_key='{column}'"
    )
    result = olist(["run-all", "--source", str(files)], data_dir, OLIST_SQL_DIR=str(sql))
    assert result.exit_code == EXIT_FAILURE, result.output
    assert f"stg_orders: delta_key {column} is not a column of {where}" in result.output


# -- the project's own singular tests -----------------------------------------------------


def test_fact_order_items_complete_names_each_missing_and_stray_row(
    data_dir: Path, tmp_path: Path
) -> None:
    """One full outer join finds both kinds of gap (it was two anti joins)."""
    from olist_cli.engine import load_project
    from olist_cli.engine.render import Renderer
    from olist_cli.settings import load_settings
    from olist_cli.warehouse.duckdb import DuckDBWarehouse

    settings = load_settings(data_dir=data_dir)
    wh = DuckDBWarehouse(data_dir / "olist.duckdb")
    try:
        project = load_project(settings, wh.dialect)
        test = next(t for t in project.tests if t.name == "assert_fact_order_items_complete")
        sql = Renderer(settings, project, wh.relation, wh.dialect).render_test(test)
        assert wh.query(f"select count(*) from ({sql})") == [(0,)]
        fact = "dev_warehouse_warehouse.fact_order_items"
        gone = wh.query(f"select order_id, order_item_id from {fact} order by 1, 2 limit 2")
        wh.execute(
            f"delete from {fact} where (order_id, order_item_id) in ((?, ?), (?, ?))",
            [*gone[0], *gone[1]],
        )
        wh.execute(f"insert into {fact} by name select 'stray' as order_id, 1 as order_item_id")
        found = wh.query(f"select problem, order_id, order_item_id from ({sql}) order by 1, 2")
    finally:
        wh.close()
    assert found == [
        ("missing from fact_order_items", *gone[0]),
        ("missing from fact_order_items", *gone[1]),
        ("not in stg_order_items", "stray", 1),
    ]
