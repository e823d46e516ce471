"""BigQuery errors: which ones to retry, and one line a person can act on for the others.

Transient errors (rate limits, backend and internal errors, HTTP 429/5xx, dropped
connections) are retried with exponential backoff up to ``OLIST_BQ_RETRY_DEADLINE_S``.
Everything else fails at once: a query that does not compile, a job out of resources, a
permission missing or a table not found will not get better by asking again.

A failed CSV load is described by file, physical line and column. Real BigQuery names the
field and a byte offset in its errors[] collection; when it does not (or only says "too
many errors"), the file is local and is read once more in Python to find the first value
that does not fit its column, as the DuckDB adapter does. That costs nothing on success.
"""

from __future__ import annotations

import concurrent.futures
import csv
import datetime as dt
import decimal
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

from olist_cli.dataset import Column, ColumnType
from olist_cli.errors import LoadError, OlistError

# Reasons BigQuery gives for failures that may pass on a second try
# (https://cloud.google.com/bigquery/docs/error-messages). A 403 can be a rate limit
# (rateLimitExceeded) as well as a permission problem (accessDenied): the reason decides.
TRANSIENT_REASONS = frozenset(
    {
        "rateLimitExceeded",
        "backendError",
        "internalError",
        "badGateway",
        "jobBackendError",
        "jobInternalError",
        "jobRateLimitExceeded",
    }
)
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    api_exceptions.TooManyRequests,
    api_exceptions.InternalServerError,
    api_exceptions.BadGateway,
    api_exceptions.ServiceUnavailable,
    api_exceptions.GatewayTimeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.Timeout,
    ConnectionError,
    auth_exceptions.TransportError,
)
# A bad certificate is a configuration problem, though requests files it under ConnectionError.
_NEVER_TRANSIENT: tuple[type[BaseException], ...] = (requests.exceptions.SSLError,)

_HINTS = {
    "accessDenied": "; the account needs the BigQuery Data Editor and BigQuery Job User roles",
    "bytesBilledLimitExceeded": "; raise OLIST_BQ_MAXIMUM_BYTES_BILLED if this is expected",
    "resourcesExceeded": "; the query needs more resources than one job may use",
    "quotaExceeded": "; a BigQuery quota is exhausted (see the quotas page of the project)",
}


class BigQueryError(OlistError):
    """A BigQuery job or API call failed, said in one line with the statement it ran."""


