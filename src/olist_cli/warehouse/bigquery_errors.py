"""BigQuery errors: which ones to retry, and one line a person can act on for the others.

Transient errors (rate limits, backend and internal errors, HTTP 429/5xx, dropped
connections) are retried with exponential backoff up to ``OLIST_BQ_RETRY_DEADLINE_S``.
Everything else fails at once: a query that does not compile, a job out of resources, a
permission missing or a table not found will not get better by asking again.

A failed CSV load is described by file, physical line and column. Real BigQuery names the
field and a byte offset in its errors[] collection; when it does not (or only says "too
many errors"), or the casting query refused a value, the file is local and is read once
more in Python to find the first value that does not fit its column, with the rules of
csv_values, as the DuckDB adapter does. That costs nothing on success.
"""

from __future__ import annotations

import concurrent.futures
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

from olist_cli.dataset import Column
from olist_cli.errors import LoadError, OlistError
from olist_cli.warehouse.csv_values import REFUSED, find_bad_record

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


def find_bad_value(path: Path, columns: Sequence[Column]) -> str | None:
    """``line N, column 'c': 'v' is not an INT64`` for the first bad record, or None: the
    rules of ``csv_values.find_bad_record``, with the timestamps BigQuery's reader takes."""
    try:
        return find_bad_record(path, columns, _TIMESTAMP_FORMATS)
    except OSError:
        return None


def refused_error(
    file_name: str, local: Path | None, columns: Sequence[Column], message: str
) -> LoadError:
    """One line for a value the casting query refused (its ERROR() names the column) or
    could not cast; ``message``: the query's error."""
    if local is not None:
        found = find_bad_value(local, columns)
        if found is not None:
            return LoadError(f"{file_name}, {found}")
    if REFUSED not in message:
        return LoadError(message)
    named = message[message.index(REFUSED) + len(REFUSED) :]
    column = re.split(r"[;'\"\s]", named, maxsplit=1)[0]
    return LoadError(f"{file_name}, column '{column}': a value does not fit its type exactly")
