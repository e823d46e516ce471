"""Loads that cannot silently lose or change rows, each refusal through the real CLI.

Every case used to exit 0 with fewer or different rows. Each now exits 1 with one line
naming the file, the physical line and the column where there is one, and leaves every
raw table and `_load_metadata` exactly as they were. The files are the byte-exact
fixtures of tests/fixtures/raw (payments: 6 rows; the translation file: 71 rows, BOM,
CRLF, no final line break); the warehouse is a real DuckDB file.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from bigquery_emulator import Emulator, bigquery_emulator  # noqa: F401  (the fixture)
from helpers import olist
from olist_cli.dataset import PAYMENTS, SELLERS, SOURCE_FILES, TRANSLATION
from olist_cli.errors import EXIT_FAILURE
from olist_cli.load_guards import first_data_line

if TYPE_CHECKING:
    from typer.testing import Result

FIXTURES = Path(__file__).parent / "fixtures" / "raw"
RAW = "staging"
PAYMENTS_FILE = PAYMENTS.file_name
MB = 1_000_000

Snapshot = dict[str, list[tuple[Any, ...]]]


@dataclass
class Loaded:
    source: Path  # a copy of the fixtures, loaded once
    data: Path

    def load(self, *args: str, **env: str) -> Result:
        return olist(["load", "--source", str(self.source), *args], self.data, **env)

    def snapshot(self) -> Snapshot:
        return snapshot(self.data)


def snapshot(data: Path) -> Snapshot:
    """Every row of every raw table and of _load_metadata, in a stable order."""
    with duckdb.connect(str(data / "olist.duckdb"), read_only=True) as con:
        present = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = ?", [RAW]
        ).fetchall()}  # fmt: skip
        tables = [s.raw_table for s in SOURCE_FILES] + ["_load_metadata"]
        return {
            t: sorted(con.execute(f'select * from {RAW}."{t}"').fetchall(), key=repr)
            for t in tables
            if t in present
        }


def rows(data: Path, table: str) -> list[tuple[Any, ...]]:
    return snapshot(data)[table]


def refusal(result: Result) -> str:
    """The one-line error of a run that failed as it should: exit 1, no traceback."""
    assert result.exit_code == EXIT_FAILURE, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0].removeprefix("error: ")


@pytest.fixture
def fresh(tmp_path: Path) -> Loaded:
    source = tmp_path / "raw"
    shutil.copytree(FIXTURES, source)
    return Loaded(source, tmp_path / "data")


@pytest.fixture
def loaded(fresh: Loaded) -> Loaded:
    result = fresh.load()
    assert result.exit_code == 0, result.output
    return fresh


def edit(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert data.count(old) == 1, f"{old!r} must occur once in {path.name}"
    path.write_bytes(data.replace(old, new))


def header(path: Path) -> bytes:
    return path.read_bytes().split(b"\n", 1)[0] + b"\n"


# -- 1. a file whose rows cannot all be read ----------------------------------------------

LONG_FIELD = b"y"  # an unquoted order_id of the given length, then the other four fields
REST = b",1,credit_card,8,99.33"


def long_record(size: int) -> bytes:
    return LONG_FIELD * size + REST


def test_one_long_record_after_the_header_is_refused_not_loaded_as_no_rows(
    fresh: Loaded,
) -> None:
    """DuckDB read this first load (160 MB buffer) as an empty table, exit 0."""
    path = fresh.source / PAYMENTS_FILE
    path.write_bytes(header(path) + long_record(170 * MB))  # no final line break

    message = refusal(fresh.load())

    assert message == (
        f"{PAYMENTS_FILE}, line 2: a record of 170,000,022 bytes, longer than the 10,000,000 "
        "bytes a record may hold (no Olist record is near that)"
    )
    # The tail of every file is read before any table changes: nothing was loaded.
    assert snapshot(fresh.data) == {}


@pytest.mark.parametrize(
    ("keep_rows", "line"),
    [pytest.param(False, 2, id="header-then-long-record"), pytest.param(True, 8, id="rows-then")],
)
def test_a_long_last_record_is_refused_on_a_changed_file(
    loaded: Loaded, keep_rows: bool, line: int
) -> None:
    """Compared with its table (32 MiB buffer), the file used to lose its last record: the
    table kept only the rows before it (or none), exit 0."""
    before = loaded.snapshot()
    path = loaded.source / PAYMENTS_FILE
    kept = path.read_bytes() if keep_rows else header(path)
    path.write_bytes(kept + long_record(40 * MB) + b"\n\n")  # trailing blank lines end nothing

    message = refusal(loaded.load())

    assert message == (
        f"{PAYMENTS_FILE}, line {line}: a record of 40,000,022 bytes, longer than the "
        "10,000,000 bytes a record may hold (no Olist record is near that)"
    )
    assert loaded.snapshot() == before


@pytest.mark.parametrize("first_load", [True, False], ids=["first-load", "changed-file"])
def test_a_long_record_in_the_middle_is_named_by_its_line(fresh: Loaded, first_load: bool) -> None:
    """A changed file used to fail with DuckDB's raw 'Not implemented Error: The Parallel
    CSV Reader currently does not support a full read on this file'."""
    if not first_load:
        assert fresh.load().exit_code == 0
    before = snapshot(fresh.data) if not first_load else None
    path = fresh.source / PAYMENTS_FILE
    data = path.read_bytes()
    path.write_bytes(data + long_record(40 * MB) + b"\n" + data.split(b"\n", 1)[1])

    message = refusal(fresh.load())

    assert message.startswith(f"{PAYMENTS_FILE}, line 8: a record ")
    assert "longer than the 10,000,000 bytes a record may hold" in message
    if before is not None:
        assert snapshot(fresh.data) == before


