"""End to end through the CLI: run-all on generated data, idempotence, invariants, failures."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from olist_cli.cli import app
from olist_cli.errors import EXIT_FAILURE, EXIT_LOCKED, EXIT_USAGE

SCALE = 0.05
WAREHOUSE_TABLES = [
    "dim_customer",
    "dim_product",
    "dim_seller",
    "dim_date",
    "fact_orders",
    "fact_order_items",
]
STAGING_VIEWS = [
    "stg_orders",
    "stg_customers",
    "stg_products",
    "stg_order_items",
    "stg_payments",
    "stg_sellers",
    "stg_reviews",
]


@pytest.fixture(scope="session")
def sample_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generator's files at a small scale, made once for the whole session."""
    from olist_cli.sources.sample import generate_sample

    folder = tmp_path_factory.mktemp("sample") / "raw"
    generate_sample(folder, scale=SCALE, seed=7)
    return folder


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory, sample_files: Path) -> Path:
    """A warehouse built once by `olist run-all` from the sample files; tests only read it."""
    work = tmp_path_factory.mktemp("built")
    result = _invoke(["run-all", "--source", str(sample_files)], work)
    assert result.exit_code == 0, result.output
    return work / "data" / "olist.duckdb"


def _invoke(args: list[str], workdir: Path, **env: str) -> object:
    runner = CliRunner()
    environment = {"OLIST_DATA_DIR": str(workdir / "data"), **env}
    return runner.invoke(app, args, env=environment, catch_exceptions=False)


def _table_digests(db: Path) -> dict[str, str]:
    """An order-independent digest of every data table (bookkeeping tables, named _*, aside)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_name not like '\\_%' escape '\\' "
            "order by 1, 2"
        ).fetchall()
        digests = {}
        for schema, name in tables:
            rows = con.execute(f'select * from "{schema}"."{name}"').fetchall()
            digest = hashlib.md5("\n".join(sorted(map(repr, rows))).encode()).hexdigest()
            digests[f"{schema}.{name}"] = digest
        return digests
    finally:
        con.close()


def _scalar(db: Path, sql: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


def test_run_all_builds_every_table_and_passes_every_test(built_warehouse: Path) -> None:
    con = duckdb.connect(str(built_warehouse), read_only=True)
    try:
        names = {
            (s, t)
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
    finally:
        con.close()
    for view in STAGING_VIEWS:
        assert ("dev_warehouse_staging", view) in names
    for table in WAREHOUSE_TABLES:
        assert ("dev_warehouse_warehouse", table) in names
        assert _scalar(built_warehouse, f"select count(*) from dev_warehouse_warehouse.{table}") > 0


def test_star_schema_invariants(built_warehouse: Path) -> None:
    w, raw = "dev_warehouse_warehouse", "staging"
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
    segments = con_rows(
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


def con_rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_second_run_skips_every_file_and_changes_no_table(
    tmp_path: Path, sample_files: Path
) -> None:
    first = _invoke(["run-all", "--source", str(sample_files)], tmp_path)
    assert first.exit_code == 0, first.output
    db = tmp_path / "data" / "olist.duckdb"
    before = _table_digests(db)
    second = _invoke(["run-all", "--source", str(sample_files)], tmp_path)
    assert second.exit_code == 0, second.output
    assert len(re.findall(r" load +\w+_raw +skipped +unchanged", second.output)) == 9
    assert "0 loaded, 9 unchanged" in second.output
    assert "13 up to date" in second.output
    assert _table_digests(db) == before
    loads = _scalar(db, "select count(*) from staging._load_metadata")
    assert loads == 9


def test_run_all_sample_source_in_an_empty_folder(tmp_path: Path) -> None:
    result = _invoke(["run-all", "--source", "sample", "--scale", "0.01"], tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "raw" / "olist_orders_dataset.csv").is_file()
    for stage in ("download", "load", "transform", "test"):
        assert stage in result.output


def test_bad_value_stops_the_load_and_changes_no_table(tmp_path: Path, sample_files: Path) -> None:
    good = _invoke(["run-all", "--source", str(sample_files)], tmp_path)
    assert good.exit_code == 0, good.output
    db = tmp_path / "data" / "olist.duckdb"
    before = _table_digests(db)
    metadata_before = con_rows(db, "select * from staging._load_metadata order by 1, 2")

    broken = tmp_path / "broken"
    shutil.copytree(sample_files, broken)
    items = broken / "olist_order_items_dataset.csv"
    lines = items.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[3].rstrip("\n").split(",")
    fields[5] = "abc"  # the price column
    lines[3] = ",".join(fields) + "\n"
    items.write_text("".join(lines), encoding="utf-8")

    result = _invoke(["load", "--source", str(broken)], tmp_path)
    assert result.exit_code == EXIT_FAILURE
    message = result.output.strip().splitlines()[-1]
    assert "olist_order_items_dataset.csv" in message
    assert "line 4" in message
    assert "price" in message
    assert _table_digests(db) == before
    assert con_rows(db, "select * from staging._load_metadata order by 1, 2") == metadata_before


def test_injected_identifier_is_rejected(tmp_path: Path) -> None:
    result = _invoke(
        ["transform"], tmp_path, OLIST_TARGET_SCHEMA="x; drop table staging.orders_raw"
    )
    assert result.exit_code == EXIT_USAGE
    assert "OLIST_TARGET_SCHEMA" in result.output


def test_unknown_warehouse_setting_is_a_usage_error(tmp_path: Path) -> None:
    result = _invoke(["transform"], tmp_path, OLIST_WAREHOUSE="postgres")
    assert result.exit_code == EXIT_USAGE
    assert "OLIST_WAREHOUSE" in result.output


def test_a_second_run_while_the_lock_is_held_exits_at_once(tmp_path: Path) -> None:
    from filelock import FileLock

    lock = FileLock(tmp_path / "data" / "olist.duckdb.lock")
    (tmp_path / "data").mkdir()
    with lock:
        result = _invoke(["transform"], tmp_path)
    assert result.exit_code == EXIT_LOCKED
    assert "another olist run" in result.output


def test_missing_source_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = _invoke(["load", "--source", str(tmp_path / "nowhere")], tmp_path)
    assert result.exit_code == EXIT_USAGE
    assert "nowhere" in result.output


def test_unknown_ref_names_the_file_and_a_fix(tmp_path: Path, sample_files: Path) -> None:
    project = tmp_path / "sql"
    shutil.copytree(Path(__file__).resolve().parents[1] / "sql", project)
    model = project / "warehouse" / "dim_seller.sql"
    model.write_text(
        model.read_text(encoding="utf-8").replace("ref('stg_sellers')", "ref('stg_seller')"),
        encoding="utf-8",
    )
    result = _invoke(["transform"], tmp_path, OLIST_SQL_DIR=str(project))
    assert result.exit_code == EXIT_FAILURE
    assert "dim_seller.sql" in result.output
    assert "stg_sellers" in result.output  # the suggested fix


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("olist ")
