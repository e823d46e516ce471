"""Output for people and for machines.

At a terminal: rich spinners, colours and tables. Elsewhere (cron, CI, a pipe): one plain
line per event, with a UTC timestamp and no escape codes, so logs stay greppable.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


class Reporter:
    """Where every stage reports what it does; pick the style once, at start-up."""

    def __init__(
        self, *, fancy: bool | None = None, quiet: bool = False, verbose: bool = False
    ) -> None:
        self.fancy = sys.stdout.isatty() if fancy is None else fancy
        self.quiet = quiet
        self.verbose = verbose
        self._console: Any = None
        self._status: Any = None

    @property
    def console(self) -> Any:
        # rich is imported on first use: `olist --help` never pays for it.
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False) if self.fancy else None
        return self._console

    # -- lines ---------------------------------------------------------------------------

    def line(self, message: str, *, style: str = "") -> None:
        """One event: a styled line at a terminal, a timestamped plain line elsewhere."""
        if self.quiet:
            return
        if self.fancy:
            # markup=False: file names and data values may hold brackets.
            self.console.print(message, style=style or None, markup=False)
        else:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            print(f"{stamp} {message}", flush=True)

    def error(self, message: str) -> None:
        """Errors always reach stderr, even with --quiet."""
        if self.fancy:
            from rich.console import Console
            from rich.text import Text

            Console(stderr=True, highlight=False).print(
                Text("error: ", style="bold red") + Text(message)
            )
        else:
            print(f"error: {message}", file=sys.stderr, flush=True)

    @contextmanager
    def status(self, message: str) -> Iterator[None]:
        """A spinner while a long step runs (terminal only)."""
        if self.fancy and not self.quiet:
            with self.console.status(message):
                yield
        else:
            yield

    # -- tables --------------------------------------------------------------------------

    def table(
        self,
        title: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        always: bool = False,
    ) -> None:
        """A table; ``always`` shows it even with --quiet (run summaries)."""
        if self.quiet and not always:
            return
        cells = [[_cell(v) for v in row] for row in rows]
        if self.fancy:
            from rich.table import Table
            from rich.text import Text

            table = Table(title=title, title_justify="left")
            for col in columns:
                table.add_column(col, justify="right" if col in _NUMERIC_HEADERS else "left")
            for row in cells:
                table.add_row(*(Text(c, style=_STATUS_STYLE.get(c, "")) for c in row))
            self.console.print(table)
            return
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        print(title)
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
        for row in cells:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        sys.stdout.flush()


_NUMERIC_HEADERS = {"rows", "duration", "failures", "bytes", "seconds"}
_STATUS_STYLE = {
    "success": "green",
    "loaded": "green",
    "pass": "green",
    "skipped": "yellow",
    "up to date": "dim",
    "warn": "yellow",
    "fail": "red",
    "error": "bold red",
    "failed": "bold red",
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}s" if value < 1e6 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