def test_a_quoted_record_spanning_lines_is_measured_whole(loaded: Loaded) -> None:
    """Line breaks inside quotes do not end a record: 12 MB of short quoted lines at the end
    are one record."""
    before = loaded.snapshot()
    path = loaded.source / PAYMENTS_FILE
    value = b'"' + b"review line\n" * 1_000_000 + b'"'
    path.write_bytes(path.read_bytes() + value + REST + b"\n")

    message = refusal(loaded.load())

    assert message.startswith(f"{PAYMENTS_FILE}, line 8: a record of 12,000,024 bytes, longer")
    assert loaded.snapshot() == before


def test_a_file_with_rows_that_loads_as_none_is_an_error(tmp_path: Path) -> None:
    """The last guard, for any other way a reader could lose every row: a file with
    anything but line breaks after its header is not an empty file."""
    path = tmp_path / PAYMENTS_FILE
    path.write_bytes(b"h\r\n\r\n\n")
    assert first_data_line(path) is None
    path.write_bytes(b"h\n\n" + b"\r\n" * 100_000 + b" \n")
    assert first_data_line(path) == 100_003


# -- 2. values that do not fit their type exactly -----------------------------------------

PAYMENT_LINE = b"53cdb2fc8bc7dce0b6741e2150273451"
VALUES = [
    pytest.param(
        PAYMENTS_FILE,
        b'"53cdb2fc8bc7dce0b6741e2150273451",1,boleto,1,',
        b'"53cdb2fc8bc7dce0b6741e2150273451",1,boleto,1.5,',
        f"{PAYMENTS_FILE}, line 5, column 'payment_installments': '1.5' is not an INT64 "
        "(expected a whole number)",
        id="fraction-in-an-integer",
    ),
    pytest.param(
        PAYMENTS_FILE,
        b"f88197465ea7920adcdbec7375364d82,2,",
        b"f88197465ea7920adcdbec7375364d82,1e3,",
        f"{PAYMENTS_FILE}, line 7, column 'payment_sequential': '1e3' is not an INT64 "
        "(expected a whole number)",
        id="exponent-in-an-integer",
    ),
    pytest.param(
        PAYMENTS_FILE,
        b"141.46",
        b"141.999",
        f"{PAYMENTS_FILE}, line 5, column 'payment_value': '141.999' has more than 2 decimal "
        "places (a NUMERIC holds cents)",
        id="third-decimal-in-money",
    ),
    pytest.param(
        PAYMENTS_FILE,
        b"358.24",
        b"99999999999999999.00",
        f"{PAYMENTS_FILE}, line 6, column 'payment_value': '99999999999999999.00' is too "
        "large for a NUMERIC (at most 16 digits before the point)",
        id="money-too-large",
    ),
    pytest.param(
        PAYMENTS_FILE,
        b",credit_card,8,",
        b",credit_card,99999999999999999999,",
        f"{PAYMENTS_FILE}, line 7, column 'payment_installments': '99999999999999999999' is "
        "out of the INT64 range",
        id="integer-out-of-range",
    ),
    pytest.param(
        SELLERS.file_name,
        b"campinas",
        b"camp\x00inas",
        f"{SELLERS.file_name}, line 2, column 'seller_city': 'camp\\0inas' holds a NUL byte",
        id="nul-in-text",
    ),
    pytest.param(
        "olist_order_reviews_dataset.csv",
        b"recomendo",
        b"recomen\x00do",
        "olist_order_reviews_dataset.csv, line 7, column 'review_comment_title': "
        "'recomen\\0do' holds a NUL byte",
        id="nul-in-text-after-a-three-line-review",
    ),
]


