"""The pipeline on BigQuery, end to end against local-bigquery (tests/bigquery_emulator.py).

One warehouse is built by the CLI as a cron job would: a first run on an as-of snapshot,
a second on the full data (loads the changed files, MERGEs the facts), a third that
finds nothing to do. The tests read what it published through the BigQuery client and
compare it with the same runs on DuckDB. Tests that break something use a copy of the
data and restore the warehouse afterwards, so the order of the tests does not matter.

Scale 0.005 (about 500 orders): the emulator spends 0.05-0.5 s per statement.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import Result

from bigquery_emulator import Emulator, bigquery_emulator  # noqa: F401  (the fixture)
from helpers import (
    ORDERS_FILE,
    PAYMENTS_FILE,
    edited_sql,
    list_relations,
    olist,
    replace_field,
    sample_snapshots,
)
from olist_cli.engine import build, load_project, run_tests
from olist_cli.engine.checks import select_tests
from olist_cli.engine.dryrun import dry_run_models
from olist_cli.engine.state import StateStore
from olist_cli.errors import EXIT_FAILURE, LoadError
from olist_cli.settings import load_settings
from olist_cli.warehouse.bigquery import BigQueryWarehouse

SCALE = 0.005
SEED = 11
AS_OF = dt.date(2018, 6, 1)
MODELS = 13


@dataclass
class Built:
    """A warehouse the CLI built on the emulator, and how to reach it."""

    emulator: Emulator
    env: dict[str, str]
    prefix: str  # target schema; the raw dataset is <prefix>_raw
    runs: list[Result]
    records: list[dict[str, Any]]  # each run's run_results.json

    @property
    def raw(self) -> str:
        return f"{self.prefix}_raw"

    @property
    def warehouse_dataset(self) -> str:
        return f"{self.prefix}_warehouse"

    def settings(self, **overrides: Any):  # -> Settings, as the CLI reads them
        with pytest.MonkeyPatch.context() as mp:
            for name, value in self.env.items():
                mp.setenv(name, value)
            return load_settings(**overrides)


def environment(emulator: Emulator, prefix: str, data_dir: Path) -> dict[str, str]:
    return emulator.env(
        OLIST_DATA_DIR=str(data_dir),
        OLIST_RAW_DATASET=f"{prefix}_raw",
        OLIST_TARGET_SCHEMA=prefix,
    )


# -- reading what readers see ------------------------------------------------------------


def rows_of(client: Any, dataset: str, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    result = client.query(f"select * from `{client.project}.{dataset}.{name}`").result()
    return [f.name for f in result.schema], [tuple(r.values()) for r in result]


def sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Orders rows the same way on both engines: Decimal('12.3') and ('12.30') alike."""
    return tuple(
        (v is None, format(v.normalize(), "f") if isinstance(v, decimal.Decimal) else str(v))
        for v in row
    )


def digest(client: Any, dataset: str, name: str) -> str:
    names, rows = rows_of(client, dataset, name)
    text = "\n".join(map(repr, sorted(rows, key=sort_key)))
    return hashlib.md5(f"{names}\n{text}".encode()).hexdigest()


def tables(client: Any, dataset: str, kind: str = "TABLE") -> list[str]:
    return sorted(t.table_id for t in client.list_tables(dataset) if t.table_type == kind)


def published(client: Any, built: Built) -> dict[str, str]:
    """A digest of every table and view the models publish, and of the recorded state."""
    result = {}
    for layer in ("staging", "warehouse"):
        dataset = f"{built.prefix}_{layer}"
        for name in tables(client, dataset) + tables(client, dataset, "VIEW"):
            result[f"{dataset}.{name}"] = digest(client, dataset, name)
    result["_olist_state"] = digest(client, built.raw, "_olist_state")
    return result


def datasets(client: Any) -> list[str]:
    return sorted(d.dataset_id for d in client.list_datasets())


