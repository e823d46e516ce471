"""Turn DuckDB's CSV reader errors into one line a person can act on: file, line, column.

DuckDB says "CSV Error on Line: N", but N counts records (the header is record 1), not
the physical lines an editor shows: every quoted review holding newlines shifts later
lines. So the record is located again with Python's csv module, which counts physical
lines, and the bad value is read from the file itself. This runs only after a load has
failed, so reading the file once more in Python costs nothing on the normal path.

Errors that name no record (a value the load's SQL refused, a cast that overflowed, a
record longer than the parallel reader's buffer) are located by reading the file from
the start with the same rules (``csv_values.find_bad_record``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

from olist_cli.dataset import Column, ColumnType
from olist_cli.errors import LoadError
from olist_cli.warehouse.csv_values import (
    MAX_RECORD_CHARS,
    REFUSED,
    find_bad_record,
    show,
    too_long,
)

_RECORD = re.compile(r"CSV Error on Line: (\d+)")
_CONVERT = re.compile(
    r'Error when converting column "(?P<column>[^"\n]+)"\. '
    r'Could not convert string "(?P<value>.*)" to \'',
)
_FIELD_COUNT = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
_BARE_FIELD = re.compile(r"[^,\r\n]*")
_UNTERMINATED = "unterminated quote"
_BAD_UNICODE = "Invalid unicode"
_TOO_LONG = re.compile(r"Maximum line size of \d+ bytes exceeded\. Actual Size:\s*(\d+) bytes")
# Messages of errors that name no record: the file is read from its start to find it.
_UNPLACED = (
    REFUSED,
    "Conversion Error",  # a cast in the load's SQL: an integer out of range
    "does not support a full read on this file",  # a record longer than the read buffer
)
_HINTS = {ColumnType.TIMESTAMP: " (expected YYYY-MM-DD HH:MM:SS)"}


def csv_load_error(path: Path, columns: Sequence[Column], message: str) -> LoadError:
    """A LoadError naming the file, the physical line and the column DuckDB rejected."""
    name = path.name
    record_match = _RECORD.search(message)
    if record_match is None:
        return _unplaced_error(path, columns, message)
    record = int(record_match.group(1))
    try:
        located = _locate(path, record)
    except (OSError, csv.Error):
        located = None
    if located is None:  # cannot re-read the file: fall back on DuckDB's record number
        return LoadError(f"{name}, record {record}: {_detail(message)}")
    start_line, fields, text = located

    def line_of(index: int) -> int:
        # The line a field starts on: the record's first line plus the newlines before it.
        return start_line + sum(f.count("\n") for f in (fields or [])[:index])

    names = [c.name for c in columns]
    convert = _CONVERT.search(message)
    if convert is not None and convert.group("column") in names:
        column = convert.group("column")
        index = names.index(column)
        value = fields[index] if fields and index < len(fields) else convert.group("value")
        ctype = columns[index].type
        article = "an" if ctype.value[0] in "AEIOU" else "a"
        return LoadError(
            f"{name}, line {line_of(index)}, column '{column}': "
            f"{show(value)} is not {article} {ctype.value}{_HINTS.get(ctype, '')}"
        )
    count = _FIELD_COUNT.search(message)
    if count is not None:
        expected, found = int(count.group(1)), int(count.group(2))
        if found > expected:
            extra = fields[expected] if fields and len(fields) > expected else ""
            return LoadError(
                f"{name}, line {line_of(expected)}: {found} fields, expected {expected}; "
                f"unexpected extra field {show(extra)} after column '{names[-1]}'"
            )
        missing = names[found] if found < len(names) else names[-1]
        return LoadError(
            f"{name}, line {line_of(found)}: {found} fields, expected {expected}; "
            f"missing column '{missing}'"
        )
    if _UNTERMINATED in message:
        unclosed = _unclosed_quote(text)
        if unclosed is not None and unclosed[0] < len(names):
            index, newlines = unclosed
            return LoadError(
                f"{name}, line {start_line + newlines}, column '{names[index]}': "
                "unterminated quote (a quoted value must end with '\"' followed by ',' "
                "or the end of the line)"
            )
        return LoadError(f"{name}, line {start_line}: unterminated quote")
    if _BAD_UNICODE in message:
        return LoadError(f"{name}, line {start_line}: not valid UTF-8 text")
    too_long_match = _TOO_LONG.search(message)
    if too_long_match is not None:
        return LoadError(f"{name}, {too_long(start_line, int(too_long_match.group(1)))}")
    return LoadError(f"{name}, line {start_line}: {_detail(message)}")


def _unplaced_error(path: Path, columns: Sequence[Column], message: str) -> LoadError:
    """The first bad record of the file, for an error that names none; else DuckDB's words."""
    name = path.name
    if not any(marker in message for marker in _UNPLACED):
        return LoadError(f"{name}: {_first_line(message)}")
    try:
        found = find_bad_record(path, columns)
    except OSError:
        found = None
    if found is not None:
        return LoadError(f"{name}, {found}")
    refused = message.find(REFUSED)
    if refused >= 0:  # the file changed since, or Python reads it otherwise: name the column
        column = message[refused + len(REFUSED) :].splitlines()[0].strip()
        return LoadError(f"{name}, column '{column}': a value does not fit its type exactly")
    if "full read" in message:
        return LoadError(
            f"{name}: a record is longer than the reader's buffer (records may hold at most "
            f"{MAX_RECORD_CHARS:,} bytes)"
        )
    return LoadError(f"{name}: {_first_line(message)}")


def _locate(path: Path, record: int) -> tuple[int, list[str] | None, str] | None:
    """(first physical line, parsed fields, raw text from that line) of record ``record``.

    Records before it are valid (DuckDB stopped at this one), so Python's csv module
    splits them exactly as DuckDB did; ``line_num`` counts the physical lines read.
    """
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        for _ in range(record - 1):
            if next(reader, None) is None:
                return None
        start_line = reader.line_num + 1
        # The reader pulls one line at a time, so the handle now sits at the record.
        text = handle.read(MAX_RECORD_CHARS)
    try:
        fields = next(csv.reader(io.StringIO(text, newline="")), None)
    except csv.Error:
        fields = None
    return start_line, fields, text


def _unclosed_quote(text: str) -> tuple[int, int] | None:
    """(field index, newlines before its opening quote) of the first badly quoted field.

    A quoted field must close with '"' followed by ',' or the end of the line; a closing
    quote followed by anything else means the real closing quote is missing.
    """
    field, pos, end = 0, 0, len(text)
    while pos < end:
        if text[pos] == '"':
            opening = pos
            pos += 1
            while True:
                pos = text.find('"', pos)
                if pos < 0:
                    return field, text.count("\n", 0, opening)
                if text.startswith('""', pos):  # an escaped quote inside the value
                    pos += 2
                    continue
                break
            pos += 1
            if pos < end and text[pos] not in ",\r\n":
                return field, text.count("\n", 0, opening)
        else:
            bare = _BARE_FIELD.match(text, pos)  # matches always, if only an empty field
            pos = bare.end() if bare else end
        if pos >= end or text[pos] in "\r\n":
            return None  # the record ended without a quoting problem
        field += 1
        pos += 1
    return None


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "unknown error"


def _detail(message: str) -> str:
    """DuckDB's own explanation: the line just before its blank line or 'Possible fixes'."""
    lines = message.strip().splitlines()
    for index, line in enumerate(lines[2:], start=2):
        if not line.strip() or line.startswith("Possible"):
            return lines[index - 1].strip()
    return _first_line(message)
