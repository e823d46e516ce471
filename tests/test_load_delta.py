"""Loading a changed file by difference on DuckDB: the table ends equal to a fresh load.

Each test loads a generated snapshot (real CSV files, a real DuckDB file), edits one file
the way a later snapshot would differ, loads again, and compares the raw table with the
edited file loaded from scratch into another schema: EXCEPT ALL both ways, so that
duplicate rows (the geolocation file repeats rows exactly) count.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers import generate, olist
from olist_cli.dataset import GEOLOCATION, ORDERS, SOURCE_FILES, SourceFile
from olist_cli.errors import LoadError
from olist_cli.load import FileLoadResult, load_raw
from olist_cli.settings import Settings, load_settings
from olist_cli.warehouse.base import LoadedRows
from olist_cli.warehouse.duckdb import DuckDBWarehouse

RAW = "staging"
FRESH = "fresh"  # the edited file loaded from scratch, to compare with
SCALE = 0.01  # ~1,000 orders, ~10,000 geolocation rows with up to 5 copies of a row
SEED = 11

Lines = list[str]  # a file's data lines, each with its line end; the header apart


@pytest.fixture(scope="module")
def generated(module_dir: Path) -> Path:
    return generate(module_dir / "generated", scale=SCALE, seed=SEED)


@pytest.fixture
def source(generated: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(generated, tmp_path / "raw"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


# -- editing a file ------------------------------------------------------------------------


def read_lines(path: Path) -> tuple[str, Lines]:
    """(header, data lines) of a file whose values hold no newline (orders, geolocation)."""
    with path.open(encoding="utf-8", newline="") as handle:
        lines = handle.readlines()
    return lines[0], lines[1:]


def rewrite(path: Path, change: Callable[[Lines], Lines]) -> None:
    header, lines = read_lines(path)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(header + "".join(change(lines)))


def with_field(line: str, index: int, value: str) -> str:
    fields = line.rstrip("\n").split(",")
    fields[index] = value
    return ",".join(fields) + "\n"


def field_of(line: str, index: int) -> str:
    return line.rstrip("\n").split(",")[index]


ORDER_STATUS = ORDERS.column_names.index("order_status")
DELIVERED_AT = ORDERS.column_names.index("order_delivered_customer_date")


def insert_orders(lines: Lines) -> Lines:
    """Three new orders: copies of existing ones under new ids."""
    new = [with_field(line, 0, f'"{n:032x}"') for n, line in enumerate(lines[:3], start=1)]
    return lines[:500] + new + lines[500:]


def delete_orders(lines: Lines) -> Lines:
    return lines[:10] + lines[14:]


def change_statuses(lines: Lines) -> Lines:
    changed = [i for i, line in enumerate(lines) if field_of(line, ORDER_STATUS) == "delivered"]
    for i in changed[:2]:
        lines[i] = with_field(lines[i], ORDER_STATUS, "canceled")
    return lines


def null_appears(lines: Lines) -> Lines:
    i = next(i for i, line in enumerate(lines) if field_of(line, DELIVERED_AT))
    lines[i] = with_field(lines[i], DELIVERED_AT, "")
    return lines


def null_disappears(lines: Lines) -> Lines:
    i = next(i for i, line in enumerate(lines) if not field_of(line, DELIVERED_AT))
    lines[i] = with_field(lines[i], DELIVERED_AT, '"2018-10-01 12:00:00"')
    return lines


def copies(lines: Lines) -> dict[int, list[str]]:
    """The distinct lines, by how many times each occurs."""
    by_count: dict[int, list[str]] = {}
    for line, count in Counter(lines).items():
        by_count.setdefault(count, []).append(line)
    return by_count


def more_copies(lines: Lines) -> Lines:
    """One more copy of a row held twice, and a second copy of a row held once."""
    by_count = copies(lines)
    return [*lines, by_count[2][0], by_count[1][0]]


def fewer_copies(lines: Lines) -> Lines:
    """One copy less of a row held three times, and no copy left of a row held twice."""
    by_count = copies(lines)
    thrice, twice = by_count[3][0], by_count[2][0]
    lines = [line for line in lines if line != twice]
    lines.remove(thrice)
    return lines


def reorder(lines: Lines) -> Lines:
    random.Random(SEED).shuffle(lines)
    return lines


# The last field: whether the hashes must be counted. Rows only in the file or only in the
# table are found by lookups alone; a row that gains or loses a copy needs the counts.
CHANGES = [
    pytest.param(ORDERS, insert_orders, 3, 0, False, id="inserted-rows"),
    pytest.param(ORDERS, delete_orders, 0, 4, False, id="deleted-rows"),
    pytest.param(ORDERS, change_statuses, 2, 2, False, id="changed-values"),
    pytest.param(ORDERS, null_appears, 1, 1, False, id="null-appears"),
    pytest.param(ORDERS, null_disappears, 1, 1, False, id="null-disappears"),
    pytest.param(GEOLOCATION, more_copies, 2, 0, True, id="more-copies-of-a-row"),
    pytest.param(GEOLOCATION, fewer_copies, 0, 3, True, id="fewer-copies-of-a-row"),
    pytest.param(ORDERS, reorder, 0, 0, False, id="reordered"),
    pytest.param(GEOLOCATION, reorder, 0, 0, False, id="reordered-with-duplicates"),
]


# -- what the warehouse holds --------------------------------------------------------------


def load_fresh(wh: DuckDBWarehouse, source: SourceFile, path: Path) -> None:
    """The file loaded from scratch into the FRESH schema (replacing what was there)."""
    wh.load_csv(FRESH, source.raw_table, path, source.columns, replace=True)


def except_all(wh: DuckDBWarehouse, table: str, left: str, right: str) -> int:
    """Rows of left.table not in right.table, as multisets."""
    return int(
        wh.query(
            f'select count(*) from (select * from {left}."{table}" '
            f'except all select * from {right}."{table}")'
        )[0][0]
    )


def assert_equals_fresh_load(wh: DuckDBWarehouse, source: SourceFile, path: Path) -> None:
    load_fresh(wh, source, path)
    table = source.raw_table
    assert except_all(wh, table, RAW, FRESH) == 0
    assert except_all(wh, table, FRESH, RAW) == 0
    assert wh.row_count(RAW, table) == wh.row_count(FRESH, table)


def snapshot(wh: DuckDBWarehouse) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every raw table and of _load_metadata, in a stable order."""
    tables = [s.raw_table for s in SOURCE_FILES] + ["_load_metadata"]
    return {t: sorted(wh.query(f'select * from {RAW}."{t}"'), key=repr) for t in tables}


