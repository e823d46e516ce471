"""What a CSV value must look like to load exactly into its column, and where a file breaks it.

Both warehouses' readers round silently: DuckDB casts ``1.5`` to the INT64 2 and
``1.999`` to the money 2.00, the BigQuery emulator does the same to integers, and both
keep NUL bytes inside text. So the loaders read integer and money columns as text and
cast them in SQL that raises where a value would change: the patterns below are that
rule, written once, for the adapters' SQL and for Python. A value that matches its
pattern casts exactly (INT64: a whole number in digits; money: at most 16 digits before
the point, which DECIMAL(18,2) holds, and at most 2 significant decimals). Text may hold
anything but NUL.

After a warehouse refused a file, ``find_bad_record`` reads it once more in Python, with
the same rules, to name the physical line and the column: this runs only on the error
path, so it costs nothing on a good load.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import re
from collections.abc import Sequence
from pathlib import Path

from olist_cli.dataset import Column, ColumnType

# The longest record a file may hold, in bytes (the DuckDB reader's max_line_size): no
# Olist record is near it. It also keeps every record well inside DuckDB's read buffer
# (32 MiB at the smallest), which a longer last record would silently fall out of.
MAX_RECORD_CHARS = 10_000_000

# Full-match patterns, in the syntax RE2 (DuckDB, BigQuery) and Python share.
INT64_PATTERN = r"[+-]?[0-9]+"
NUMERIC_PATTERN = r"[+-]?([0-9]{1,16}(\.[0-9]{0,2}0*)?|\.[0-9]{1,2}0*)"
_INT64 = re.compile(INT64_PATTERN)
_NUMERIC = re.compile(NUMERIC_PATTERN)
_INT64_RANGE = (-(2**63), 2**63 - 1)
NUL = "\x00"

# Marks a value refused by the adapters' SQL (DuckDB's error(), BigQuery's ERROR()),
# followed by the column's name: the error path then reads the file to find the line.
REFUSED = "olist refused a value in column "

DUCKDB_TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S",)
_HINTS = {ColumnType.TIMESTAMP: " (expected YYYY-MM-DD HH:MM:SS)"}


def value_problem(
    value: str,
    type_: ColumnType,
    timestamp_formats: Sequence[str] = DUCKDB_TIMESTAMP_FORMATS,
) -> str | None:
    """Why the non-empty ``value`` cannot load exactly as ``type_`` (None: it can), said
    after the value: ``'1.5' is not an INT64 (expected a whole number)``."""
    shown = show(value)
    if NUL in value:
        return f"{shown} holds a NUL byte"
    if type_ is ColumnType.STRING:
        return None
    if type_ is ColumnType.INT64:
        if _INT64.fullmatch(value):
            if _INT64_RANGE[0] <= int(value) <= _INT64_RANGE[1]:
                return None
            return f"{shown} is out of the INT64 range"
        hint = " (expected a whole number)" if _is_number(value) else ""
        return f"{shown} is not an INT64{hint}"
    if type_ is ColumnType.NUMERIC:
        if _NUMERIC.fullmatch(value):
            return None
        if not _is_number(value):
            return f"{shown} is not a NUMERIC"
        number = decimal.Decimal(value.strip())
        if number.adjusted() >= 16:
            return f"{shown} is too large for a NUMERIC (at most 16 digits before the point)"
        if number.normalize().as_tuple().exponent < -2:  # type: ignore[operator]
            return f"{shown} has more than 2 decimal places (a NUMERIC holds cents)"
        return f"{shown} is not a NUMERIC (expected digits with at most 2 decimal places)"
    if type_ is ColumnType.FLOAT64:
        try:
            float(value)
        except ValueError:
            return f"{shown} is not a FLOAT64"
        return None
    for fmt in timestamp_formats:
        try:
            dt.datetime.strptime(value.strip(), fmt)
            return None
        except ValueError:
            continue
    return f"{shown} is not a TIMESTAMP{_HINTS[ColumnType.TIMESTAMP]}"


def _is_number(value: str) -> bool:
    try:
        return decimal.Decimal(value.strip()).is_finite()
    except decimal.InvalidOperation:
        return False


def find_bad_record(
    path: Path,
    columns: Sequence[Column],
    timestamp_formats: Sequence[str] = DUCKDB_TIMESTAMP_FORMATS,
) -> str | None:
    """``line N, column 'c': 'v' is not an INT64`` for the first bad record, or None.

    Python's csv module follows the same quoting rules as the warehouses' readers (RFC
    4180, quoted newlines allowed) and counts physical lines, so the line is the one an
    editor shows even after reviews that span several lines. Bad: a quote left open, a
    record longer than MAX_RECORD_CHARS, the wrong number of fields, text that is not
    UTF-8, a value ``value_problem`` refuses.
    """
    start = 1
    # Process-wide, and only ever raised: a field may be as long as a record.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_CHARS + 1))
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            next(reader, None)  # the header, checked before any load
            start = reader.line_num + 1
            for record in reader:
                if len(record) != len(columns):
                    what = "missing column" if len(record) < len(columns) else "extra field"
                    return f"line {start}: {len(record)} fields, expected {len(columns)} ({what})"
                size = sum(len(value.encode()) for value in record) + len(record) - 1
                if size > MAX_RECORD_CHARS:
                    return too_long(start, size)
                for column, value in zip(columns, record, strict=True):
                    if value == "":
                        continue
                    problem = value_problem(value, column.type, timestamp_formats)
                    if problem is not None:
                        return f"line {start}, column '{column.name}': {problem}"
                start = reader.line_num + 1
    except UnicodeDecodeError:
        return "not valid UTF-8 text"
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            return too_long(start, None)
        return f"line {start}: {exc} (a quoted value must end with '\"')"
    return None


def too_long(line: int, size: int | None) -> str:
    """``line N: a record of S bytes, longer than the 10,000,000 bytes a record may hold``."""
    of = f" of {size:,} bytes," if size is not None else ""
    return (
        f"line {line}: a record{of} longer than the {MAX_RECORD_CHARS:,} bytes a record may "
        "hold (no Olist record is near that)"
    )


def show(value: str) -> str:
    """A value quoted for a one-line message: line breaks and NULs escaped, long ones cut."""
    shown = value.replace("\r", "\\r").replace("\n", "\\n").replace(NUL, "\\0")
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"'{shown}'"
