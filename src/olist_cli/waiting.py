"""Waiting for what another process holds: try again until a deadline, saying so now and then.

A run that finds the warehouse held (by another olist run, or by a notebook that has the
DuckDB file open) waits instead of failing at once: under cron the holder is usually
about to let go. It tells the caller at once and every ``REPORT_EVERY_S`` after, so that a
log gets one line now and then, never a spinner.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

REPORT_EVERY_S = 30.0  # a line every 30 s: ten lines for the default 300 s wait
POLL_S = 0.2  # how often to try again: a held lock is let go within a fifth of a second


def wait_for(
    try_once: Callable[[], T | None],
    *,
    timeout_s: float,
    on_wait: Callable[[float], None] | None = None,
) -> T | None:
    """``try_once()`` until it returns something other than None, or None once ``timeout_s``
    has passed. ``on_wait(seconds waited)`` hears of the first failed try, then of every
    ``REPORT_EVERY_S`` more; a timeout of 0 tries once and says nothing."""
    start = time.monotonic()
    next_report = 0.0
    while True:
        got = try_once()
        if got is not None:
            return got
        waited = time.monotonic() - start
        if waited >= timeout_s:
            return None
        if on_wait is not None and waited >= next_report:
            on_wait(waited)
            next_report = waited + REPORT_EVERY_S
        time.sleep(min(POLL_S, timeout_s - waited))
