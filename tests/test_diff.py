"""`olist diff` as CI runs it: two builds of the same sample, one with a model's SQL changed.

A copy of sql/ has one column's expression changed (dim_seller's seller_city upper-cased,
or fact_orders' late flag counting a delivery on the estimated day as late); both
versions are built on the same generated files, and the diff must report exactly the
rows the change touches, in that column, and nothing else. The expected rows are counted
from the base warehouse with the changed expression, independently of the diff. Then:
identical builds, hand-edited copies for what SQL changes rarely do (rows gone, added,
a key held twice, a row duplicated), exactness on values built by hand, every error
exits 2 in one line, the README's pull-request recipe run as written, and a DuckDB
warehouse against BigQuery datasets on the emulator.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest
from typer.testing import Result

from bigquery_emulator import Emulator, bigquery_emulator  # noqa: F401  (the fixture)
from helpers import REPO, WAREHOUSE, WAREHOUSE_TABLES, edited_sql, generate, olist, query, write_sql

SCALE = 0.02
SEED = 7
SCHEMA = json.loads((REPO / "docs" / "diff.schema.json").read_text(encoding="utf-8"))

SELLER_OLD = "    s.seller_city,\n"
SELLER_NEW = "    upper(s.seller_city) as seller_city,\n"
LATE_OLD = "orders.order_delivered_date > orders.order_estimated_delivery_date_day"
LATE_NEW = "orders.order_delivered_date >= orders.order_estimated_delivery_date_day"


@dataclass(frozen=True)
class Builds:
    raw: Path
    main: Path  # data dirs, each holding olist.duckdb
    same: Path  # main's SQL again, built separately
    seller: Path  # dim_seller.seller_city upper-cased
    late: Path  # fact_orders.is_late_delivery true on the estimated day too
    seller_sql: Path


def _build(data_dir: Path, raw: Path, **env: str) -> Path:
    result = olist(["--quiet", "run-all", "--source", str(raw)], data_dir, **env)
    assert result.exit_code == 0, result.output
    return data_dir


@pytest.fixture(scope="module")
def built(module_dir: Path) -> Builds:
    raw = generate(module_dir / "sample", scale=SCALE, seed=SEED)
    seller_sql = edited_sql(module_dir / "sql-seller", "dim_seller", SELLER_OLD, SELLER_NEW)
    late_sql = edited_sql(module_dir / "sql-late", "fact_orders", LATE_OLD, LATE_NEW)
    return Builds(
        raw=raw,
        main=_build(module_dir / "main", raw),
        same=_build(module_dir / "same", raw),
        seller=_build(module_dir / "seller", raw, OLIST_SQL_DIR=str(seller_sql)),
        late=_build(module_dir / "late", raw, OLIST_SQL_DIR=str(late_sql)),
        seller_sql=seller_sql,
    )


def diff(*args: str | Path, **env: str) -> Result:
    return olist(["diff", *map(str, args)], **env)


def diff_json(*args: str | Path, **env: str) -> dict[str, Any]:
    result = diff(*args, "--json", **env)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    return document


def one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def by_model(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["model"]: m for m in document["models"]}


def expected_sellers(data_dir: Path, schema: str = WAREHOUSE) -> dict[str, tuple[str, str]]:
    """seller_id -> (city, city upper-cased) of the sellers the change touches, read from
    the base warehouse: the rows whose value the new expression changes."""
    rows = query(
        data_dir / "olist.duckdb",
        f"select seller_id, seller_city, upper(seller_city) from {schema}.dim_seller "
        "where seller_city is distinct from upper(seller_city)",
    )
    return {sid: (city, upper) for sid, city, upper in rows}


# -- a change to one column ------------------------------------------------------------------


def test_text_names_the_changed_column_its_rows_and_nothing_else(built: Builds) -> None:
    expected = expected_sellers(built.main)
    assert (
        0
        < len(expected)
        < query(built.main / "olist.duckdb", f"select count(*) from {WAREHOUSE}.dim_seller")[0][0]
    )

    result = diff(built.main, built.seller, "--fail-on-diff", "--samples", "3")
    assert result.exit_code == 1, result.output
    text = result.stdout
    assert "1 differs, 5 identical" in text
    assert re.findall(r"^DIFFERS  (\w+)", text, re.MULTILINE) == ["dim_seller"]
    assert f"changed: {len(expected):,}" in text
    assert "only in base: 0   only in candidate: 0" in text
    changed_columns = re.findall(r"^  (\w+): ([\d,]+) rows changed$", text, re.MULTILINE)
    assert changed_columns == [("seller_city", f"{len(expected):,}")]
    samples = re.findall(r"seller_id='(\w+)': '([^']*)' → '([^']*)'", text)
    assert len(samples) == 3
    for seller_id, old, new in samples:
        assert expected[seller_id] == (old, new)
    identical = text.strip().splitlines()[-1]
    others = sorted(set(WAREHOUSE_TABLES) - {"dim_seller"})
    assert sorted(identical.removeprefix("identical: ").split(", ")) == others
    assert "raw files: the same on both sides" in text

    assert diff(built.main, built.seller).exit_code == 0  # differences, but no --fail-on-diff


def test_json_holds_exactly_the_rows_whose_late_flag_changed(built: Builds) -> None:
    on_the_day = {
        order_id
        for (order_id,) in query(
            built.main / "olist.duckdb",
            f"select order_id from {WAREHOUSE}.fact_orders "
            "where delivery_date = estimated_delivery_date",
        )
    }
    assert on_the_day, "the sample has deliveries on the estimated day"

    document = diff_json(built.main, built.late, "--samples", "1000")
    assert not document["identical"]
    assert document["summary"] == {"models": 6, "differing": 1, "identical": 5, "skipped": 7}
    models = by_model(document)
    facts = models["fact_orders"]
    assert facts["compared_by"] == "unique_key" and facts["key"] == ["order_id"]
    assert facts["rows"] == {"only_in_base": 0, "only_in_candidate": 0, "changed": len(on_the_day)}
    assert facts["base"]["rows"] == facts["candidate"]["rows"] > len(on_the_day)
    (column,) = facts["columns"]["changed"]
    assert column["column"] == "is_late_delivery" and column["rows"] == len(on_the_day)
    assert {s["key"]["order_id"] for s in column["samples"]} == on_the_day
    assert all(s["base"] is False and s["candidate"] is True for s in column["samples"])
    assert [m for m, found in models.items() if not found["identical"]] == ["fact_orders"]
    assert document["raw_files"]["same"] is True


def test_views_are_compared_when_asked_and_the_change_stays_in_its_model(built: Builds) -> None:
    document = diff_json(built.main, built.late, "--views", "--samples", "0")
    models = by_model(document)
    assert len(models) == 13 and document["skipped"] == []
    assert [m for m, found in models.items() if not found["identical"]] == ["fact_orders"]
    views = [found for found in models.values() if found["materialized"] == "view"]
    assert len(views) == 7
    assert all(v["base"]["kind"] == "view" and v["compared_by"] == "whole_row" for v in views)


def test_identical_builds_exit_0_even_with_fail_on_diff(built: Builds) -> None:
    result = diff(built.main, built.same, "--fail-on-diff", "--views")
    assert result.exit_code == 0, result.output
    assert "13 models compared: 0 differ, 13 identical" in result.stdout
    document = diff_json(built.main, built.same)
    assert document["identical"] is True
    assert all(m["identical"] and not m["notes"] for m in document["models"])


def test_select_narrows_the_models_compared(built: Builds) -> None:
    document = diff_json(built.main, built.seller, "--select", "+dim_customer")
    assert sorted(by_model(document)) == ["dim_customer", "fact_orders"]
    assert document["identical"] is True
    skipped = sorted(s["model"] for s in document["skipped"])  # the staging views they read
    assert skipped == ["stg_customers", "stg_order_items", "stg_orders", "stg_payments"]


def test_the_published_warehouse_against_a_scratch_candidate(built: Builds, tmp_path: Path) -> None:
    """One side given: the settings' warehouse is the base. Then a candidate built into
    the same file under a target schema and raw dataset of its own, named with
    @TARGET/RAW; the published warehouse's next run is not disturbed by it."""
    one = diff(built.seller, "--fail-on-diff", OLIST_DATA_DIR=str(built.main))
    assert one.exit_code == 1, one.output
    assert re.findall(r"^DIFFERS  (\w+)", one.stdout, re.MULTILINE) == ["dim_seller"]

    published = shutil.copytree(built.main, tmp_path / "published")
    candidate = {"OLIST_TARGET_SCHEMA": "candidate", "OLIST_RAW_DATASET": "candidate_raw"}
    _build(published, built.raw, **candidate, OLIST_SQL_DIR=str(built.seller_sql))
    result = diff(
        "@candidate/candidate_raw", "--fail-on-diff", "--json", OLIST_DATA_DIR=str(published)
    )
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["candidate"]["target"] == "candidate"
    assert document["candidate"]["raw_dataset"] == "candidate_raw"
    assert document["base"]["target"] == "dev_warehouse"
    assert document["raw_files"]["same"] is True  # loaded from the same files, twice
    assert [m["model"] for m in document["models"] if not m["identical"]] == ["dim_seller"]
    seller = by_model(document)["dim_seller"]
    assert seller["candidate"]["relation"] == "candidate_warehouse.dim_seller"
    assert seller["rows"]["changed"] == len(expected_sellers(built.main))

    again = olist(["--quiet", "run-all", "--source", str(built.raw)], published)
    assert again.exit_code == 0, again.output
    assert "0 loaded, 9 unchanged" in again.output