# -- the shared build --------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshots(module_dir: Path) -> tuple[Path, Path]:
    """(the files as of AS_OF, the full files): what two successive downloads give."""
    return sample_snapshots(module_dir, scale=SCALE, seed=SEED, as_of=AS_OF)


@pytest.fixture(scope="module")
def built(
    bigquery_emulator: Emulator,  # noqa: F811
    module_dir: Path,
    snapshots: tuple[Path, Path],
) -> Built:
    env = environment(bigquery_emulator, "pipe", module_dir / "bq-data")
    runs, records = [], []
    for i, source in enumerate((*snapshots, snapshots[1])):
        results = module_dir / f"run-{i}.json"
        runs.append(
            olist(
                ["run-all", "--source", str(source)],
                **{**env, "OLIST_RUN_RESULTS_PATH": str(results)},
            )
        )
        assert runs[-1].exit_code == 0, runs[-1].output
        records.append(json.loads(results.read_text(encoding="utf-8")))
    return Built(bigquery_emulator, env, "pipe", runs, records)


@pytest.fixture(scope="module")
def duckdb_built(module_dir: Path, snapshots: tuple[Path, Path]) -> Path:
    """The same two runs on DuckDB; the database file."""
    data_dir = module_dir / "duck-data"
    for source in snapshots:
        result = olist(
            ["run-all", "--source", str(source)],
            data_dir,
            OLIST_RAW_DATASET="pipe_raw",
            OLIST_TARGET_SCHEMA="pipe",
        )
        assert result.exit_code == 0, result.output
    return data_dir / "olist.duckdb"


@pytest.fixture
def client(bigquery_emulator: Emulator) -> Any:  # noqa: F811
    c = bigquery_emulator.client()
    yield c
    c.close()


# -- the runs ----------------------------------------------------------------------------


def test_run_all_builds_every_table_and_passes_every_test(built: Built, client: Any) -> None:
    first = built.runs[0].output
    assert f"{MODELS} built" in first
    assert "0 failed" in first and "publish   done" in first
    assert tables(client, built.warehouse_dataset) == [
        "dim_customer", "dim_date", "dim_product", "dim_seller", "fact_order_items", "fact_orders",
    ]  # fmt: skip
    assert len(tables(client, f"{built.prefix}_staging", "VIEW")) == 7
    # The audit datasets are gone once published; no scratch table is left in the raw one,
    # nor in the scratch dataset beside it.
    assert not [d for d in datasets(client) if d.startswith(built.prefix) and "__audit" in d]
    assert not [t for t in tables(client, built.raw) if "__loading_" in t]
    assert not tables(client, f"{built.raw}__scratch")


def test_the_next_snapshot_is_merged_into_the_facts(built: Built) -> None:
    assert "0 failed" in built.runs[1].output
    models = {m["name"]: m for m in built.records[1]["models"]}
    # The load compared each changed file with its table: the facts replace the rows of
    # the orders whose rows changed, and the dimension the rows of their people.
    for fact in ("fact_orders", "fact_order_items"):
        assert models[fact]["status"] == "success"
        message = models[fact]["message"]
        assert message.startswith("replaced the rows of the changed "), message
        assert "order_id: +" in message
    message = models["dim_customer"]["message"]
    assert message.startswith("replaced the rows of the changed customer_"), message
    files = {f["table"]: f for f in built.records[1]["files"]}
    assert files["orders_raw"]["inserted"] > 0 and files["orders_raw"]["deleted"] > 0
    # Bytes processed and billed reach the run results (0 on the emulator; None on DuckDB).
    assert all(isinstance(m["bytes_processed"], int) for m in models.values())
    assert all(isinstance(m["bytes_billed"], int) for m in models.values())


def test_a_second_run_skips_by_md5_and_finds_every_model_up_to_date(built: Built) -> None:
    third = built.runs[2].output
    assert "0 loaded, 9 unchanged" in third
    assert f"{MODELS} up to date" in third
    assert "0 failed" in third


