"""The stages of the pipeline, callable one by one or in order by run-all.

download → load → transform → test. Each stage reports its items through the Reporter and
its own outcome as a StageResult; a failing stage raises an OlistError after recording.
The CLI only chooses the stages and turns the error into an exit code.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olist_cli.console import Reporter
from olist_cli.errors import BuildError, DataTestFailure, LockedError, OlistError
from olist_cli.settings import Settings

if TYPE_CHECKING:
    from olist_cli.engine import Project
    from olist_cli.sources import Fetched
    from olist_cli.warehouse.base import Warehouse


Outcome = tuple[int | None, str]  # (rows, one-line summary) of a stage
_SAID = {"success": "built", "error": "failed"}  # model statuses, as a summary says them


@dataclass
class StageResult:
    stage: str
    status: str  # success | failed
    duration_s: float
    rows: int | None = None
    message: str = ""


@dataclass
class RunReport:
    """What a run did, stage by stage; filled in as it goes, so it is complete on failure too."""

    stages: list[StageResult] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str) -> Iterator[StageResult]:
        result = StageResult(name, "success", 0.0)
        start = time.perf_counter()
        try:
            yield result
        except OlistError as exc:
            result.status = "failed"
            result.message = exc.message
            raise
        finally:
            result.duration_s = time.perf_counter() - start
            self.stages.append(result)


@dataclass(frozen=True)
class SourceOptions:
    source: str = "sample"
    scale: float = 1.0
    seed: int = 42
    as_of: dt.date | None = None


# -- locking -----------------------------------------------------------------------------


@contextmanager
def warehouse_lock(settings: Settings) -> Iterator[None]:
    """Hold the one-run-at-a-time lock of this warehouse, or fail at once with LockedError."""
    from filelock import FileLock, Timeout

    lock_path = Path(f"{settings.duckdb_file}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise LockedError(
            f"another olist run holds the warehouse ({lock_path}); wait for it to finish"
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def open_warehouse(settings: Settings) -> Iterator[Warehouse]:
    from olist_cli.warehouse import connect

    warehouse = connect(settings)
    try:
        yield warehouse
    finally:
        warehouse.close()


# -- stages ------------------------------------------------------------------------------


def stage_download(settings: Settings, options: SourceOptions, reporter: Reporter) -> Fetched:
    """Fetch or generate the raw files; say where they are."""
    from olist_cli.sources import fetch_source

    with reporter.status(f"download: {options.source}"):
        fetched = fetch_source(
            settings, options.source, scale=options.scale, seed=options.seed, as_of=options.as_of
        )
    reporter.line(f"download  {fetched.note}")
    return fetched


def stage_load(
    settings: Settings, warehouse: Warehouse, folder: Path, reporter: Reporter, *, force: bool
) -> Outcome:
    """Load the nine files into raw tables; return rows loaded (skipped files count 0)."""
    from olist_cli.load import load_raw

    def on_file(result: Any) -> None:
        if result.status == "skipped":
            reporter.line(f"load      {result.table:<40} skipped   {result.message}", style="dim")
        else:
            reporter.line(
                f"load      {result.table:<40} loaded    {result.rows:>10,} rows "
                f"{result.duration_s:6.2f}s",
                style="green",
            )

    with reporter.status("load: raw tables"):
        results = load_raw(settings, warehouse, folder, force=force, on_event=on_file)
    loaded = [r for r in results if r.status == "loaded"]
    summary = f"{len(loaded)} loaded, {len(results) - len(loaded)} unchanged"
    return sum(r.rows for r in loaded), summary


def stage_transform(
    settings: Settings,
    warehouse: Warehouse,
    reporter: Reporter,
    *,
    select: str | None,
    full_refresh: bool,
    threads: int | None = None,
    project: Project | None = None,
) -> Outcome:
    """Build the selected models in DAG order; raise BuildError if any failed."""
    from olist_cli.engine import build, load_project

    project = project or load_project(settings, warehouse.dialect)

    def on_model(result: Any) -> None:
        rows = f"{result.rows:>10,} rows" if result.rows is not None else " " * 15
        style = {"success": "green", "error": "bold red", "skipped": "yellow"}.get(result.status)
        detail = f"  {result.message}" if result.status != "success" and result.message else ""
        reporter.line(
            f"model     {result.name:<40} {result.status:<9} {rows} "
            f"{result.duration_s:6.2f}s{detail}",
            style=style or "",
        )

    with reporter.status("transform: building models"):
        results = build(
            settings,
            warehouse,
            project,
            select=select,
            full_refresh=full_refresh,
            on_event=on_model,
            threads=threads,
        )
    failed = [r for r in results if r.status == "error"]
    if failed:
        first = failed[0]
        raise BuildError(f"{len(failed)} model(s) failed to build; {first.name}: {first.message}")
    counts = Counter(r.status for r in results)
    summary = ", ".join(f"{n} {_SAID.get(status, status)}" for status, n in counts.items())
    return sum(r.rows or 0 for r in results), summary


def stage_test(
    settings: Settings,
    warehouse: Warehouse,
    reporter: Reporter,
    *,
    select: str | None,
    threads: int | None = None,
    project: Project | None = None,
) -> Outcome:
    """Run the data tests; raise DataTestFailure if an error-level test failed."""
    from olist_cli.engine import load_project, run_tests

    project = project or load_project(settings, warehouse.dialect)
    with reporter.status("test: running data tests"):
        results = run_tests(settings, warehouse, project, select=select, threads=threads)
    bad = [r for r in results if r.status in ("fail", "error")]
    warned = [r for r in results if r.status == "warn"]
    # Passing tests are counted, not listed: the table is for what needs a look.
    listed = results if reporter.verbose else bad + warned
    if listed:
        reporter.table(
            "Data tests",
            ["test", "model", "severity", "status", "failures", "duration"],
            [(r.name, r.model, r.severity, r.status, r.failures, r.duration_s) for r in listed],
        )
    for r in bad + warned:
        reporter.line(f"{r.status.upper():<5} {r.name}: {r.message}")
        if r.status == "warn" and not reporter.verbose:
            continue  # a known quirk: one line; --verbose shows the rows and the SQL
        for sample in r.sample_rows[:3]:
            reporter.line(f"      e.g. {_compact(sample)}")
        if r.sql:
            reporter.line(f"      reproduce: {' '.join(r.sql.split())}")
    passed = sum(1 for r in results if r.status == "pass")
    cached = sum(1 for r in results if "(up to date" in r.message)
    reused = f" ({cached} up to date, not re-run)" if cached else ""
    reporter.line(
        f"test      {len(results)} tests: {passed} passed, {len(warned)} warned, "
        f"{len(bad)} failed{reused}"
    )
    if bad:
        names = ", ".join(r.name for r in bad[:5]) + (" …" if len(bad) > 5 else "")
        raise DataTestFailure(f"{len(bad)} error-level data test(s) failed: {names}")
    return None, f"{len(results)} tests: {passed} passed, {len(warned)} warned{reused}"


def _compact(row: dict[str, Any], limit: int = 160) -> str:
    """A sample row on one line: key=value pairs, cut at ``limit`` characters."""
    text = ", ".join(f"{k}={v}" for k, v in row.items())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def publishing(warehouse: Warehouse, reporter: Reporter) -> Iterator[int | None]:
    """Write, audit, publish: the work inside becomes visible all at once, or not at all.

    Yields the number of threads the work inside may use: 1 where the adapter audits on
    its own connection (DuckDB's transaction), else the settings' default (None).
    """
    try:
        with warehouse.write_audit_publish():
            yield 1 if warehouse.audit_on_one_connection else None
    except OlistError as exc:
        exc.message += "; nothing was published, the warehouse is as it was before this run"
        raise
    reporter.line("publish   done: readers now see the new tables", style="green")


# -- run-all -----------------------------------------------------------------------------


def run_all(
    settings: Settings,
    reporter: Reporter,
    report: RunReport,
    *,
    options: SourceOptions,
    select: str | None = None,
    full_refresh: bool = False,
    force: bool = False,
) -> None:
    """download → load → transform → test, under the warehouse lock."""
    with warehouse_lock(settings), open_warehouse(settings) as warehouse:
        with report.stage("download") as result:
            fetched = stage_download(settings, options, reporter)
            result.message = fetched.note
        with report.stage("load") as result:
            result.rows, result.message = stage_load(
                settings, warehouse, fetched.folder, reporter, force=force
            )
        with publishing(warehouse, reporter) as threads:
            with report.stage("transform") as result:
                from olist_cli.engine import load_project

                project = load_project(settings, warehouse.dialect)
                result.rows, result.message = stage_transform(
                    settings,
                    warehouse,
                    reporter,
                    select=select,
                    full_refresh=full_refresh,
                    threads=threads,
                    project=project,
                )
            with report.stage("test") as result:
                result.rows, result.message = stage_test(
                    settings, warehouse, reporter, select=select, threads=threads, project=project
                )