# -- what a SQL change rarely does: edited copies ---------------------------------------------


def _edited_copy(source: Path, target: Path, *statements: str) -> Path:
    shutil.copytree(source, target)
    con = duckdb.connect(str(target / "olist.duckdb"))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()
    return target


def test_rows_only_on_one_side_and_a_value_set_to_null(built: Builds, tmp_path: Path) -> None:
    facts = f"{WAREHOUSE}.fact_orders"
    gone, moved, nulled = (
        r[0]
        for r in query(
            built.main / "olist.duckdb",
            f"select order_id from {facts} where delivery_date is not null "
            "order by order_id limit 3",
        )
    )
    edited = _edited_copy(
        built.main,
        tmp_path / "edited",
        f"delete from {facts} where order_id = '{gone}'",
        f"update {facts} set order_id = 'zz-new-order' where order_id = '{moved}'",
        f"update {facts} set delivery_date = null where order_id = '{nulled}'",
    )
    document = diff_json(built.main, edited, "--select", "fact_orders")
    facts_diff = by_model(document)["fact_orders"]
    assert facts_diff["rows"] == {"only_in_base": 2, "only_in_candidate": 1, "changed": 1}
    assert [s["row"]["order_id"] for s in facts_diff["samples"]["only_in_base"]] == [gone, moved]
    assert [s["row"]["order_id"] for s in facts_diff["samples"]["only_in_candidate"]] == [
        "zz-new-order"
    ]
    (column,) = facts_diff["columns"]["changed"]
    assert column["column"] == "delivery_date" and column["rows"] == 1
    assert column["samples"][0]["key"] == {"order_id": nulled}
    assert column["samples"][0]["candidate"] is None and column["samples"][0]["base"]