def reason(exc: BaseException) -> str | None:
    """BigQuery's reason code (invalidQuery, notFound, backendError, ...) if it gave one."""
    errors = getattr(exc, "errors", None) or []
    first = errors[0] if errors else None
    return first.get("reason") if isinstance(first, dict) else None


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: rate limits, backend errors, 5xx, lost connections."""
    if isinstance(exc, api_exceptions.RetryError):
        return False  # an inner retry already gave up: do not retry its deadline again
    if isinstance(exc, _NEVER_TRANSIENT):
        return False
    code = reason(exc)
    if code is not None:
        return code in TRANSIENT_REASONS
    return isinstance(exc, _TRANSIENT_TYPES)


def one_line(text: str) -> str:
    """A message on one line; the client appends 'Location:' and 'Job ID:' lines: drop them."""
    lines = [
        line.strip()
        for line in str(text).splitlines()
        if line.strip() and not line.strip().startswith(("Location:", "Job ID:"))
    ]
    return " ".join(lines) or "unknown error"


def describe(exc: BaseException) -> str:
    """``reason: message`` for an API error, the message alone for anything else."""
    if isinstance(exc, api_exceptions.RetryError) and exc.cause is not None:
        return describe(exc.cause)
    if isinstance(exc, api_exceptions.GoogleAPICallError):
        message = one_line(exc.message or str(exc))
        code = reason(exc)
        # The client prefixes the HTTP verb and URL for failed calls: noise in a one-liner.
        message = re.sub(r"^(GET|POST|PUT|PATCH|DELETE) https?://\S+: ", "", message)
        return f"{code}: {message}{_HINTS.get(code or '', '')}" if code else message
    return one_line(str(exc)) if str(exc).strip() else type(exc).__name__


def bigquery_error(
    what: str, exc: BaseException, *, deadline_s: float, timeout_s: float
) -> OlistError:
    """The OlistError to raise for ``exc`` raised while doing ``what`` (a statement, a job)."""
    if isinstance(exc, OlistError):
        return exc
    if isinstance(exc, api_exceptions.RetryError):
        return BigQueryError(
            f"{what}: still failing after retrying transient errors for {deadline_s:g}s "
            f"(OLIST_BQ_RETRY_DEADLINE_S): {describe(exc)}"
        )
    if isinstance(exc, concurrent.futures.TimeoutError):
        return BigQueryError(
            f"{what}: did not finish within {timeout_s:g}s (OLIST_BQ_JOB_TIMEOUT_S)"
        )
    if isinstance(exc, _TRANSIENT_TYPES) and not isinstance(exc, api_exceptions.GoogleAPICallError):
        return BigQueryError(f"{what}: cannot reach BigQuery: {describe(exc)}")
    return BigQueryError(f"{what}: {describe(exc)}")


# -- failed CSV loads --------------------------------------------------------------------

_FIELD = re.compile(r"for field (?:'|\")?(\w+)")
_LOCATION = re.compile(r"starting at (?:location|byte) (\d+)|position (\d+) of the file")
_GENERIC = ("too many errors", "errors[] collection")


def load_error(
    file_name: str,
    local: Path | None,
    columns: Sequence[Column],
    errors: Sequence[dict[str, Any]] | None,
    exc: BaseException,
) -> LoadError:
    """One line naming the file, the line and the column of a CSV BigQuery refused."""
    messages = [one_line(e.get("message", "")) for e in errors or [] if isinstance(e, dict)]
    specific = [m for m in messages if not any(g in m for g in _GENERIC)]
    if local is not None:
        found = find_bad_value(local, columns)
        if found is not None:
            return LoadError(f"{file_name}, {found}")
    detail = specific[0] if specific else (messages[0] if messages else describe(exc))
    if local is not None:
        offset = _LOCATION.search(detail)
        if offset is not None:
            byte = int(next(g for g in offset.groups() if g is not None))
            field = _FIELD.search(detail)
            column = f", column '{field.group(1)}'" if field else ""
            line = _line_at(local, byte)
            return LoadError(f"{file_name}, line {line}{column}: {_strip_prefix(detail)}")
    return LoadError(f"{file_name}: {_strip_prefix(detail)}")


def _strip_prefix(message: str) -> str:
    return message.removeprefix("Error while reading data, error message: ")


def _line_at(path: Path, offset: int) -> int:
    """The physical line (from 1) holding byte ``offset`` of the file."""
    with path.open("rb") as handle:
        return handle.read(offset).count(b"\n") + 1


_TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S")


def _fits(value: str, type_: ColumnType) -> bool:
    """Whether BigQuery's CSV reader accepts ``value`` (non-empty) for a column of ``type_``."""
    try:
        if type_ is ColumnType.INT64:
            int(value.strip())
        elif type_ is ColumnType.FLOAT64:
            float(value)
        elif type_ is ColumnType.NUMERIC:
            number = decimal.Decimal(value.strip())
            if not number.is_finite() or number.as_tuple().exponent < -9:  # type: ignore[operator]
                return False
        elif type_ is ColumnType.TIMESTAMP:
            for fmt in _TIMESTAMP_FORMATS:
                try:
                    dt.datetime.strptime(value.strip(), fmt)
                    return True
                except ValueError:
                    continue
            return False
    except (ValueError, decimal.InvalidOperation):
        return False
    return True


def find_bad_value(path: Path, columns: Sequence[Column]) -> str | None:
    """``line N, column 'c': 'v' is not an INT64`` for the first bad record, or None.

    Python's csv module follows the same quoting rules as BigQuery's reader (RFC 4180,
    quoted newlines allowed) and counts physical lines, so the line is the one an editor
    shows even after reviews that span several lines.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            next(reader, None)  # the header, checked before any load
            start = reader.line_num + 1
            for record in reader:
                if len(record) != len(columns):
                    what = "missing column" if len(record) < len(columns) else "extra field"
                    return f"line {start}: {len(record)} fields, expected {len(columns)} ({what})"
                for column, value in zip(columns, record, strict=True):
                    if value != "" and not _fits(value, column.type):
                        article = "an" if column.type.value[0] in "AEIOU" else "a"
                        hint = (
                            " (expected YYYY-MM-DD HH:MM:SS)"
                            if column.type is ColumnType.TIMESTAMP
                            else ""
                        )
                        return (
                            f"line {start}, column '{column.name}': {_show(value)} is not "
                            f"{article} {column.type.value}{hint}"
                        )
                start = reader.line_num + 1
    except UnicodeDecodeError:
        return "not valid UTF-8 text"
    except csv.Error as exc:
        return f"line {start}: {exc} (a quoted value must end with '\"')"
    return None


def _show(value: str) -> str:
    shown = value.replace("\r", "\\r").replace("\n", "\\n")
    return f"'{shown[:57]}...'" if len(shown) > 60 else f"'{shown}'"