@pytest.mark.parametrize(("file_name", "old", "new", "message"), VALUES)
@pytest.mark.parametrize("first_load", [True, False], ids=["first-load", "changed-file"])
def test_a_value_its_type_would_change_is_refused(
    fresh: Loaded, first_load: bool, file_name: str, old: bytes, new: bytes, message: str
) -> None:
    """DuckDB stored 2 for 1.5, 1000 for 1e3, 142.00 for 141.999, and the NUL byte."""
    if not first_load:
        assert fresh.load().exit_code == 0
    before = snapshot(fresh.data) if not first_load else {"_load_metadata": []}
    edit(fresh.source / file_name, old, new)

    assert refusal(fresh.load()) == message
    if first_load:  # the files before it loaded, each valid, with its metadata row
        table = next(s.raw_table for s in SOURCE_FILES if s.file_name == file_name)
        assert table not in snapshot(fresh.data)
    else:
        assert snapshot(fresh.data) == before


def test_exact_values_written_unusually_load_as_they_are(loaded: Loaded) -> None:
    path = loaded.source / PAYMENTS_FILE
    edit(path, b"voucher,1,2.00", b"voucher,+1,2.000")  # a sign, a trailing zero: exact
    edit(path, b"358.24", b".5")

    assert loaded.load().exit_code == 0
    payments = rows(loaded.data, "payments_raw")
    assert ("e481f51cbdc54678b7cc49136f2d6af7", 3, "voucher", 1, Decimal("2.00")) in payments
    assert any(p[4] == Decimal("0.50") for p in payments)


# -- 3. tables that would shrink sharply ---------------------------------------------------


def without_rows(path: Path, count: int) -> None:
    """Drop the last ``count`` records of a file whose values hold no line break."""
    data = path.read_bytes()
    ending = b"\r\n" if b"\r\n" in data else b"\n"
    lines = data.rstrip(ending).split(ending)
    path.write_bytes(ending.join(lines[: len(lines) - count]) + ending)


def test_a_header_only_file_never_empties_a_table_without_allow_shrink(loaded: Loaded) -> None:
    before = loaded.snapshot()
    path = loaded.source / PAYMENTS_FILE
    path.write_bytes(header(path))

    assert refusal(loaded.load()) == (
        f"{PAYMENTS_FILE}: would empty payments_raw (6 rows now, 0 in the file); the table is "
        "unchanged; if the file is right, run again with --allow-shrink"
    )
    assert loaded.snapshot() == before
    # Even when the setting allows any share: emptying a table takes the option.
    assert "would empty payments_raw" in refusal(loaded.load(OLIST_LOAD_MAX_SHRINK="1"))

    allowed = loaded.load("--allow-shrink")

    assert allowed.exit_code == 0, allowed.output
    assert rows(loaded.data, "payments_raw") == []
    latest = max(rows(loaded.data, "_load_metadata"), key=lambda r: r[7])  # finished_at
    assert (latest[1], latest[5]) == ("payments_raw", 0)