def test_models_without_a_key_compare_as_multisets_of_rows(built: Builds, tmp_path: Path) -> None:
    dates = f"{WAREHOUSE}.dim_date"
    ((first, second),) = query(
        built.main / "olist.duckdb", f"select min(date_day), max(date_day) from {dates}"
    )
    edited = _edited_copy(
        built.main,
        tmp_path / "edited",
        f"delete from {dates} where date_day = '{first}'",
        f"insert into {dates} select * from {dates} where date_day = '{second}'",
    )
    result = diff(built.main, edited, "--select", "dim_date", "--fail-on-diff")
    assert result.exit_code == 1, result.output
    assert "dim_date  (table, compared as whole rows)" in result.stdout
    document = diff_json(built.main, edited, "--select", "dim_date")
    found = by_model(document)["dim_date"]
    assert found["compared_by"] == "whole_row"
    assert found["rows"] == {"only_in_base": 1, "only_in_candidate": 1, "changed": 0}
    assert found["base"]["rows"] == found["candidate"]["rows"]  # one gone, one twice
    assert found["samples"]["only_in_base"][0]["row"]["date_day"] == first.isoformat()
    assert found["samples"]["only_in_candidate"][0]["row"]["date_day"] == second.isoformat()


def test_a_key_held_twice_is_compared_as_whole_rows_and_says_so(
    built: Builds, tmp_path: Path
) -> None:
    sellers = f"{WAREHOUSE}.dim_seller"
    edited = _edited_copy(
        built.main,
        tmp_path / "edited",
        f"insert into {sellers} select * from {sellers} order by seller_id limit 1",
    )
    found = by_model(diff_json(built.main, edited, "--select", "dim_seller"))["dim_seller"]
    assert found["compared_by"] == "whole_row" and found["key"] == []
    assert found["rows"]["only_in_candidate"] == 1 and found["rows"]["only_in_base"] == 0
    assert any("candidate holds 1 values of the unique key" in n for n in found["notes"])