def test_every_table_equals_duckdb_row_for_row(
    built: Built, duckdb_built: Path, client: Any
) -> None:
    """Same files, same runs, two engines: every model's rows, surrogate keys included.

    No value needs converting: timestamps are naive datetimes on both (DATETIME on
    BigQuery), money is Decimal on both (equal, though BigQuery drops trailing zeros:
    12.3 vs 12.30, which only the sort key has to allow for).
    """
    con = duckdb.connect(str(duckdb_built), read_only=True)
    try:
        compared = 0
        for layer, kind in (("warehouse", "BASE TABLE"), ("staging", "VIEW")):
            schema = f"pipe_{layer}"
            names = [n for _, n in list_relations(con, schema=schema, kind=kind)]
            assert names == tables(client, schema, "TABLE" if kind == "BASE TABLE" else "VIEW")
            for name in names:
                cursor = con.execute(f'select * from "{schema}"."{name}"')
                duck_names = [d[0] for d in cursor.description]
                duck_rows = sorted(cursor.fetchall(), key=sort_key)
                bq_names, bq_rows = rows_of(client, schema, name)
                assert bq_names == duck_names, name
                assert len(bq_rows) == len(duck_rows) > 0, name
                for bq_row, duck_row in zip(sorted(bq_rows, key=sort_key), duck_rows, strict=True):
                    assert bq_row == duck_row, f"{schema}.{name}"
                compared += 1
        assert compared == MODELS
    finally:
        con.close()


def test_facts_are_partitioned_and_clustered(built: Built, client: Any) -> None:
    orders = client.get_table(f"{built.warehouse_dataset}.fact_orders")
    assert orders.time_partitioning.field == "order_purchase_date_day"
    assert orders.clustering_fields == ["customer_key", "order_status"]
    items = client.get_table(f"{built.warehouse_dataset}.fact_order_items")
    assert items.time_partitioning.field == "shipping_limit_date_day"
    assert items.clustering_fields == ["product_key", "seller_key"]
    assert client.get_table(f"{built.warehouse_dataset}.dim_date").time_partitioning is None


def test_models_and_tests_report_bytes(built: Built) -> None:
    """Bytes come from the query jobs (the emulator reports 0; DuckDB reports None)."""
    settings = built.settings(threads=2)
    warehouse = BigQueryWarehouse(settings)
    try:
        project = load_project(settings, warehouse.dialect)
        with warehouse.write_audit_publish():
            models = build(settings, warehouse, project, select="+dim_seller", full_refresh=True)
            state = StateStore(warehouse, settings.raw_dataset)
            for test in select_tests(project, "dim_seller"):
                state.forget("test", test.name)  # else their recorded results are reused
            checks = run_tests(settings, warehouse, project, select="dim_seller")
    finally:
        warehouse.close()
    assert {r.status for r in models} == {"success"}
    assert all(isinstance(r.bytes_processed, int) for r in models)
    assert all(isinstance(r.bytes_billed, int) for r in models)
    assert checks and {t.status for t in checks} == {"pass"}
    assert all(isinstance(t.bytes_processed, int) for t in checks)


# -- dry runs ----------------------------------------------------------------------------