def test_a_sharp_shrink_is_refused_and_a_small_one_accepted(loaded: Loaded) -> None:
    path = loaded.source / TRANSLATION.file_name
    table = TRANSLATION.raw_table
    original = path.read_bytes()
    before = loaded.snapshot()

    without_rows(path, 10)  # 71 → 61 rows: 14.1%, over the default 10%
    assert refusal(loaded.load()) == (
        f"{TRANSLATION.file_name}: would shrink {table} from 71 to 61 rows (14.1% fewer, more "
        "than OLIST_LOAD_MAX_SHRINK=0.1); the table is unchanged; if the file is right, run "
        "again with --allow-shrink"
    )
    assert loaded.snapshot() == before

    path.write_bytes(original)
    without_rows(path, 5)  # 71 → 66: 7.0%
    assert loaded.load().exit_code == 0
    assert len(rows(loaded.data, table)) == 66


def test_the_setting_moves_the_threshold(loaded: Loaded) -> None:
    path = loaded.source / TRANSLATION.file_name
    table = TRANSLATION.raw_table
    without_rows(path, 5)  # 7.0%
    before = loaded.snapshot()

    message = refusal(loaded.load(OLIST_LOAD_MAX_SHRINK="0.05"))
    assert "from 71 to 66 rows (7.0% fewer, more than OLIST_LOAD_MAX_SHRINK=0.05)" in message
    assert loaded.snapshot() == before

    without_rows(path, 5)  # 71 → 61: 14.1%
    assert loaded.load(OLIST_LOAD_MAX_SHRINK="0.2").exit_code == 0
    assert len(rows(loaded.data, table)) == 61


def test_a_forced_reload_is_guarded_too(loaded: Loaded) -> None:
    """--force replaces the table whole (a different path in the adapter): still checked
    against the table before it changes, and rolled back."""
    before = loaded.snapshot()
    without_rows(loaded.source / PAYMENTS_FILE, 3)

    message = refusal(loaded.load("--force"))

    assert message.startswith(f"{PAYMENTS_FILE}: would shrink payments_raw from 6 to 3 rows")
    # Files before payments were forced in again and committed, each with its new row.
    after = loaded.snapshot()
    assert after["payments_raw"] == before["payments_raw"]
    new_rows = [r for r in after["_load_metadata"] if r not in before["_load_metadata"]]
    assert sorted(r[1] for r in new_rows) == ["customers_raw", "order_items_raw", "orders_raw"]


def test_the_truth_is_the_table_not_its_metadata(loaded: Loaded) -> None:
    """A table refilled by hand shrinks under a file of the rows `_load_metadata` records;
    one emptied by hand does not shrink under an empty file."""
    db = str(loaded.data / "olist.duckdb")
    with duckdb.connect(db) as con:
        con.execute(f"insert into {RAW}.payments_raw select * from {RAW}.payments_raw")
    before = loaded.snapshot()  # 12 rows, though _load_metadata says 6
    edit(loaded.source / PAYMENTS_FILE, b"141.46", b"141.47")  # still 6 rows

    assert "would shrink payments_raw from 12 to 6 rows" in refusal(loaded.load())
    assert loaded.snapshot() == before

    with duckdb.connect(db) as con:
        con.execute(f"delete from {RAW}.payments_raw")
    path = loaded.source / PAYMENTS_FILE
    path.write_bytes(header(path))
    assert loaded.load().exit_code == 0


def test_a_header_only_file_on_a_first_load_is_an_empty_table(fresh: Loaded) -> None:
    path = fresh.source / PAYMENTS_FILE
    path.write_bytes(header(path))

    assert fresh.load().exit_code == 0
    assert rows(fresh.data, "payments_raw") == []


def test_run_all_refuses_a_shrink_and_publishes_nothing(loaded: Loaded) -> None:
    sample = ["run-all", "--source", str(loaded.source)]
    first = olist(sample, loaded.data)
    assert first.exit_code == 0, first.output
    before = loaded.snapshot()
    path = loaded.source / PAYMENTS_FILE
    path.write_bytes(header(path))

    message = refusal(olist(sample, loaded.data))

    assert message.startswith(f"{PAYMENTS_FILE}: would empty payments_raw (6 rows now")
    assert message.endswith("nothing was published, the warehouse is as it was before this run")
    assert loaded.snapshot() == before

    allowed = olist([*sample, "--allow-shrink"], loaded.data)
    assert allowed.exit_code == 0, allowed.output
    assert rows(loaded.data, "payments_raw") == []