def test_values_are_compared_exactly_and_nulls_safely(tmp_path: Path) -> None:
    """Hand-built tables: a double one ulp apart, decimals of equal value, NULL against
    NULL and against 0, NaN against NaN, a NULL key on both sides, a column's type."""
    sql = write_sql(
        tmp_path,
        {"warehouse/m.sql": "{{ config(materialized='table', unique_key='id') }}\nselect 1 as id"},
    )
    rows = {
        "base": [
            ("'a'", "0.1::double + 0.2::double", "1.10", "null", "1"),
            ("'b'", "0.3::double", "2.00", "null", "2"),
            ("null", "1.0::double", "3.00", "5", "3"),
            ("'c'", "'nan'::double", "0", "0", "4"),
        ],
        "candidate": [
            ("'a'", "0.3::double", "1.1", "null", "'1'"),
            ("'b'", "0.3::double", "2.01", "0", "'2'"),
            ("null", "1.0::double", "3", "5", "'3'"),
            ("'c'", "'nan'::double", "0.00", "0", "'4'"),
        ],
    }
    files = {}
    for side, values in rows.items():
        files[side] = tmp_path / f"{side}.duckdb"
        t_type = "bigint" if side == "base" else "varchar"
        con = duckdb.connect(str(files[side]))
        con.execute(f"create schema {WAREHOUSE}")
        con.execute(
            f"create table {WAREHOUSE}.m (id varchar, x double, d decimal(18,2), n integer, "
            f"t {t_type})"
        )
        for row in values:
            con.execute(f"insert into {WAREHOUSE}.m values ({', '.join(row)})")
        con.close()
    document = diff_json(files["base"], files["candidate"], OLIST_SQL_DIR=str(sql))
    found = by_model(document)["m"]
    assert found["compared_by"] == "unique_key"
    assert found["rows"] == {"only_in_base": 0, "only_in_candidate": 0, "changed": 2}
    changed = {c["column"]: c for c in found["columns"]["changed"]}
    assert {c: v["rows"] for c, v in changed.items()} == {"x": 1, "d": 1, "n": 1}
    assert changed["x"]["samples"] == [
        {"key": {"id": "a"}, "base": 0.30000000000000004, "candidate": 0.3}
    ]
    assert changed["d"]["samples"] == [{"key": {"id": "b"}, "base": "2.00", "candidate": "2.01"}]
    assert changed["n"]["samples"] == [{"key": {"id": "b"}, "base": None, "candidate": 0}]
    assert found["columns"]["type_changes"] == [
        {"column": "t", "base": "BIGINT", "candidate": "VARCHAR"}
    ]
    assert any("compared as text" in n and "t" in n for n in found["notes"])
    assert document["raw_files"] == {"same": False, "tables": []}


# -- errors: one line, exit 2 -------------------------------------------------------------