def test_dry_run_estimates_without_creating_anything(
    built: Built,
    bigquery_emulator: Emulator,  # noqa: F811
    snapshots: tuple[Path, Path],
    client: Any,
    tmp_path: Path,
) -> None:
    # A fresh warehouse with only its raw tables: the staging views can be estimated,
    # the models reading them not yet, and no dataset of the models is created.
    env = environment(bigquery_emulator, "dry", tmp_path / "data")
    assert olist(["load", "--source", str(snapshots[1])], **env).exit_code == 0
    before = datasets(client)
    fresh = Built(bigquery_emulator, env, "dry", [], [])
    settings = fresh.settings()
    warehouse = BigQueryWarehouse(settings)
    try:
        estimates = dry_run_models(settings, warehouse, load_project(settings, warehouse.dialect))
    finally:
        warehouse.close()
    assert len(estimates) == MODELS
    by_model = {e.model: e for e in estimates}
    assert all(isinstance(by_model[f"stg_{n}"].bytes_processed, int) for n in ("orders", "sellers"))
    assert by_model["fact_orders"].bytes_processed is None
    assert "notFound" in by_model["fact_orders"].message
    assert datasets(client) == before
    assert "dry_staging" not in before and "dry_warehouse" not in before

    # The built warehouse: every model estimated, nothing changed. (The emulator reports
    # a copied table's `modified` as the time of asking, so contents are compared.)
    settings = built.settings()
    warehouse = BigQueryWarehouse(settings)
    before = published(client, built)
    try:
        estimates = dry_run_models(settings, warehouse, load_project(settings, warehouse.dialect))
    finally:
        warehouse.close()
    assert [e.bytes_processed is not None for e in estimates] == [True] * MODELS, estimates
    assert published(client, built) == before

    # The same through the CLI: `olist transform --dry-run` prints the estimate per model.
    result = olist(["transform", "--dry-run"], **built.env)
    assert result.exit_code == 0, result.output
    assert "Dry run (nothing was built)" in result.output
    assert "fact_orders" in result.output and "plus the touched partitions" in result.output
    assert published(client, built) == before


# -- failures ----------------------------------------------------------------------------


