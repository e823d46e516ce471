"""The raw load on real DuckDB files: types, MD5 skips, metadata, and every kind of bad input.

The fixtures in tests/fixtures/raw are byte-exact Olist files: quoted headers, ids quoted
when they start with a digit, a review spanning three lines, and the translation file
copied from the original (BOM, CRLF, no final newline).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from olist_cli.dataset import SOURCE_FILES
from olist_cli.errors import LoadError, SourceError
from olist_cli.load import FileLoadResult, header_problem, load_raw
from olist_cli.settings import Settings, load_settings
from olist_cli.warehouse.duckdb import DuckDBWarehouse

FIXTURES = Path(__file__).parent / "fixtures" / "raw"
RAW = "staging"
EXPECTED_ROWS = {
    "orders_raw": 5,
    "customers_raw": 5,
    "order_items_raw": 5,
    "payments_raw": 6,
    "reviews_raw": 4,
    "products_raw": 3,
    "sellers_raw": 2,
    "geolocation_raw": 4,
    "product_category_name_translation_raw": 71,
}

Snapshot = dict[str, list[tuple[Any, ...]]]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    shutil.copytree(FIXTURES, folder)
    return folder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    yield wh
    wh.close()


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact occurrence of ``old``, keeping every other byte as it was."""
    data = path.read_bytes()
    assert data.count(old.encode()) == 1, f"{old!r} must occur once in {path.name}"
    path.write_bytes(data.replace(old.encode(), new.encode()))


def snapshot(wh: DuckDBWarehouse) -> Snapshot:
    """Every row of every raw table and of _load_metadata, in a stable order."""
    tables = [s.raw_table for s in SOURCE_FILES] + ["_load_metadata"]
    return {
        t: sorted(wh.query(f'select * from {RAW}."{t}"'), key=repr)
        for t in tables
        if wh.table_exists(RAW, t)
    }


def metadata(wh: DuckDBWarehouse) -> list[tuple[Any, ...]]:
    return wh.query(
        f"select load_id, table_name, file_name, file_md5, file_bytes, row_count, started_at, "
        f"finished_at, status, duration_s from {RAW}._load_metadata order by finished_at"
    )


# -- a good load ------------------------------------------------------------------------