def test_every_failure_to_compare_is_one_line_and_exit_2(built: Builds, tmp_path: Path) -> None:
    main = built.main
    assert "no-such-dir: no such file or folder" in one_line_error(
        diff(tmp_path / "no-such-dir", main)
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no olist.duckdb in this folder" in one_line_error(diff(main, empty))
    csv = built.raw / "olist_orders_dataset.csv"
    assert "is not a DuckDB database file" in one_line_error(diff(csv, main))
    assert "both sides are" in one_line_error(diff(main, main / "olist.duckdb"))
    assert "one or two warehouses" in one_line_error(diff(main, main, main))
    assert "did you mean 'dim_seller'" in one_line_error(diff(main, built.seller, "-s", "dim_selr"))
    assert "only views" in one_line_error(diff(main, built.seller, "-s", "layer:staging"))
    assert "--samples" in one_line_error(diff(main, built.seller, "--samples", "-1"))
    assert "after '@' is not a target schema" in one_line_error(diff(main, "x@no-t"))
    assert "after '@' is not a raw dataset" in one_line_error(diff(main, "x@t/no-raw"))

    dropped = _edited_copy(main, tmp_path / "dropped", f"drop table {WAREHOUSE}.dim_seller")
    error = one_line_error(diff(main, dropped, "--fail-on-diff"))
    assert f"no model dim_seller ({WAREHOUSE}.dim_seller is absent)" in error
    assert "leave it out with --select" in error
    error = one_line_error(diff("@nowhere", OLIST_DATA_DIR=str(main)))
    assert "there is no nowhere_" in error and "@TARGET" in error


def test_a_warehouse_a_run_is_writing_is_refused_in_one_line(built: Builds, tmp_path: Path) -> None:
    held = shutil.copytree(built.same, tmp_path / "held")
    writer = duckdb.connect(str(held / "olist.duckdb"))  # holds the file's write lock
    try:
        code = (
            "import sys; from olist_cli.cli import main; "
            f"sys.argv = ['olist', 'diff', {str(built.main)!r}, {str(held)!r}]; main()"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
        )
    finally:
        writer.close()
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "another program is writing it" in done.stderr


# -- the README's recipe for a pull request -------------------------------------------------


def readme_recipe() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- pr-recipe[^>]*-->\s*```bash\n(.*?)```", text, re.DOTALL)
    assert found, "README.md holds the pull-request recipe after a <!-- pr-recipe --> marker"
    return found.group(1)


def test_the_readme_pull_request_recipe_works_as_written(tmp_path: Path) -> None:
    """A repository whose main holds sql/ and whose checked-out branch changes
    dim_seller; the recipe, run by bash with olist on the PATH, reports that change."""
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "sql", repo / "sql")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    git("init", "-q", "-b", "main")
    git("add", "sql")
    git("commit", "-q", "-m", "main")
    git("checkout", "-q", "-b", "change-seller-city")
    seller = repo / "sql" / "warehouse" / "dim_seller.sql"
    seller.write_text(seller.read_text().replace(SELLER_OLD, SELLER_NEW), encoding="utf-8")
    git("commit", "-q", "-am", "upper-case seller_city")

    env = {k: v for k, v in os.environ.items() if not k.startswith("OLIST_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        ["bash", "-c", readme_recipe()],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # --fail-on-diff: it differs
    assert re.findall(r"^DIFFERS  (\w+)", done.stdout, re.MULTILINE) == ["dim_seller"]
    assert re.findall(r"^  (\w+): [\d,]+ rows changed$", done.stdout, re.MULTILINE) == [
        "seller_city"
    ]
    assert "raw files: the same on both sides" in done.stdout
    assert not (repo / "data").exists(), "the recipe leaves the user's data dir alone"


# -- DuckDB against BigQuery, on the emulator -----------------------------------------------

BQ_SCALE = 0.005


def test_a_duckdb_warehouse_against_bigquery_datasets(
    bigquery_emulator: Emulator,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The same files built on DuckDB with main's SQL and on the emulator with
    dim_seller changed: across engines every other model, views too, compares equal
    value for value, and the change is found row for row."""
    raw = generate(tmp_path / "sample", scale=BQ_SCALE, seed=SEED)
    names = {"OLIST_RAW_DATASET": "cidiff_raw", "OLIST_TARGET_SCHEMA": "cidiff"}
    duck = _build(tmp_path / "duck", raw, **names)
    seller_sql = edited_sql(tmp_path / "sql-seller", "dim_seller", SELLER_OLD, SELLER_NEW)
    bq_env = bigquery_emulator.env(**names, OLIST_DATA_DIR=str(tmp_path / "bq"))
    _build(tmp_path / "bq", raw, **bq_env, OLIST_SQL_DIR=str(seller_sql))
    expected = expected_sellers(duck, "cidiff_warehouse")

    result = diff(duck, "bigquery", "--views", "--fail-on-diff", "--samples", "100", **bq_env)
    assert result.exit_code == 1, result.output
    assert re.findall(r"^DIFFERS  (\w+)", result.stdout, re.MULTILINE) == ["dim_seller"]
    assert "13 models compared: 1 differs, 12 identical" in result.stdout

    document = diff_json(duck, "bigquery", "--views", "--samples", "100", **bq_env)
    assert document["candidate"]["engine"] == "bigquery"
    models = by_model(document)
    seller = models["dim_seller"]
    assert (
        seller["candidate"]["relation"]
        == f"{bigquery_emulator.project}.cidiff_warehouse.dim_seller"
    )
    assert seller["rows"] == {"only_in_base": 0, "only_in_candidate": 0, "changed": len(expected)}
    (column,) = seller["columns"]["changed"]
    assert column["column"] == "seller_city"
    assert {
        s["key"]["seller_id"]: (s["base"], s["candidate"]) for s in column["samples"]
    } == expected
    assert all(m["columns"]["type_changes"] == [] for m in models.values())  # not across engines
    assert [m for m, found in models.items() if not found["identical"]] == ["dim_seller"]
    assert document["raw_files"]["same"] is True