def temporary_tables(wh: DuckDBWarehouse) -> list[str]:
    return [r[0] for r in wh.query("select table_name from duckdb_tables() where temporary")]


def result_for(results: list[FileLoadResult], source: SourceFile) -> FileLoadResult:
    return next(r for r in results if r.table == source.raw_table)


# -- loading by difference -----------------------------------------------------------------


@pytest.mark.parametrize(("file", "change", "inserted", "deleted", "counted"), CHANGES)
def test_a_changed_file_is_loaded_by_difference_and_equals_a_fresh_load(
    settings: Settings,
    wh: DuckDBWarehouse,
    source: Path,
    file: SourceFile,
    change: Callable[[Lines], Lines],
    inserted: int,
    deleted: int,
    counted: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = source / file.file_name
    first = result_for(load_raw(settings, wh, source), file)
    rewrite(path, change)
    by_count = []
    real_by_count = DuckDBWarehouse._by_count

    def spy(*args: Any) -> str:
        by_count.append(args)
        return real_by_count(*args)

    monkeypatch.setattr(DuckDBWarehouse, "_by_count", staticmethod(spy))

    results = load_raw(settings, wh, source)

    result = result_for(results, file)
    assert result.status == "loaded"
    assert [r.table for r in results if r.status == "loaded"] == [file.raw_table]
    assert (result.inserted, result.deleted) == (inserted, deleted)
    assert result.message == f"changed (md5 was {first.md5}): +{inserted:,} -{deleted:,} rows"
    assert_equals_fresh_load(wh, file, path)
    assert result.rows == wh.row_count(RAW, file.raw_table) == first.rows + inserted - deleted
    # _load_metadata keeps the table's total rows, as after a replace.
    assert wh.query(
        f"select row_count, file_md5 from {RAW}._load_metadata "
        "where table_name = ? order by finished_at desc limit 1",
        [file.raw_table],
    ) == [(result.rows, result.md5)]
    assert temporary_tables(wh) == []
    assert bool(by_count) == counted


@pytest.mark.parametrize("change", [change_statuses, more_copies], ids=["values", "copies"])
def test_kept_changes_are_the_rows_deleted_and_inserted(
    settings: Settings, wh: DuckDBWarehouse, source: Path, change: Callable[[Lines], Lines]
) -> None:
    file = ORDERS if change is change_statuses else GEOLOCATION
    path = source / file.file_name
    load_raw(settings, wh, source)
    wh.execute(f'create table before_load as select * from {RAW}."{file.raw_table}"')
    rewrite(path, change)

    result = result_for(load_raw(settings, wh, source, keep_changes=True), file)

    assert result.changes is not None
    table, listed = f'{RAW}."{file.raw_table}"', ", ".join(file.column_names)
    kept = f"select {listed} from {result.changes} where olist_inserted"
    gone = f"select {listed} from {result.changes} where not olist_inserted"

    def count(sql: str) -> int:
        return int(wh.query(f"select count(*) from ({sql})")[0][0])

    # The kept rows hold the whole difference, both ways, and come from the right side.
    new, old = f"select * from {table}", "select * from before_load"
    assert count(f"{new} except all {old} except all {kept}") == 0
    assert count(f"{old} except all {new} except all {gone}") == 0
    assert count(f"{kept} except all {new}") == 0
    assert count(f"{gone} except all {old}") == 0
    assert result.inserted is not None and result.deleted is not None
    assert count(kept) - count(gone) == result.inserted - result.deleted
    if change is change_statuses:  # no repeated rows: exactly the changed rows
        assert (count(kept), count(gone)) == (result.inserted, result.deleted) == (2, 2)


def test_olist_load_shows_the_change_on_the_console_and_in_json_logs(
    source: Path, tmp_path: Path
) -> None:
    import json

    data = tmp_path / "data"
    assert olist(["load", "--source", str(source)], data).exit_code == 0
    rewrite(source / ORDERS.file_name, lambda lines: lines[:-2])  # two orders gone

    plain = olist(["load", "--source", str(source)], data)
    rewrite(source / ORDERS.file_name, lambda lines: lines[:-1])
    logged = olist(["--log-format", "json", "load", "--source", str(source)], data)

    assert plain.exit_code == 0 and logged.exit_code == 0, plain.output + logged.output
    (line,) = [x for x in plain.output.splitlines() if " orders_raw " in x]
    assert " loaded " in line and line.endswith("  +0 -2")
    events = [json.loads(x) for x in logged.output.splitlines() if x.startswith("{")]
    (event,) = [e for e in events if e.get("table") == "orders_raw"]
    assert (event["status"], event["inserted"], event["deleted"]) == ("loaded", 0, 1)


def test_the_counts_are_the_multiset_difference_of_the_two_files(
    settings: Settings, wh: DuckDBWarehouse, source: Path
) -> None:
    """Many kinds of change at once, counted independently with EXCEPT ALL on fresh loads."""
    path = source / GEOLOCATION.file_name
    load_raw(settings, wh, source)
    wh.load_csv(f"{FRESH}_before", GEOLOCATION.raw_table, path, GEOLOCATION.columns)
    rewrite(path, lambda lines: reorder(fewer_copies(more_copies(lines[7:] + lines[:3]))))

    result = result_for(load_raw(settings, wh, source), GEOLOCATION)

    load_fresh(wh, GEOLOCATION, path)
    table = GEOLOCATION.raw_table
    assert result.inserted == except_all(wh, table, FRESH, f"{FRESH}_before") > 0
    assert result.deleted == except_all(wh, table, f"{FRESH}_before", FRESH) > 0
    assert "replaced" not in result.message
    assert_equals_fresh_load(wh, GEOLOCATION, path)


def test_a_reordered_file_leaves_the_table_untouched(
    settings: Settings, wh: DuckDBWarehouse, source: Path
) -> None:
    """Not even rewritten: the rows keep their places (a replace would follow the file)."""
    path = source / ORDERS.file_name
    load_raw(settings, wh, source)
    in_place = wh.query(f"select rowid, * from {RAW}.orders_raw order by rowid")
    rewrite(path, reorder)

    result = result_for(load_raw(settings, wh, source), ORDERS)

    assert result.message.endswith(": +0 -0 rows")
    assert wh.query(f"select rowid, * from {RAW}.orders_raw order by rowid") == in_place


def test_the_adapter_returns_the_row_count_and_the_change(
    wh: DuckDBWarehouse, source: Path
) -> None:
    path = source / ORDERS.file_name
    counts: list[int] = []
    created = wh.load_csv(RAW, "orders_raw", path, ORDERS.columns, before_commit=counts.append)
    rewrite(path, lambda lines: change_statuses(insert_orders(lines)))

    loaded = wh.load_csv(RAW, "orders_raw", path, ORDERS.columns, before_commit=counts.append)

    assert isinstance(loaded, LoadedRows)
    assert (created.inserted, created.deleted, created.replaced) == (None, None, True)
    assert (loaded.inserted, loaded.deleted, loaded.replaced) == (5, 2, False)
    assert loaded.rows == created.rows + 3 == wh.row_count(RAW, "orders_raw")
    # before_commit gets a plain int: it goes into SQL parameters as one.
    assert counts == [created.rows, loaded.rows] and all(type(n) is int for n in counts)


def test_a_table_edited_by_hand_is_put_right_by_the_next_changed_file(
    settings: Settings, wh: DuckDBWarehouse, source: Path
) -> None:
    """The difference is taken with the table, not with the file loaded before."""
    path = source / ORDERS.file_name
    load_raw(settings, wh, source)
    wh.execute(f"update {RAW}.orders_raw set order_status = 'lost' where rowid < 5")
    wh.execute(f"delete from {RAW}.orders_raw where rowid between 5 and 6")
    rewrite(path, insert_orders)

    result = result_for(load_raw(settings, wh, source), ORDERS)

    assert (result.inserted, result.deleted) == (3 + 5 + 2, 5)
    assert_equals_fresh_load(wh, ORDERS, path)


def test_most_rows_changed_rewrites_the_table_and_still_counts_the_change(
    settings: Settings, wh: DuckDBWarehouse, source: Path
) -> None:
    path = source / ORDERS.file_name
    first = result_for(load_raw(settings, wh, source), ORDERS)
    # Every order's status changes: rewriting beats deleting and inserting every row.
    rewrite(path, lambda lines: [with_field(x, ORDER_STATUS, "lost") for x in lines])

    result = result_for(load_raw(settings, wh, source), ORDERS)

    assert (result.inserted, result.deleted) == (first.rows, first.rows)
    assert result.message == (
        f"changed (md5 was {first.md5}): replaced, +{first.rows:,} -{first.rows:,} rows"
    )
    assert_equals_fresh_load(wh, ORDERS, path)
    assert temporary_tables(wh) == []


def test_a_table_of_other_types_is_replaced_not_compared(
    settings: Settings, wh: DuckDBWarehouse, source: Path
) -> None:
    path = source / ORDERS.file_name
    first = result_for(load_raw(settings, wh, source), ORDERS)
    wh.execute(f"alter table {RAW}.orders_raw alter order_approved_at type VARCHAR")
    rewrite(path, insert_orders)

    result = result_for(load_raw(settings, wh, source), ORDERS)

    assert result.message == f"changed (md5 was {first.md5}): replaced"
    assert (result.inserted, result.deleted) == (None, None)
    assert dict(wh.columns(RAW, "orders_raw"))["order_approved_at"] == "TIMESTAMP"
    assert_equals_fresh_load(wh, ORDERS, path)


def test_force_replaces_the_table_whole(
    settings: Settings, wh: DuckDBWarehouse, source: Path
) -> None:
    """The way out for a hand-edited table whose file did not change: it is skipped."""
    load_raw(settings, wh, source)
    wh.execute(f"update {RAW}.orders_raw set order_status = 'lost' where rowid < 5")
    rewrite(source / GEOLOCATION.file_name, more_copies)

    unforced = load_raw(settings, wh, source)
    forced = load_raw(settings, wh, source, force=True)

    assert result_for(unforced, ORDERS).status == "skipped"
    assert all(r.message == "forced: replaced" for r in forced)
    assert all((r.inserted, r.deleted) == (None, None) for r in forced)
    assert_equals_fresh_load(wh, ORDERS, source / ORDERS.file_name)
    assert_equals_fresh_load(wh, GEOLOCATION, source / GEOLOCATION.file_name)


# -- a bad changed file --------------------------------------------------------------------


def break_a_timestamp(lines: Lines) -> Lines:
    """A valid change first, then a bad value further down."""
    lines = insert_orders(lines)
    i = next(i for i, line in enumerate(lines) if i > 700 and field_of(line, DELIVERED_AT))
    lines[i] = with_field(lines[i], DELIVERED_AT, '"yesterday"')
    return lines


def line_holding(path: Path, text: str) -> int:
    """The number of the first line of the file holding ``text`` (the header is line 1)."""
    with path.open(encoding="utf-8") as handle:
        return next(n for n, line in enumerate(handle, start=1) if text in line)


def test_a_bad_value_leaves_the_table_and_metadata_as_they_were(
    settings: Settings, wh: DuckDBWarehouse, source: Path
) -> None:
    path = source / ORDERS.file_name
    load_raw(settings, wh, source)
    before = snapshot(wh)
    rewrite(path, break_a_timestamp)

    with pytest.raises(LoadError) as on_difference:
        load_raw(settings, wh, source)

    assert snapshot(wh) == before
    assert temporary_tables(wh) == []
    # The same one-line error as a whole-table load of the same file gives.
    with pytest.raises(LoadError) as on_replace:
        load_raw(settings, wh, source, force=True)
    assert str(on_difference.value) == str(on_replace.value)
    assert str(on_difference.value) == (
        f"olist_orders_dataset.csv, line {line_holding(path, 'yesterday')}, column "
        "'order_delivered_customer_date': 'yesterday' is not a TIMESTAMP "
        "(expected YYYY-MM-DD HH:MM:SS)"
    )
    assert snapshot(wh) == before

    # Corrected, the file then loads by difference on the same connection.
    rewrite(path, lambda lines: [x.replace('"yesterday"', '"2018-10-02 10:00:00"') for x in lines])
    result = result_for(load_raw(settings, wh, source), ORDERS)
    assert (result.inserted, result.deleted) == (4, 1)
    assert_equals_fresh_load(wh, ORDERS, path)


def break_a_latitude(lines: Lines) -> Lines:
    lines = more_copies(lines)
    lines[-3] = with_field(lines[-3], 1, "abc")
    return lines


def test_a_bad_value_inside_a_callers_transaction_rolls_it_all_back(
    settings: Settings, wh: DuckDBWarehouse, source: Path
) -> None:
    """As `olist run-all` loads: inside its transaction, which the error rolls back."""
    load_raw(settings, wh, source)
    before = snapshot(wh)
    rewrite(source / ORDERS.file_name, insert_orders)  # loaded by difference, then undone
    rewrite(source / GEOLOCATION.file_name, break_a_latitude)

    with pytest.raises(LoadError, match="'abc' is not a FLOAT64"), wh.transaction():
        load_raw(settings, wh, source)

    assert snapshot(wh) == before
    assert temporary_tables(wh) == []
