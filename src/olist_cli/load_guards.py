"""Checks that keep a raw load from losing rows where the warehouse's reader would not say so.

- **The last record.** DuckDB's CSV reader (1.x to 2.0) drops a last record longer than
  its read buffer without an error: a header followed by one 170 MB line loads as 0
  rows. Any other record longer than its ``max_line_size`` is an error, and a quoted
  value left open is one too. Records are capped at MAX_RECORD_CHARS (10 MB), a third of
  the smallest buffer the loader gives DuckDB (32 MiB), so proving that the last record
  is within the cap is enough (see ``check_last_record``), and it is cheap: the file's
  tail is read backwards to the line break that ends the record before it (one 64 KiB
  read for any real file).
- **Rows that vanish.** Belt and braces for any other way to lose them: a file holding
  something after its header that loads as no rows is an error.
- **Shrinking tables.** A table that would lose more than OLIST_LOAD_MAX_SHRINK of its
  rows, or all of them, is refused unless the run allows it (``--allow-shrink``): a
  truncated export, a header-only file or the wrong folder looks exactly like that.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from olist_cli.dataset import SourceFile
from olist_cli.errors import LoadError
from olist_cli.warehouse.csv_values import MAX_RECORD_CHARS, find_bad_record, too_long

_CHUNK = 64 * 1024
_LINE_BREAKS = b"\r\n"
_QUOTE = b'"'


def check_last_record(path: Path, source: SourceFile) -> None:
    """Raise LoadError unless the file's last record is at most MAX_RECORD_CHARS bytes.

    A line break ends a record only outside quotes. The files quote with '"' and escape
    it by doubling, so a line break is outside quotes when an even number of quote
    characters follows it: counted backwards from the end, no earlier part of the file
    is needed. Why that is enough: a last record without a quoted value spanning lines
    is one physical line, found exactly (stray quotes in it that make the count odd only
    send the scan further back, past the cap, to an error); one with such a value that
    outgrows the buffer, DuckDB refuses itself (as an unterminated quote).
    """
    with path.open("rb") as handle:
        end = _end_of_data(handle)
        if _last_record_start(handle, end, MAX_RECORD_CHARS) is not None:
            return
        # The error path: find where the record starts, and say which line that is.
        quotes, _ = _count(handle, end)
        start = _last_record_start(handle, end, None) if quotes % 2 == 0 else None
        if start:
            _, line_breaks = _count(handle, start)
            raise LoadError(f"{path.name}, {too_long(line_breaks + 1, end - start)}")
    found = find_bad_record(path, source.columns)  # a quote never closed: the reader's way
    if found is not None:
        raise LoadError(f"{path.name}, {found}")
    raise LoadError(
        f"{path.name}: the last record is longer than {MAX_RECORD_CHARS:,} bytes, or a quote "
        "in it is never closed"
    )


def first_data_line(path: Path) -> int | None:
    """The line of the first byte after the header that is not a line break; None if
    there is none (a header-only file, or one followed by blank lines)."""
    line = 2
    with path.open("rb") as handle:
        handle.readline()  # the header, checked (and at most 64 KiB) before any load
        while chunk := handle.read(_CHUNK):
            data = chunk.lstrip(_LINE_BREAKS)
            if data:
                return line + chunk[: len(chunk) - len(data)].count(b"\n")
            line += chunk.count(b"\n")
    return None


def check_shrink(
    source: SourceFile, before: int | None, after: int, *, max_shrink: float, allowed: bool
) -> None:
    """Raise LoadError if the raw table would lose all its rows, or more than ``max_shrink``
    of them (a share), unless ``allowed``. A first load (no table, or an empty one) never
    shrinks."""
    if allowed or not before or after >= before:
        return
    fix = "the table is unchanged; if the file is right, run again with --allow-shrink"
    if after == 0:
        raise LoadError(
            f"{source.file_name}: would empty {source.raw_table} ({before:,} rows now, 0 in "
            f"the file); {fix}"
        )
    if before - after > max_shrink * before:
        lost = (before - after) / before
        raise LoadError(
            f"{source.file_name}: would shrink {source.raw_table} from {before:,} to "
            f"{after:,} rows ({lost:.1%} fewer, more than OLIST_LOAD_MAX_SHRINK={max_shrink:g}); "
            f"{fix}"
        )


def _end_of_data(handle: BinaryIO) -> int:
    """The offset just after the last byte that is not a line break (trailing blank lines,
    which the reader skips, end no record)."""
    end = handle.seek(0, os.SEEK_END)
    while end > 0:
        lo = max(0, end - _CHUNK)
        handle.seek(lo)
        kept = handle.read(end - lo).rstrip(_LINE_BREAKS)
        if kept:
            return lo + len(kept)
        end = lo
    return 0


def _last_record_start(handle: BinaryIO, end: int, limit: int | None) -> int | None:
    """The offset where the last record (ending at ``end``) starts: just after the last line
    break with an even number of quotes after it, or 0. None if it starts more than
    ``limit`` bytes before ``end``."""
    quotes = 0  # between the line break looked at and ``end``
    hi = end
    while hi > 0:
        if limit is not None and end - hi > limit:
            return None
        lo = max(0, hi - _CHUNK)
        handle.seek(lo)
        chunk = handle.read(hi - lo)
        cut = len(chunk)
        while cut >= 0:
            line_break = chunk.rfind(b"\n", 0, cut)
            quotes += chunk.count(_QUOTE, line_break + 1, cut)
            if line_break >= 0 and quotes % 2 == 0:
                start = lo + line_break + 1
                return start if limit is None or end - start <= limit else None
            cut = line_break
        hi = lo
    return 0 if limit is None or end <= limit else None


def _count(handle: BinaryIO, end: int) -> tuple[int, int]:
    """(quote characters, line breaks) in the first ``end`` bytes of the file."""
    handle.seek(0)
    quotes = line_breaks = 0
    left = end
    while left > 0 and (chunk := handle.read(min(left, 1024 * 1024))):
        left -= len(chunk)
        quotes += chunk.count(_QUOTE)
        line_breaks += chunk.count(b"\n")
    return quotes, line_breaks