def test_first_load_loads_nine_tables_with_their_row_counts(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    events: list[FileLoadResult] = []
    results = load_raw(settings, warehouse, source, on_event=events.append)

    assert events == results
    assert [r.table for r in results] == [s.raw_table for s in SOURCE_FILES]
    assert all(r.status == "loaded" for r in results)
    assert {r.table: r.rows for r in results} == EXPECTED_ROWS
    for table, rows in EXPECTED_ROWS.items():
        assert warehouse.row_count(RAW, table) == rows
    orders = results[0]
    data = (source / orders.file_name).read_bytes()
    assert orders.md5 == hashlib.md5(data).hexdigest()
    assert orders.bytes == len(data)


def test_columns_are_typed_and_values_kept_exactly(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    load_raw(settings, warehouse, source)

    types = dict(warehouse.columns(RAW, "orders_raw"))
    assert types["order_id"] == "VARCHAR"
    assert types["order_purchase_timestamp"] == "TIMESTAMP"
    assert dict(warehouse.columns(RAW, "order_items_raw"))["price"] == "DECIMAL(18,2)"
    assert dict(warehouse.columns(RAW, "order_items_raw"))["order_item_id"] == "BIGINT"
    assert dict(warehouse.columns(RAW, "geolocation_raw"))["geolocation_lat"] == "DOUBLE"

    zips = {
        r[0] for r in warehouse.query(f"select customer_zip_code_prefix from {RAW}.customers_raw")
    }
    assert {"01046", "03149"} <= zips  # leading zeros kept: zip prefixes are strings
    assert warehouse.query(
        f"select price, shipping_limit_date from {RAW}.order_items_raw "
        "where order_id = '53cdb2fc8bc7dce0b6741e2150273451'"
    ) == [(Decimal("118.70"), dt.datetime(2018, 7, 30, 3, 24, 27))]
    # An empty timestamp is NULL, not an error.
    assert warehouse.query(
        f"select order_delivered_customer_date from {RAW}.orders_raw "
        "where order_id = 'f88197465ea7920adcdbec7375364d82'"
    ) == [(None,)]
    message = warehouse.query(
        f"select review_comment_message from {RAW}.reviews_raw where review_score = 1"
    )[0][0]
    assert message == 'Comprei dois produtos, "iguais",\nmas só recebi um.\nAguardo retorno'
    # The translation file's BOM is not part of the first value.
    first = warehouse.query(
        f"select product_category_name from {RAW}.product_category_name_translation_raw "
        "where product_category_name_english = 'health_beauty'"
    )
    assert first == [("beleza_saude",)]


def test_metadata_records_one_row_per_file_with_one_load_id(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    results = load_raw(settings, warehouse, source)
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    rows = metadata(warehouse)
    assert len(rows) == 9
    load_ids = {r[0] for r in rows}
    assert len(load_ids) == 1 and len(next(iter(load_ids))) == 32
    by_table = {r[1]: r for r in rows}
    for result in results:
        _, _, file_name, md5, size, count, started, finished, status, duration = by_table[
            result.table
        ]
        assert (file_name, md5, size, count, status) == (
            result.file_name,
            result.md5,
            result.bytes,
            result.rows,
            "success",
        )
        assert before <= started <= finished <= after  # UTC, from Python's clock
        assert 0 <= duration <= (after - before).total_seconds()


# -- idempotence ------------------------------------------------------------------------


def test_second_load_skips_every_file_and_changes_nothing(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    first = load_raw(settings, warehouse, source)
    before = snapshot(warehouse)

    second = load_raw(settings, warehouse, source)

    assert [r.status for r in second] == ["skipped"] * 9
    assert second[0].message == f"unchanged (md5 {first[0].md5})"
    assert [r.rows for r in second] == [r.rows for r in first]
    assert snapshot(warehouse) == before


def test_changing_one_file_reloads_only_that_file(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    load_raw(settings, warehouse, source)
    edit(source / "olist_sellers_dataset.csv", "campinas", "campinas - sp")

    results = load_raw(settings, warehouse, source)

    loaded = [r.table for r in results if r.status == "loaded"]
    assert loaded == ["sellers_raw"]
    # Compared with the table: one row of two changed, so rewritten whole (cheaper).
    assert results[6].message.startswith("changed (md5 was ")
    assert results[6].message.endswith(": replaced, +1 -1 rows")
    assert (results[6].inserted, results[6].deleted) == (1, 1)
    assert warehouse.query(
        f"select count(*) from {RAW}.sellers_raw where seller_city = ?", ["campinas - sp"]
    ) == [(1,)]
    assert len(metadata(warehouse)) == 10


def test_going_back_to_an_earlier_file_reloads_it(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    sellers = source / "olist_sellers_dataset.csv"
    original = sellers.read_bytes()
    load_raw(settings, warehouse, source)
    edit(sellers, "campinas", "campinas - sp")
    load_raw(settings, warehouse, source)
    sellers.write_bytes(original)

    results = load_raw(settings, warehouse, source)

    # The first load's MD5 is in the metadata, but the table now holds the second file.
    assert [r.table for r in results if r.status == "loaded"] == ["sellers_raw"]
    cities = {r[0] for r in warehouse.query(f"select seller_city from {RAW}.sellers_raw")}
    assert cities == {"campinas", "sao paulo"}


def test_a_first_load_hashes_every_file_before_loading_any(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables written whole: hashing beside DuckDB's threads would slow them down."""
    from olist_cli import filehash

    hashed: list[str] = []
    real_md5, real_load = filehash.file_md5, DuckDBWarehouse.load_csv

    def md5(path: Path) -> str:
        digest = real_md5(path)
        hashed.append(path.name)
        return digest

    def load_csv(self: DuckDBWarehouse, *args: Any, **kwargs: Any) -> Any:
        assert len(hashed) == len(SOURCE_FILES), "a table loaded before every file was hashed"
        return real_load(self, *args, **kwargs)

    monkeypatch.setattr(filehash, "file_md5", md5)
    monkeypatch.setattr(DuckDBWarehouse, "load_csv", load_csv)
    assert [r.status for r in load_raw(settings, warehouse, source)] == ["loaded"] * 9


def test_a_later_load_compares_a_file_while_the_next_ones_are_hashed(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every table loaded before: each file is compared once its own MD5 is known."""
    from olist_cli import filehash

    load_raw(settings, warehouse, source)
    orders, last = SOURCE_FILES[0], SOURCE_FILES[-1]
    edit(source / orders.file_name, ",created,", ",canceled,")  # the first file changed
    os.utime(source / last.file_name)  # the last one must be hashed again (not changed)
    compared = threading.Event()
    real_md5, real_load = filehash.file_md5, DuckDBWarehouse.load_csv

    def md5(path: Path) -> str:
        if path.name == last.file_name:  # held until a table has loaded: waiting deadlocks
            assert compared.wait(timeout=30), "no table loaded before every file was hashed"
        return real_md5(path)

    def load_csv(self: DuckDBWarehouse, *args: Any, **kwargs: Any) -> Any:
        loaded = real_load(self, *args, **kwargs)
        compared.set()
        return loaded

    monkeypatch.setattr(filehash, "file_md5", md5)
    monkeypatch.setattr(DuckDBWarehouse, "load_csv", load_csv)
    results = load_raw(settings, warehouse, source)
    assert [r.status for r in results] == ["loaded"] + ["skipped"] * 8
    assert results[-1].md5 == hashlib.md5((source / last.file_name).read_bytes()).hexdigest()


def test_force_reloads_every_file(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    load_raw(settings, warehouse, source)
    before = snapshot(warehouse)

    results = load_raw(settings, warehouse, source, force=True)

    assert [r.status for r in results] == ["loaded"] * 9
    # Replaced whole, not compared: no counts of rows inserted and deleted.
    assert all(r.message == "forced: replaced" for r in results)
    assert all(r.inserted is None and r.deleted is None for r in results)
    after = snapshot(warehouse)
    assert {t: rows for t, rows in after.items() if t != "_load_metadata"} == {
        t: rows for t, rows in before.items() if t != "_load_metadata"
    }
    assert len({r[0] for r in metadata(warehouse)}) == 2  # two load ids, 18 rows
    assert len(metadata(warehouse)) == 18


def test_a_dropped_table_is_reloaded_even_if_its_file_is_unchanged(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    load_raw(settings, warehouse, source)
    warehouse.execute(f"drop table {RAW}.payments_raw")

    results = load_raw(settings, warehouse, source)

    assert [r.table for r in results if r.status == "loaded"] == ["payments_raw"]
    assert warehouse.row_count(RAW, "payments_raw") == 6


# -- bad input: one line naming file, line and column; nothing changed --------------------

ORDERS = "olist_orders_dataset.csv"
ITEMS = "olist_order_items_dataset.csv"
PAYMENTS = "olist_order_payments_dataset.csv"
REVIEWS = "olist_order_reviews_dataset.csv"
SELLERS = "olist_sellers_dataset.csv"
GEO = "olist_geolocation_dataset.csv"
TRANSLATION = "product_category_name_translation.csv"

BAD_INPUTS = [
    pytest.param(
        ORDERS,
        '"order_status",',
        "",
        SourceError,
        "olist_orders_dataset.csv, line 1: missing column 'order_status'",
        id="missing-column",
    ),
    pytest.param(
        ORDERS,
        '"order_estimated_delivery_date"\n',
        '"order_estimated_delivery_date","foo"\n',
        SourceError,
        "olist_orders_dataset.csv, line 1: unexpected extra column 'foo'",
        id="extra-column",
    ),
    pytest.param(
        ORDERS,
        '"order_status"',
        '"order_statuz"',
        SourceError,
        "olist_orders_dataset.csv, line 1: column 3 is 'order_statuz', expected 'order_status'",
        id="renamed-column",
    ),
    pytest.param(
        ITEMS,
        "118.70",
        "abc",
        LoadError,
        "olist_order_items_dataset.csv, line 3, column 'price': 'abc' is not a NUMERIC",
        id="bad-number",
    ),
    pytest.param(
        REVIEWS,
        "2017-12-14 09:41:21",
        "2017-13-45 10:00:00",
        LoadError,
        # Record 5 to DuckDB; line 7 in the file, after the three-line review.
        "olist_order_reviews_dataset.csv, line 7, column 'review_answer_timestamp': "
        "'2017-13-45 10:00:00' is not a TIMESTAMP (expected YYYY-MM-DD HH:MM:SS)",
        id="bad-timestamp-after-multiline-review",
    ),
    pytest.param(
        REVIEWS,
        "2018-08-22 19:07:58",
        "2018-08-22T19:07:58",
        LoadError,
        # The record starts on line 4; this value sits on its third line.
        "olist_order_reviews_dataset.csv, line 6, column 'review_answer_timestamp': "
        "'2018-08-22T19:07:58' is not a TIMESTAMP (expected YYYY-MM-DD HH:MM:SS)",
        id="bad-timestamp-inside-multiline-review",
    ),
    pytest.param(
        REVIEWS,
        ",5,recomendo,",
        ",five,recomendo,",
        LoadError,
        "olist_order_reviews_dataset.csv, line 7, column 'review_score': 'five' is not an INT64",
        id="bad-integer",
    ),
    pytest.param(
        GEO,
        "-16.745149",
        "-16,745149",
        LoadError,
        "olist_geolocation_dataset.csv, line 5: 6 fields, expected 5; "
        "unexpected extra field 'GO' after column 'geolocation_state'",
        id="decimal-comma-makes-too-many-fields",
    ),
    pytest.param(
        PAYMENTS,
        "boleto,1,141.46\n",
        "boleto,1,141.46,9\n",
        LoadError,
        "olist_order_payments_dataset.csv, line 5: 6 fields, expected 5; "
        "unexpected extra field '9' after column 'payment_value'",
        id="too-many-fields",
    ),
    pytest.param(
        SELLERS,
        "sao paulo,SP\n",
        "sao paulo\n",
        LoadError,
        "olist_sellers_dataset.csv, line 3: 3 fields, expected 4; missing column 'seller_state'",
        id="too-few-fields",
    ),
    pytest.param(
        TRANSLATION,
        "cama_mesa_banho,bed_bath_table\r\n",
        "cama_mesa_banho,bed_bath_table,x\r\n",
        LoadError,
        "product_category_name_translation.csv, line 5: 3 fields, expected 2; "
        "unexpected extra field 'x' after column 'product_category_name_english'",
        id="too-many-fields-in-the-bom-crlf-file",
    ),
    pytest.param(
        ITEMS,
        '"595fac2a385ac33a80bd5114aec74eb8"',
        '"595fac2a385ac33a80bd5114aec74eb8',
        LoadError,
        "olist_order_items_dataset.csv, line 3, column 'product_id': unterminated quote "
        "(a quoted value must end with '\"' followed by ',' or the end of the line)",
        id="unterminated-quote",
    ),
    pytest.param(
        REVIEWS,
        ",Parabéns lojas",
        ',"Parabéns lojas',
        LoadError,
        "olist_order_reviews_dataset.csv, line 7, column 'review_comment_message': "
        "unterminated quote (a quoted value must end with '\"' followed by ',' or the end "
        "of the line)",
        id="unterminated-quote-to-end-of-file",
    ),
    pytest.param(
        GEO,
        "-48.514454",
        "abc",
        LoadError,
        "olist_geolocation_dataset.csv, line 5, column 'geolocation_lng': 'abc' is not a FLOAT64",
        id="bad-float",
    ),
]


@pytest.mark.parametrize(("file_name", "old", "new", "error", "message"), BAD_INPUTS)
def test_bad_input_names_file_line_and_column_and_changes_nothing(
    settings: Settings,
    warehouse: DuckDBWarehouse,
    source: Path,
    file_name: str,
    old: str,
    new: str,
    error: type[Exception],
    message: str,
) -> None:
    load_raw(settings, warehouse, source)
    before = snapshot(warehouse)
    edit(source / file_name, old, new)

    with pytest.raises(error) as caught:
        load_raw(settings, warehouse, source)

    assert str(caught.value) == message
    assert "\n" not in str(caught.value)
    assert snapshot(warehouse) == before


def test_bad_input_on_the_first_load_leaves_no_table(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    edit(source / ORDERS, "2017-10-02 10:56:33", "yesterday")

    with pytest.raises(LoadError, match=r"olist_orders_dataset.csv, line 2, column "):
        load_raw(settings, warehouse, source)

    assert not warehouse.table_exists(RAW, "orders_raw")
    assert metadata(warehouse) == []


def test_bytes_that_are_not_utf8_are_named_by_line(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    path = source / SELLERS
    path.write_bytes(path.read_bytes().replace(b"campinas", b"campi\xf1as"))

    with pytest.raises(LoadError) as caught:
        load_raw(settings, warehouse, source)

    assert str(caught.value) == "olist_sellers_dataset.csv, line 2: not valid UTF-8 text"


def test_an_empty_file_has_no_header(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    (source / SELLERS).write_bytes(b"")

    with pytest.raises(SourceError) as caught:
        load_raw(settings, warehouse, source)

    assert str(caught.value) == (
        "olist_sellers_dataset.csv, line 1: no header (the file is empty or starts with a "
        "blank line)"
    )


def test_load_stops_at_the_bad_file_and_keeps_the_files_before_it(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    load_raw(settings, warehouse, source)
    before = snapshot(warehouse)
    edit(source / "olist_customers_dataset.csv", "barreiras", "barreiras - ba")  # before items
    edit(source / ITEMS, "118.70", "abc")
    edit(source / SELLERS, "campinas", "campinas - sp")  # after items: never reached

    with pytest.raises(LoadError):
        load_raw(settings, warehouse, source)

    after = snapshot(warehouse)
    assert after["customers_raw"] != before["customers_raw"]  # valid, committed with its row
    for table in ("order_items_raw", "sellers_raw"):
        assert after[table] == before[table]
    assert [r[1] for r in metadata(warehouse)[9:]] == ["customers_raw"]

    # Restoring the file as it was loaded before makes it a skip; a corrected value loads.
    edit(source / ITEMS, "abc", "118.71")
    results = load_raw(settings, warehouse, source)
    assert [r.table for r in results if r.status == "loaded"] == ["order_items_raw", "sellers_raw"]


def test_a_bad_header_anywhere_stops_the_load_before_any_table_changes(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    load_raw(settings, warehouse, source)
    before = snapshot(warehouse)
    edit(source / "olist_customers_dataset.csv", "barreiras", "barreiras - ba")
    edit(source / "olist_products_dataset.csv", '"product_name_lenght"', '"product_name_length"')

    with pytest.raises(SourceError, match="olist_products_dataset.csv, line 1: column 3 is"):
        load_raw(settings, warehouse, source)

    assert snapshot(warehouse) == before


def test_a_failed_metadata_write_rolls_the_table_back(
    settings: Settings,
    warehouse: DuckDBWarehouse,
    source: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_raw(settings, warehouse, source)
    before = snapshot(warehouse)
    edit(source / "olist_orders_dataset.csv", "shipped", "delivered")
    execute = warehouse.execute

    def failing_insert(sql: str, params: Any = None) -> None:
        if sql.startswith("INSERT INTO"):
            raise RuntimeError("disk full")
        execute(sql, params)

    monkeypatch.setattr(warehouse, "execute", failing_insert)

    with pytest.raises(RuntimeError, match="disk full"):
        load_raw(settings, warehouse, source)

    assert snapshot(warehouse) == before  # orders_raw not replaced without its metadata row


def test_a_missing_file_is_named_with_the_folder(
    settings: Settings, warehouse: DuckDBWarehouse, source: Path
) -> None:
    (source / SELLERS).unlink()

    with pytest.raises(SourceError) as caught:
        load_raw(settings, warehouse, source)

    assert str(caught.value) == f"missing olist_sellers_dataset.csv in {source}"
    assert not warehouse.table_exists(RAW, "orders_raw")


# -- header comparison ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "problem"),
    [
        (["a", "b", "c"], None),
        (["a", "c"], "missing column 'b'"),
        (["a", "b"], "missing column 'c'"),
        (["a", "x", "b", "c"], "unexpected extra column 'x'"),
        (["a", "b", "c", "d"], "unexpected extra column 'd'"),
        (["a", "B", "c"], "column 2 is 'B', expected 'b'"),
        (["a", "c", "b"], "column 2 is 'c', expected 'b'"),
        ([], "missing column 'a'"),
    ],
)
def test_header_problem_names_the_first_difference(actual: list[str], problem: str | None) -> None:
    assert header_problem(actual, ["a", "b", "c"]) == problem
