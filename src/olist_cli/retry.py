"""Retry a call that may fail for a moment: exponential backoff with jitter, transient only.

One small policy shared by the network stages (Kaggle download, GCS archive), so that
``OLIST_RETRIES`` and ``OLIST_RETRY_BACKOFF_S`` mean the same thing everywhere. Which
errors are transient is the caller's knowledge (HTTP 503 is, 404 is not), passed in as
``is_transient``; a permanent error is raised at once, never retried.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

MAX_DELAY_S = 60.0  # a delay past a minute helps no one running a CLI

# HTTP statuses worth another try: timeout, rate limit, server errors.
TRANSIENT_HTTP = frozenset({408, 429, 500, 502, 503, 504})
# requests' and urllib3's errors for a broken, slow or cut-short connection, by name (so
# that neither library is imported here); not InvalidURL, MissingSchema or SSLError.
_NETWORK_ERRORS = frozenset(
    {
        "ConnectionError",
        "Timeout",
        "ConnectTimeout",
        "ReadTimeout",
        "ReadTimeoutError",
        "ChunkedEncodingError",
        "ContentDecodingError",
        "ProtocolError",
    }
)


def is_network_error(exc: BaseException) -> bool:
    """A broken or slow connection: Python's own, or requests' and urllib3's."""
    return isinstance(exc, (ConnectionError, TimeoutError)) or type(exc).__name__ in _NETWORK_ERRORS


def backoff_delay(retry: int, backoff_s: float, jitter: float) -> float:
    """Delay before retry number ``retry`` (1-based), ``jitter`` in [0, 1).

    The nominal delay doubles each time (``backoff_s``, 2×, 4×, … capped at a minute); the
    delay is drawn between half of it and all of it. Jitter spreads the retries of many
    clients hit by the same outage; keeping half the nominal delay means a retry never
    hammers a struggling server at once, which full jitter (0 to nominal) can.
    """
    nominal = min(MAX_DELAY_S, backoff_s * 2 ** (retry - 1))
    return nominal / 2 + nominal / 2 * jitter


def retrying(
    fn: Callable[[], T],
    *,
    what: str,
    retries: int,
    backoff_s: float,
    is_transient: Callable[[Exception], bool],
    on_retry: Callable[[int, float, Exception], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> T:
    """Call ``fn``; on a transient error, wait and call it again, up to ``retries`` times.

    ``on_retry(retry, delay_s, error)`` is called before each wait, so the caller can log
    why ``what`` is retried. The last error is re-raised when the retries are spent (with a
    note naming ``what`` and the number of retries), and any error that ``is_transient``
    rejects is re-raised at once.
    """
    retry = 0
    while True:
        try:
            return fn()
        except Exception as exc:  # BaseException (Ctrl-C, SystemExit) is never retried
            if not is_transient(exc):
                raise
            if retry >= retries:
                if retry:
                    exc.add_note(f"{what}: gave up after {retry} retries")
                raise
            retry += 1
            delay = backoff_delay(retry, backoff_s, jitter())
            if on_retry is not None:
                on_retry(retry, delay, exc)
            sleep(delay)