def test_a_failed_load_leaves_the_raw_table_as_it_was(
    built: Built, snapshots: tuple[Path, Path], client: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(snapshots[1], bad)
    replace_field(bad / ORDERS_FILE, 5, 3, "next tuesday")  # order_purchase_timestamp
    raw_before = digest(client, built.raw, "orders_raw")
    metadata_before = digest(client, built.raw, "_load_metadata")

    result = olist(["load", "--source", str(bad)], **built.env)

    assert result.exit_code == EXIT_FAILURE, result.output
    error = result.stderr.strip().splitlines()[-1]
    assert (
        f"{ORDERS_FILE}, line 6, column 'order_purchase_timestamp': 'next tuesday' is not "
        "a TIMESTAMP"
    ) in error
    assert digest(client, built.raw, "orders_raw") == raw_before
    assert digest(client, built.raw, "_load_metadata") == metadata_before
    assert not [t for t in tables(client, built.raw) if "__loading_" in t]


def test_load_from_a_gs_uri_uploaded_to_cloud_storage(
    built: Built,
    bigquery_emulator: Emulator,  # noqa: F811
    client: Any,
) -> None:
    """A file archived to Cloud Storage (gcp-storage-emulator) loads from its gs:// URI.

    local-bigquery reads gs:// URIs from the folder where the storage emulator keeps
    its objects (GCS_LOCAL_ROOT), so the two emulators see the same bucket.
    """
    from gcp_storage_emulator.server import create_server
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    from olist_cli.dataset import SELLERS

    server = create_server("127.0.0.1", 0, data_dir=str(bigquery_emulator.gcs_base))
    server.start()
    try:
        gcs = storage.Client(
            project="test-project",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": f"http://127.0.0.1:{server._api._httpd.server_port}"},
        )
        bucket = gcs.create_bucket("olist-archive")
        bucket.blob(f"olist/raw/2018-10-17/{SELLERS.file_name}").upload_from_string(
            ",".join(SELLERS.column_names) + '\ns1,01001,"sao paulo",SP\ns2,20000,rio,RJ\n'
        )
    finally:
        server.stop()
    uri = f"gs://olist-archive/olist/raw/2018-10-17/{SELLERS.file_name}"
    recorded: list[int] = []
    warehouse = BigQueryWarehouse(built.settings())
    try:
        rows = warehouse.load_csv(
            "gs_raw", "sellers_raw", uri, SELLERS.columns, before_commit=recorded.append
        ).rows
        with pytest.raises(LoadError, match="^missing.csv: "):
            warehouse.load_csv(
                "gs_raw", "sellers_raw", "gs://olist-archive/missing.csv", SELLERS.columns
            )
    finally:
        warehouse.close()
    assert rows == 2 and recorded == [2]
    # The failed second load left the first one in place.
    assert sorted(rows_of(client, "gs_raw", "sellers_raw")[1]) == [
        ("s1", "01001", "sao paulo", "SP"),
        ("s2", "20000", "rio", "RJ"),
    ]


def test_a_failing_error_test_publishes_nothing(
    built: Built, snapshots: tuple[Path, Path], client: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(snapshots[1], bad)
    # payment_value: accepted_range min 0, severity error
    replace_field(bad / PAYMENTS_FILE, -1, -1, "-5.00")
    before = published(client, built)

    try:
        result = olist(["run-all", "--source", str(bad)], **built.env)
        assert result.exit_code == EXIT_FAILURE, result.output
        assert "accepted_range_stg_payments_payment_value" in result.output
        assert "nothing was published" in result.stderr
        assert "dim_customer" in result.output  # rebuilt in the audit dataset, then held back
        after = published(client, built)
        # The views read the raw tables, which the load stage replaced before the run's
        # write-audit-publish began: only they show the new file (as on DuckDB today).
        assert {k: v for k, v in after.items() if "staging." not in k} == {
            k: v for k, v in before.items() if "staging." not in k
        }
        # Left for inspection: the audit copy holds what the failing run built.
        assert f"{built.prefix}_warehouse__audit" in datasets(client)
    finally:
        # The good files again: the raw payments reloaded, and the warehouse is the one
        # the other tests expect (nothing else was recorded as built).
        restored = olist(["run-all", "--source", str(snapshots[1])], **built.env)
        assert restored.exit_code == 0, restored.output
    assert f"{MODELS} up to date" in restored.output


def test_a_test_that_cannot_run_publishes_nothing(
    built: Built, snapshots: tuple[Path, Path], client: Any, tmp_path: Path
) -> None:
    """An error-level test whose SQL does not run checked nothing: nothing is published."""
    from olist_cli.dataset import CUSTOMERS

    changed = tmp_path / "files"
    shutil.copytree(snapshots[1], changed)
    replace_field(changed / CUSTOMERS.file_name, 1, 3, "cidade nova")  # customer_city
    broken = "assert_fact_orders_complete"
    sql = edited_sql(
        tmp_path / "broken-sql",  # not ./sql, which olist would find by itself
        broken,
        "count(distinct order_id) as n_distinct",
        "count(distinct no_such_column) as n_distinct",
    )
    before = published(client, built)

    try:
        # --full-refresh: every model is rebuilt from the changed file, whatever the
        # incremental models would pick up of it.
        result = olist(
            ["run-all", "--full-refresh", "--source", str(changed)],
            **{**built.env, "OLIST_SQL_DIR": str(sql)},
        )
        assert result.exit_code == EXIT_FAILURE, result.output
        error = result.stderr.strip().splitlines()[-1]
        assert f"1 error-level data test(s) failed: {broken};" in error
        assert "nothing was published" in error
        assert f"ERROR {broken}: " in result.output and "no_such_column" in result.output
        # Built and held back: the audit copy has the new city, the published table not.
        audit = f"{built.prefix}_warehouse__audit"
        city = "select count(*) from `{}.dim_customer` where customer_city = 'cidade nova'"
        assert list(client.query(city.format(audit)).result())[0][0] == 1
        assert list(client.query(city.format(built.warehouse_dataset)).result())[0][0] == 0
        # Every table and view the models publish, and the recorded state, as before (the
        # load is inside the write-audit-publish too: the staging views show the old file).
        assert published(client, built) == before
    finally:
        # Should this test fail: the warehouse the other tests expect.
        restored = olist(["run-all", "--source", str(snapshots[1])], **built.env)
        assert restored.exit_code == 0, restored.output
    assert f"{MODELS} up to date" in restored.output
    assert published(client, built) == before
