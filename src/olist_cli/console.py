"""Output for people and for machines.

Three styles, chosen once at start-up:
- ``rich``: at a terminal, colours, spinners and tables;
- ``plain``: elsewhere (cron, CI, a pipe), one line per event with a UTC timestamp and no
  escape codes, so logs stay greppable;
- ``json``: ``--log-format json``, one JSON object per line, for log services: events on
  stdout, errors on stderr. Each object carries the fields Google Cloud Logging reads from
  a structured line (``severity``, ``message``, ``time``, and the run's labels under
  ``logging.googleapis.com/labels``), beside olist's own (``ts``, ``level``, ``stage``
  and the event's fields). See docs/deploy.md.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, TextIO

Style = Literal["rich", "plain", "json"]

# olist's levels, as the severities Cloud Logging knows (and alerts filter on, e.g.
# severity>=ERROR). A summary (the run's table, the status) is NOTICE: worth a look, no fault.
SEVERITY = {
    "debug": "DEBUG",
    "info": "INFO",
    "summary": "NOTICE",
    "warning": "WARNING",
    "retry": "WARNING",
    "error": "ERROR",
    "critical": "CRITICAL",
}
LABELS = "logging.googleapis.com/labels"
OPERATION = "logging.googleapis.com/operation"

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


def _rfc3339(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with microseconds, e.g. 2026-01-01T00:00:00.123456Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
        # Put on every JSON line: the run id and command, once a run has started (bind).
        self.labels: dict[str, str] = {}
        self._stage = "run"  # of the last event: detail lines continue it

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

    def bind(self, **labels: str) -> None:
        """Label every JSON line from now on, e.g. ``bind(run_id=..., command="run-all")``."""
        self.labels.update(labels)

    # -- events --------------------------------------------------------------------------

    def record(self, stage: str, message: str, *, level: str, **fields: Any) -> dict[str, Any]:
        """The JSON object of one event: Cloud Logging's fields, then olist's own."""
        now = dt.datetime.now(dt.UTC)
        record: dict[str, Any] = {
            "severity": SEVERITY.get(level, "DEFAULT"),
            "message": message,
            "time": _rfc3339(now),
            "ts": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "level": level,
            "stage": stage,
        }
        for key, value in fields.items():
            if value is not None and key not in record:
                record[key] = value
        record[LABELS] = {**self.labels, "stage": stage}
        if "run_id" in self.labels:  # groups a run's lines in the Logs Explorer
            record[OPERATION] = {"id": self.labels["run_id"], "producer": "olist"}
        return record

    def _emit(self, record: dict[str, Any], stream: TextIO | None = None) -> None:
        print(json.dumps(record, default=str), file=stream or sys.stdout, flush=True)

    def event(
        self, stage: str, message: str, *, level: str = "info", style: str = "", **fields: Any
    ) -> None:
        """One thing that happened, e.g. ``event("model", "fact_orders built", rows=3)``."""
        self._stage = stage
        if self.quiet and level == "info":
            return
        if self.style == "json":
            self._emit(self.record(stage, message, level=level, **fields))
        elif self.fancy:
            # markup=False: file names and data values may hold brackets.
            self.console.print(f"{stage:<9} {message}", style=style or None, markup=False)
        else:
            print(f"{_now()} {stage:<9} {message}", flush=True)

    def detail(self, message: str) -> None:
        """A continuation line for people (sample rows, SQL); in JSON, a DEBUG line with
        --verbose (the event it continues carries what matters as fields)."""
        if self.quiet:
            return
        if self.style == "json":
            if self.verbose:
                self._emit(self.record(self._stage, message, level="debug"))
            return
        if self.fancy:
            self.console.print(f"          {message}", style="dim", markup=False)
        else:
            print(f"{_now()}           {message}", flush=True)

    def error(
        self, message: str, *, level: str = "error", stage: str = "run", **fields: Any
    ) -> None:
        """Errors always reach stderr, even with --quiet (in JSON too: one object a line)."""
        if self.style == "json":
            self._emit(self.record(stage, message, level=level, **fields), sys.stderr)
        elif self.fancy:
            from rich.console import Console
            from rich.text import Text

            colour = "bold red" if level in ("error", "critical") else "bold yellow"
            Console(stderr=True, highlight=False).print(
                Text(f"{level}: ", style=colour) + Text(message)
            )
        else:
            print(f"{level}: {message}", file=sys.stderr, flush=True)

    def crash(self, exc: BaseException) -> None:
        """An error olist did not expect (a bug): one CRITICAL line in JSON, with the
        traceback as a field; elsewhere the traceback as Python prints it."""
        stack = "".join(traceback.format_exception(exc))
        if self.style == "json":
            summary = f"internal error: {type(exc).__name__}: {exc}".splitlines()[0]
            self.error(summary, level="critical", stack_trace=stack)
        else:
            print(stack, end="", file=sys.stderr, flush=True)

    def capture_library_output(self) -> None:
        """Route Python warnings and the libraries' log records (google-cloud-*, urllib3)
        through this reporter: in JSON, each is a line on stderr with its severity, where
        Python would print plain text. For the process's entry point only (it sets globals)."""
        import logging
        import warnings

        reporter = self

        def show_warning(message: Any, category: type[Warning], *args: Any, **kw: Any) -> None:
            reporter.error(f"{category.__name__}: {message}", level="warning", stage="python")

        class Forward(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                level = record.levelname.lower()
                reporter.error(
                    record.getMessage(),
                    level=level if level in SEVERITY else "warning",
                    stage="python",
                    logger=record.name,
                )

        warnings.showwarning = show_warning
        logging.getLogger().addHandler(Forward(logging.WARNING))

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
