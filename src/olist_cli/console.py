"""Output for people and for machines.

Three styles, chosen once at start-up:
- ``rich``: at a terminal, colours, spinners and tables;
- ``plain``: elsewhere (cron, CI, a pipe), one line per event with a UTC timestamp and no
  escape codes, so logs stay greppable;
- ``json``: ``--log-format json``, one JSON object per event on stdout, for log shippers.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

Style = Literal["rich", "plain", "json"]

_NUMERIC_HEADERS = {"rows", "duration", "failures", "bytes", "seconds"}
_STATUS_STYLE = {
    "success": "green",
    "built": "green",
    "loaded": "green",
    "archived": "green",
    "pass": "green",
    "skipped": "yellow",
    "up to date": "dim",
    "unchanged": "dim",
    "warn": "yellow",
    "fail": "red",
    "error": "bold red",
    "failed": "bold red",
}


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Reporter:
    """Where every stage reports what it does."""

    def __init__(
        self,
        *,
        style: Style | None = None,
        quiet: bool = False,
        verbose: bool = False,
    ) -> None:
        self.style: Style = style or ("rich" if sys.stdout.isatty() else "plain")
        self.quiet = quiet
        self.verbose = verbose
        self._console: Any = None

    @property
    def fancy(self) -> bool:
        return self.style == "rich"

    @property
    def console(self) -> Any:
        # rich is imported on first use: `olist --help` never pays for it.
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False)
        return self._console

    # -- events --------------------------------------------------------------------------

    def event(
        self, stage: str, message: str, *, level: str = "info", style: str = "", **fields: Any
    ) -> None:
        """One thing that happened, e.g. ``event("model", "fact_orders built", rows=3)``."""
        if self.quiet and level == "info":
            return
        if self.style == "json":
            record = {"ts": _now(), "level": level, "stage": stage, "message": message}
            record.update({k: v for k, v in fields.items() if v is not None})
            print(json.dumps(record, default=str), flush=True)
        elif self.fancy:
            # markup=False: file names and data values may hold brackets.
            self.console.print(f"{stage:<9} {message}", style=style or None, markup=False)
        else:
            print(f"{_now()} {stage:<9} {message}", flush=True)

    def detail(self, message: str) -> None:
        """A continuation line for people (sample rows, SQL); JSON events carry it as fields."""
        if self.quiet or self.style == "json":
            return
        if self.fancy:
            self.console.print(f"          {message}", style="dim", markup=False)
        else:
            print(f"{_now()}           {message}", flush=True)

    def error(self, message: str) -> None:
        """Errors always reach stderr, even with --quiet."""
        if self.style == "json":
            record = {"ts": _now(), "level": "error", "stage": "run", "message": message}
            print(json.dumps(record), file=sys.stderr, flush=True)
        elif self.fancy:
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
        """A table for people; ``always`` shows it even with --quiet (run summaries).

        In JSON style a table is one event whose ``rows`` are objects keyed by column.
        """
        if self.quiet and not always:
            return
        if self.style == "json":
            records = [dict(zip(columns, row, strict=True)) for row in rows]
            self.event("table", title, level="summary", rows=records)
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


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}s" if value < 1e6 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
