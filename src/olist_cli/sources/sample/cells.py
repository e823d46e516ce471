"""CSV cells as byte matrices, so a million rows format without a Python loop.

Every formatter returns an ``(n, width)`` ``uint8`` matrix: row ``i`` holds the bytes of
one CSV cell, already quoted where the real files quote it, padded on either side with
NUL bytes. ``join_rows`` lays the matrices side by side with commas and newlines and
drops the NULs: the data never holds a NUL byte, so padding and empty (null) cells
vanish and what is left is the file's bytes.

The quoting rule of the real files: a STRING or TIMESTAMP value is quoted when it starts
with a digit or holds a comma, double quote or newline (quotes doubled inside); numbers
are bare; a null is an empty cell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

Cells = np.ndarray  # (n, width) uint8, NUL-padded

QUOTE = ord('"')
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)

EPOCH_DAY = dt.date(1970, 1, 1)
# Timestamps are formatted from lookup tables of days and seconds-of-day; the day table
# spans every date an order, item deadline or review can carry.
TABLE_FIRST_DAY = dt.date(2016, 1, 1)
TABLE_LAST_DAY = dt.date(2021, 12, 31)
_FIRST = (TABLE_FIRST_DAY - EPOCH_DAY).days
_N_DAYS = (TABLE_LAST_DAY - TABLE_FIRST_DAY).days + 1


def _table(strings: Sequence[bytes]) -> np.ndarray:
    width = max(len(s) for s in strings)
    return np.frombuffer(b"".join(s.ljust(width, b"\0") for s in strings), np.uint8).reshape(
        len(strings), width
    )


_DAY_TABLE = _table(
    [(TABLE_FIRST_DAY + dt.timedelta(days=i)).isoformat().encode() for i in range(_N_DAYS)]
)
_TWO_DIGITS = _table([b"%02d" % i for i in range(100)])


def _time_table() -> np.ndarray:
    """``HH:MM:SS`` of every second of the day, from _TWO_DIGITS (no loop over 86,400)."""
    second = np.arange(86400)
    colon = np.full((86400, 1), ord(":"), np.uint8)
    hh, mm, ss = (_TWO_DIGITS[x] for x in (second // 3600, second // 60 % 60, second % 60))
    return np.hstack([hh, colon, mm, colon, ss])


_TIME_TABLE = _time_table()


def quote_text(value: str | None) -> bytes:
    """One value of a STRING column as its CSV cell bytes (empty for null)."""
    if value is None:
        return b""
    raw = value.encode("utf-8")
    if raw[:1].isdigit() or any(c in value for c in ',"\n\r'):
        return b'"' + raw.replace(b'"', b'""') + b'"'
    return raw


def text_pool(values: Sequence[str | None]) -> Cells:
    """Pre-format a small vocabulary once; ``pool[idx]`` is then a cell matrix."""
    return _table([quote_text(v) for v in values] or [b""])


def hex_ids(raw: np.ndarray) -> Cells:
    """32-hex-digit ids from ``(n, 16)`` random bytes, quoted when they start with a digit."""
    n = raw.shape[0]
    out = np.zeros((n, 34), dtype=np.uint8)
    out[:, 1:33:2] = _HEX[raw >> 4]
    out[:, 2:34:2] = _HEX[raw & 15]
    quoted = (raw[:, 0] >> 4) < 10
    out[quoted, 0] = QUOTE
    out[quoted, 33] = QUOTE
    return out


def integers(values: np.ndarray, null: np.ndarray | None = None) -> Cells:
    """Non-negative integers, bare; ``null`` marks empty cells."""
    v = np.asarray(values, dtype=np.int64)
    if v.size and v.min() < 0:
        raise ValueError("integers() formats non-negative values only")
    width = len(str(int(v.max()))) if v.size else 1
    out = np.empty((v.shape[0], width), dtype=np.uint8)
    rest = v.copy()
    for col in range(width - 1, -1, -1):
        out[:, col] = _DIGITS[rest % 10]
        rest //= 10
    # Blank the leading zeros: a value with d digits keeps only its last d columns.
    n_digits = np.ones(v.shape[0], dtype=np.int64)
    bound = 10
    for _ in range(1, width):
        n_digits += v >= bound
        bound *= 10
    out[np.arange(width)[None, :] < (width - n_digits)[:, None]] = 0
    if null is not None:
        out[null] = 0
    return out


def money(cents: np.ndarray, null: np.ndarray | None = None) -> Cells:
    """Amounts in cents as ``123.45``: dot, two decimals, no thousands separator."""
    c = np.asarray(cents, dtype=np.int64)
    whole = integers(c // 100)
    out = np.hstack([whole, np.full((c.shape[0], 1), ord("."), np.uint8), _TWO_DIGITS[c % 100]])
    if null is not None:
        out[null] = 0
    return out


def timestamps(seconds: np.ndarray, null: np.ndarray | None = None) -> Cells:
    """Unix seconds as ``"YYYY-MM-DD HH:MM:SS"`` (always quoted: they start with a digit)."""
    s = np.asarray(seconds, dtype=np.int64)
    day = s // 86400 - _FIRST
    if null is not None:
        day = np.where(null, 0, day)
    if day.size and (day.min() < 0 or day.max() >= _N_DAYS):
        raise ValueError("timestamp outside the formatter's day table")
    n = s.shape[0]
    quote = np.full((n, 1), QUOTE, np.uint8)
    space = np.full((n, 1), ord(" "), np.uint8)
    out = np.hstack([quote, _DAY_TABLE[day], space, _TIME_TABLE[s % 86400], quote])
    if null is not None:
        out[null] = 0
    return out


def decimals(values: np.ndarray, places: int) -> Cells:
    """Signed decimals with a fixed number of places, from integers scaled by 10**places."""
    v = np.asarray(values, dtype=np.int64)
    unit = 10**places
    mag = np.abs(v)
    frac = integers(mag % unit + unit)[:, 1:]  # the leading 1 keeps the fraction's zeros
    sign = np.where(v < 0, ord("-"), 0).astype(np.uint8)[:, None]
    dot = np.full((v.shape[0], 1), ord("."), np.uint8)
    return np.hstack([sign, integers(mag // unit), dot, frac])


def join_rows(columns: Sequence[Cells]) -> bytes:
    """The CSV bytes of the rows: cells separated by commas, each row ending in LF."""
    n = columns[0].shape[0]
    if any(cells.shape[0] != n for cells in columns):
        raise ValueError("columns of different lengths")
    # Blocks of rows keep the temporary matrix small and cache-friendly.
    return b"".join(
        _join_block([cells[start : start + _BLOCK] for cells in columns])
        for start in range(0, n, _BLOCK)
    )


_BLOCK = 65536


def _join_block(columns: Sequence[Cells]) -> bytes:
    n = columns[0].shape[0]
    comma = np.full((n, 1), ord(","), np.uint8)
    newline = np.full((n, 1), ord("\n"), np.uint8)
    parts: list[np.ndarray] = []
    for cells in columns:
        parts += [cells, comma]
    parts[-1] = newline
    flat = np.hstack(parts).ravel()
    return flat[flat != 0].tobytes()


def header(names: Sequence[str]) -> bytes:
    """The header line of the real files: every name double-quoted."""
    return (",".join(f'"{name}"' for name in names) + "\n").encode()
