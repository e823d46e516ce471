"""Query parameters for BigQuery: the pipeline's `?` placeholders, typed from Python values.

GoogleSQL accepts `?` positional parameters as they are, so the SQL shared with DuckDB
needs no rewriting; each value only needs a BigQuery type. Two choices matter:

- A datetime becomes a DATETIME parameter. Timestamps in this project carry no zone
  (the source files have none; the pipeline's own clock values are UTC), and the
  dialect types them DATETIME, so an aware value is converted to UTC and made naive,
  exactly as DuckDB stores it in its TIMESTAMP columns with the session zone in UTC.
- A None is written into the SQL as the literal NULL instead of a parameter: BigQuery
  types every parameter, and a NULL typed STRING cannot go into an INT64 column, while
  the untyped literal goes anywhere. It is a constant, not a value from outside.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any

from google.cloud.bigquery import ScalarQueryParameter


def quote_ident(name: str) -> str:
    """A column or table name in backticks."""
    return "`" + name.replace("`", "\\`") + "`"


def parameter_type(value: Any) -> str:
    """The BigQuery type of a parameter holding ``value``."""
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, decimal.Decimal):
        return "NUMERIC"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, bytes):
        return "BYTES"
    if isinstance(value, dt.datetime):  # before date: a datetime is a date in Python
        return "DATETIME"
    if isinstance(value, dt.date):
        return "DATE"
    if isinstance(value, dt.time):
        return "TIME"
    raise TypeError(f"no BigQuery parameter type for {type(value).__name__} value {value!r}")


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def placeholders(sql: str) -> list[int]:
    """Offsets of the `?` placeholders, outside quoted strings, identifiers and comments."""
    found: list[int] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"`":
            i += 1
            while i < n and sql[i] != ch:
                i += 2 if sql[i] == "\\" else 1  # backslash escapes, as GoogleSQL reads them
            i += 1
        elif ch == "#" or sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            if ch == "?":
                found.append(i)
            i += 1
    return found


def bind(sql: str, params: Sequence[Any] | None) -> tuple[str, list[ScalarQueryParameter]]:
    """(SQL, positional parameters) for ``params`` given to the `?`s of ``sql`` in order."""
    if not params:
        return sql, []
    offsets = placeholders(sql)
    if len(offsets) != len(params):
        raise ValueError(f"{len(params)} parameters for {len(offsets)} placeholders in: {sql}")
    pieces: list[str] = []
    bound: list[ScalarQueryParameter] = []
    last = 0
    for offset, value in zip(offsets, params, strict=True):
        if value is None:
            pieces += [sql[last:offset], "NULL"]
            last = offset + 1
        else:
            bound.append(ScalarQueryParameter(None, parameter_type(value), _value(value)))
    pieces.append(sql[last:])
    return "".join(pieces), bound
