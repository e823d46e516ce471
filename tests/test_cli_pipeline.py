"""End to end through the CLI: run-all on generated data, idempotence, invariants, failures."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from helpers import (
    ITEMS_FILE,
    STAGING,
    STAGING_VIEWS,
    WAREHOUSE,
    WAREHOUSE_TABLES,
    digests,
    edited_sql,
    generate,
    olist,
    query,
    relations,
    replace_field,
)
from olist_cli.errors import EXIT_FAILURE, EXIT_LOCKED, EXIT_USAGE

SCALE = 0.05


@pytest.fixture(scope="session")
def sample_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generator's files at a small scale, made once for the whole session."""
    return generate(tmp_path_factory.mktemp("sample") / "raw", scale=SCALE, seed=7)


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory, sample_files: Path) -> Path:
    """A warehouse built once by `olist run-all` from the sample files; tests only read it."""
    data_dir = tmp_path_factory.mktemp("built") / "data"
    result = olist(["run-all", "--source", str(sample_files)], data_dir)
    assert result.exit_code == 0, result.output
    return data_dir / "olist.duckdb"


def _table_digests(db: Path) -> dict[str, str]:
    """An order-independent digest of every data table (bookkeeping tables, named _*, aside)."""
    return digests(db, kind="BASE TABLE", skip=lambda name: name.startswith("_"))


def _scalar(db: Path, sql: str) -> int:
    return query(db, sql)[0][0]


def test_run_all_builds_every_table_and_passes_every_test(built_warehouse: Path) -> None:
    names = set(relations(built_warehouse))
    for view in STAGING_VIEWS:
        assert (STAGING, view) in names
    for table in WAREHOUSE_TABLES:
        assert (WAREHOUSE, table) in names
        assert _scalar(built_warehouse, f"select count(*) from {WAREHOUSE}.{table}") > 0


def test_star_schema_invariants(built_warehouse: Path) -> None:
    w, raw = WAREHOUSE, "staging"
    q = lambda sql: _scalar(built_warehouse, sql)  # noqa: E731
    assert q(f"select count(*) from {w}.fact_orders") == q(
        f"select count(distinct order_id) from {raw}.orders_raw"
    )
    assert q(f"select count(*) from {w}.fact_order_items") == q(
        f"select count(*) from {raw}.order_items_raw"
    )
    assert q(f"select count(*) from {w}.dim_customer") == q(
        f"select count(distinct customer_unique_id) from {raw}.customers_raw"
    )
    segments = query(
        built_warehouse,
        f"select customer_segment, count(*) from {w}.dim_customer group by 1",
    )
    assert {s for s, _ in segments} <= {"Loyal", "Repeat", "One-time"}
    assert sum(n for _, n in segments) == q(f"select count(*) from {w}.dim_customer")
    # Repeat buyers exist in the sample, so grouping by customer_unique_id must show them.
    assert any(s != "One-time" and n > 0 for s, n in segments)
    assert q(f"select count(*) from {w}.dim_product") == q(
        f"select count(*) from {raw}.products_raw"
    )
    assert q(f"select count(*) from {w}.dim_seller") == q(f"select count(*) from {raw}.sellers_raw")


def test_second_run_skips_every_file_and_changes_no_table(
    tmp_path: Path, sample_files: Path
) -> None:
    first = olist(["run-all", "--source", str(sample_files)], tmp_path / "data")
    assert first.exit_code == 0, first.output
    db = tmp_path / "data" / "olist.duckdb"
    before = _table_digests(db)
    second = olist(["run-all", "--source", str(sample_files)], tmp_path / "data")
    assert second.exit_code == 0, second.output
    assert len(re.findall(r" load +\w+_raw +skipped +unchanged", second.output)) == 9
    assert "0 loaded, 9 unchanged" in second.output
    assert "13 up to date" in second.output
    assert _table_digests(db) == before
    loads = _scalar(db, "select count(*) from staging._load_metadata")
    assert loads == 9


def test_run_all_sample_source_in_an_empty_folder(tmp_path: Path) -> None:
    result = olist(["run-all", "--source", "sample", "--scale", "0.01"], tmp_path / "data")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "raw" / "olist_orders_dataset.csv").is_file()
    for stage in ("download", "load", "transform", "test"):
        assert stage in result.output


def test_bad_value_stops_the_load_and_changes_no_table(tmp_path: Path, sample_files: Path) -> None:
    good = olist(["run-all", "--source", str(sample_files)], tmp_path / "data")
    assert good.exit_code == 0, good.output
    db = tmp_path / "data" / "olist.duckdb"
    before = _table_digests(db)
    metadata_before = query(db, "select * from staging._load_metadata order by 1, 2")

    broken = tmp_path / "broken"
    shutil.copytree(sample_files, broken)
    replace_field(broken / ITEMS_FILE, 3, 5, "abc")  # the price column

    result = olist(["load", "--source", str(broken)], tmp_path / "data")
    assert result.exit_code == EXIT_FAILURE
    message = result.output.strip().splitlines()[-1]
    assert "olist_order_items_dataset.csv" in message
    assert "line 4" in message
    assert "price" in message
    assert _table_digests(db) == before
    assert query(db, "select * from staging._load_metadata order by 1, 2") == metadata_before


def test_injected_identifier_is_rejected(tmp_path: Path) -> None:
    result = olist(
        ["transform"], tmp_path / "data", OLIST_TARGET_SCHEMA="x; drop table staging.orders_raw"
    )
    assert result.exit_code == EXIT_USAGE
    assert "OLIST_TARGET_SCHEMA" in result.output


def test_unknown_warehouse_setting_is_a_usage_error(tmp_path: Path) -> None:
    result = olist(["transform"], tmp_path / "data", OLIST_WAREHOUSE="postgres")
    assert result.exit_code == EXIT_USAGE
    assert "OLIST_WAREHOUSE" in result.output


def test_a_second_run_while_the_lock_is_held_exits_at_once(tmp_path: Path) -> None:
    from filelock import FileLock

    lock = FileLock(tmp_path / "data" / "olist.duckdb.lock")
    (tmp_path / "data").mkdir()
    with lock:
        result = olist(["transform"], tmp_path / "data")
    assert result.exit_code == EXIT_LOCKED
    assert "another olist run" in result.output


def test_missing_source_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = olist(["load", "--source", str(tmp_path / "nowhere")], tmp_path / "data")
    assert result.exit_code == EXIT_USAGE
    assert "nowhere" in result.output


def test_unknown_ref_names_the_file_and_a_fix(tmp_path: Path, sample_files: Path) -> None:
    project = edited_sql(tmp_path / "sql", "dim_seller", "ref('stg_sellers')", "ref('stg_seller')")
    result = olist(["transform"], tmp_path / "data", OLIST_SQL_DIR=str(project))
    assert result.exit_code == EXIT_FAILURE
    assert "dim_seller.sql" in result.output
    assert "stg_sellers" in result.output  # the suggested fix


def test_version() -> None:
    result = olist(["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("olist ")
