"""A check reports what it checked, now, on the data as it is.

`olist test` runs every test against the tables; `run-all` reuses recorded results only on
a warehouse sealed by the last olist run (warehouse/duckdb_seal.py); a damaged file fails
with one line naming its tables.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from helpers import REPO_SQL, SampleWarehouse, copy_data_dir, digests, olist, query
from olist_cli.errors import EXIT_FAILURE
from olist_cli.warehouse.duckdb_seal import is_sealed, seal_path

DIM_CUSTOMER = "dev_warehouse_warehouse.dim_customer"
RAW = "raw"  # where `olist run-all --scale ...` leaves the generated files
DUPLICATED = ("unique_dim_customer_customer_key", "unique_dim_customer_customer_unique_id")


@pytest.fixture
def data_dir(sample_warehouse: SampleWarehouse, tmp_path: Path) -> Path:
    """A private copy of the sample warehouse (copied with its times: still sealed)."""
    return copy_data_dir(sample_warehouse.data_dir, tmp_path / "data")


def _duplicate_customers(db: Path, n: int = 5) -> None:
    """What a person with a notebook might do to a published table."""
    con = duckdb.connect(str(db))
    try:
        con.execute(f"insert into {DIM_CUSTOMER} select * from {DIM_CUSTOMER} limit {n}")
    finally:
        con.close()


def _one_line_error(output: str) -> str:
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    return errors[0]


def test_a_copy_keeps_the_seal_and_an_outside_write_breaks_it(data_dir: Path) -> None:
    db = data_dir / "olist.duckdb"
    assert seal_path(db).is_file() and is_sealed(db)
    con = duckdb.connect(str(db), read_only=True)  # a reader changes nothing
    con.execute(f"select count(*) from {DIM_CUSTOMER}").fetchall()
    con.close()
    assert is_sealed(db)
    _duplicate_customers(db)
    assert not is_sealed(db)


def test_olist_test_tests_a_hand_edited_table_and_fails(data_dir: Path) -> None:
    """5 duplicated dim_customer rows: every test runs (none is "up to date") and the
    unique tests fail with their counts."""
    db = data_dir / "olist.duckdb"
    before = olist(["test"], data_dir)
    assert before.exit_code == 0, before.output
    assert "up to date" not in before.output
    _duplicate_customers(db)

    result = olist(["test"], data_dir)
    assert result.exit_code == EXIT_FAILURE, result.output
    assert "up to date" not in result.output
    for name in DUPLICATED:
        assert f"FAIL  {name}: 5 failing rows" in result.output
    assert "error-level data test(s) failed" in _one_line_error(result.output)


def test_run_all_after_a_hand_edit_rebuilds_and_tests_everything(data_dir: Path) -> None:
    """The broken seal is said; no record is trusted: every model is rebuilt from the
    files (the duplicates go) and every test runs; the next run is a no-op again."""
    db = data_dir / "olist.duckdb"
    raw = data_dir / RAW
    _duplicate_customers(db)

    result = olist(["run-all", "--source", str(raw)], data_dir)
    assert result.exit_code == 0, result.output
    assert "the warehouse file changed since the last olist run sealed it" in result.output
    assert "13 built" in result.output
    assert "up to date, not re-run" not in result.output
    assert query(db, f"select count(*) - count(distinct customer_key) from {DIM_CUSTOMER}") == [
        (0,)
    ]
    again = olist(["run-all", "--source", str(raw)], data_dir)
    assert again.exit_code == 0, again.output
    assert "13 up to date" in again.output and "169 up to date, not re-run" in again.output


def test_run_all_force_rebuilds_every_model_and_runs_every_test(data_dir: Path) -> None:
    raw = data_dir / RAW
    result = olist(["run-all", "--force", "--source", str(raw)], data_dir)
    assert result.exit_code == 0, result.output
    assert "13 built" in result.output
    assert "up to date" not in result.output


def _damage(db: Path, table: str) -> None:
    """Overwrite some bytes inside the blocks of ``table``'s first column, as a failing disk
    would (DuckDB keeps a checksum per block)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        schema, name = table.split(".")
        blocks = con.execute(
            "select distinct block_id from pragma_storage_info(?) "
            "where block_id >= 0 and column_id = 0",
            [f"{schema}.{name}"],
        ).fetchall()
        block_size = con.execute("select block_size from pragma_database_size()").fetchall()
    finally:
        con.close()
    assert blocks, f"{table} has no blocks on disk"
    size = int(block_size[0][0])
    with db.open("r+b") as handle:
        for (block,) in blocks:
            # The file starts with 3 header blocks of 4 KiB; each block's data follows its
            # 8-byte checksum.
            handle.seek(3 * 4096 + int(block) * size + 64)
            handle.write(os.urandom(256))


@pytest.mark.parametrize("command", [["test"], ["run-all"]])
def test_a_damaged_warehouse_fails_with_one_line_naming_the_table(
    data_dir: Path, command: list[str]
) -> None:
    db = data_dir / "olist.duckdb"
    _damage(db, "staging.orders_raw")
    if command == ["run-all"]:
        command = [*command, "--source", str(data_dir / RAW)]
    result = olist(command, data_dir)
    assert result.exit_code == EXIT_FAILURE, result.output
    line = _one_line_error(result.output)
    assert f"the warehouse file {db} is damaged: staging.orders_raw cannot be read" in line
    assert "restore it from a backup" in line


def test_a_failed_run_publishes_nothing_and_keeps_the_seal_honest(data_dir: Path) -> None:
    """A run whose tests fail changes no published table; its seal then describes the file
    as it is, so the next run trusts the records of the last published build."""
    db = data_dir / "olist.duckdb"
    before = digests(db, skip=lambda name: name.endswith("_run_results"))
    bad = data_dir.parent / "sql"
    shutil.copytree(REPO_SQL, bad)
    (bad / "tests" / "assert_always_fails.sql").write_text("select 1 as failing_row\n")
    source = ["--source", str(data_dir / RAW)]
    result = olist(["run-all", *source], data_dir, OLIST_SQL_DIR=str(bad))
    assert result.exit_code == EXIT_FAILURE, result.output
    assert "nothing was published" in result.output
    assert digests(db, skip=lambda name: name.endswith("_run_results")) == before
    assert is_sealed(db)