# -- 4. zip sources -----------------------------------------------------------------------


def zip_of(path: Path, folder: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for source in SOURCE_FILES:
            zf.write(folder / source.file_name, source.file_name)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def test_a_zip_entry_over_the_cap_is_refused_before_anything_is_unpacked(
    loaded: Loaded, tmp_path: Path
) -> None:
    archive = zip_of(tmp_path / "olist.zip", loaded.source)
    before = loaded.snapshot()
    raw_dir = loaded.data / "raw"

    result = olist(
        ["load", "--source", str(archive)], loaded.data, OLIST_ZIP_MAX_ENTRY_BYTES="2000"
    )

    assert refusal(result) == (
        f"{archive}: entry 'product_category_name_translation.csv' declares 2,613 bytes, more "
        "than OLIST_ZIP_MAX_ENTRY_BYTES=2,000; refusing to unpack it"
    )
    assert not raw_dir.exists() or not any(raw_dir.iterdir())
    assert not [p for p in loaded.data.iterdir() if "unzip" in p.name]
    assert loaded.snapshot() == before
    # The default cap takes the real files.
    assert olist(["load", "--source", str(archive)], loaded.data).exit_code == 0


def test_a_zip_with_too_many_entries_is_refused(loaded: Loaded, tmp_path: Path) -> None:
    extra = {f"notes/{n}.txt": b"x" for n in range(92)}  # 101 entries
    archive = zip_of(tmp_path / "olist.zip", loaded.source, extra)

    result = olist(["load", "--source", str(archive)], loaded.data)

    assert refusal(result) == (
        f"{archive}: 101 entries, more than OLIST_ZIP_MAX_ENTRIES=100; refusing to unpack it"
    )
    assert not (loaded.data / "raw").exists()


# -- the same refusals on BigQuery (local-bigquery) ----------------------------------------


def bigquery_rows(client: Any, dataset: str) -> Snapshot:
    """Every row of every raw table and of _load_metadata on the emulator."""
    present = {t.table_id for t in client.list_tables(dataset)}
    return {
        name: sorted(
            (tuple(r.values()) for r in client.query(f"select * from `{dataset}.{name}`")),
            key=repr,
        )
        for name in [s.raw_table for s in SOURCE_FILES] + ["_load_metadata"]
        if name in present
    }


def test_bigquery_refuses_what_it_would_round_or_shrink(
    bigquery_emulator: Emulator,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The emulator's load job stores 2 for 1.5, 1000 for 1e3, 1.999 for money (BigQuery's
    NUMERIC keeps 9 places), and the NUL byte: each is refused here, with its line, and
    nothing changes; a header-only file is refused until --allow-shrink."""
    source = tmp_path / "raw"
    shutil.copytree(FIXTURES, source)
    env = bigquery_emulator.env(
        OLIST_DATA_DIR=str(tmp_path / "data"), OLIST_RAW_DATASET="refusals_raw"
    )
    client = bigquery_emulator.client()

    def load(*args: str) -> Result:
        return olist(["load", "--source", str(source), *args], **env)

    assert load().exit_code == 0
    before = bigquery_rows(client, "refusals_raw")
    assert len(before["payments_raw"]) == 6
    payments = source / PAYMENTS_FILE
    original = payments.read_bytes()
    for file_name, old, new, message in [v.values for v in VALUES]:
        path = source / file_name
        kept = path.read_bytes()
        edit(path, old, new)
        assert refusal(load()) == message
        assert bigquery_rows(client, "refusals_raw") == before
        path.write_bytes(kept)

    payments.write_bytes(header(payments))
    assert refusal(load()).startswith(f"{PAYMENTS_FILE}: would empty payments_raw (6 rows now")
    assert bigquery_rows(client, "refusals_raw") == before
    assert load("--allow-shrink").exit_code == 0
    assert bigquery_rows(client, "refusals_raw")["payments_raw"] == []
    payments.write_bytes(original)
    assert not [
        t.table_id for t in client.list_tables("refusals_raw") if "__loading_" in t.table_id
    ]
