"""The stages of the pipeline and the life of one run.

download → (archive) → load → transform → test. Each stage reports its items through the
Reporter, adds them to the RunRecord, and returns its rows and a one-line summary; a
failing stage raises an OlistError. ``run_command`` wraps any command: settings, the
warehouse lock, the run record (JSON file and `_run_results` table), the alert on
failure, the summary table, and the exit code. The CLI only parses options.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from olist_cli.console import Reporter
from olist_cli.errors import (
    EXIT_OK,
    BuildError,
    CheckpointError,
    DataTestFailure,
    OlistError,
    TransientError,
    WarehouseBusyError,
)
from olist_cli.run_results import RunRecord, StageResult

if TYPE_CHECKING:
    from olist_cli.engine import Project
    from olist_cli.engine.changes import RunChanges
    from olist_cli.settings import Settings
    from olist_cli.sources import Fetched
    from olist_cli.warehouse.base import Warehouse


T = TypeVar("T")
Outcome = tuple[int | None, str]  # (rows, one-line summary) of a stage
_SAID = {"success": "built", "error": "failed"}  # model statuses, as a summary says them


@dataclass(frozen=True)
class SourceOptions:
    source: str = "sample"
    scale: float = 1.0
    seed: int = 42
    as_of: dt.date | None = None


# -- the run -----------------------------------------------------------------------------


@dataclass
class Run:
    """What a command's body works with."""

    settings: Settings
    reporter: Reporter
    record: RunRecord
    # Opens the warehouse on first use of ``wh``, waiting this many seconds for another
    # program to let go of it: work that needs none (a download, the files' hashing) goes
    # on while it opens. None: the command uses no warehouse.
    opener: Callable[[float], Warehouse] | None = None
    warehouse: Warehouse | None = None  # once opened
    # What this run's load changed, row by row, when it kept that (run-all on DuckDB):
    # the build adds its own, and the tests check the changed rows only where they can.
    changes: RunChanges | None = None

    @property
    def wh(self) -> Warehouse:
        return self._open(self.settings.lock_timeout_s)

    def warehouse_to_record(self) -> Warehouse:
        """The warehouse open, or opened now without waiting: a record is not worth a wait."""
        return self._open(0)

    def _open(self, wait_s: float) -> Warehouse:
        if self.warehouse is None:
            assert self.opener is not None, "this command opens no warehouse, or it failed to"
            opener, self.opener = self.opener, None  # one attempt: a failed open stays failed
            self.warehouse = opener(wait_s)
        return self.warehouse

    @property
    def can_record(self) -> bool:
        """Whether the run can record itself in the warehouse: opened, or yet to open."""
        return self.warehouse is not None or self.opener is not None

    @contextmanager
    def stage(self, name: str) -> Iterator[StageResult]:
        """Time a stage and record its outcome, also when it fails."""
        result = StageResult(name, "success")
        start = time.perf_counter()
        try:
            yield result
        except OlistError as exc:
            result.status = "failed"
            result.message = exc.message
            raise
        finally:
            result.duration_s = round(time.perf_counter() - start, 3)
            self.record.stages.append(result)


def run_command(
    command: str,
    args: dict[str, Any],
    reporter: Reporter,
    body: Callable[[Run], None],
    *,
    needs_warehouse: bool = True,
    read_only: bool = False,
    summary: bool = False,
) -> int:
    """Run one command's body under the lock; record, alert and summarise; return the exit code.

    ``read_only``: the body only reads the warehouse (docs, report). It takes no lock (a
    reader cannot harm a run: DuckDB keeps the two apart, and a run waits for a reader),
    opens the warehouse read-only, and records itself in run_results.json only.
    """
    from olist_cli.credentials import check_secret_files
    from olist_cli.settings import load_settings

    record = RunRecord(command=command, args=args)
    reporter.bind(run_id=record.run_id, command=command)
    settings = None
    error: OlistError | None = None
    step: str | None = "settings"  # what failed, for the alert, when no stage was running
    try:
        settings = load_settings()
        record.warehouse = settings.warehouse
        for warning in check_secret_files(settings):  # UsageError instead, when strict
            reporter.event("settings", warning, level="warning", style="yellow")
        step = "lock"
        with _run_lock(settings, reporter, command, read_only), ExitStack() as opened:
            step = None

            def opener(wait_s: float) -> Warehouse:
                warehouse = open_warehouse(
                    settings, read_only=read_only, wait_s=wait_s, on_wait=_say_waiting(reporter)
                )
                opened_warehouse = opened.enter_context(warehouse)
                if read_only:
                    return opened_warehouse
                return _opened_for_work(opened_warehouse, settings, reporter)

            run = Run(settings, reporter, record, opener if needs_warehouse else None)
            try:
                body(run)
                if not read_only:
                    _publish_reader_copy(run)
            except OlistError as exc:
                error = exc
            _finish(record, error)
            if run.can_record and not read_only:  # while the lock is still held
                _append_results(run)
            if run.warehouse is not None and not read_only:
                _seal(run)
    except OlistError as exc:  # settings, lock, or opening the warehouse
        error = exc
        _finish(record, error)
    if settings is not None:
        _write_results(record, settings, reporter)
    _alert(record, settings, reporter, step=step)
    if summary and record.stages:
        reporter.table(
            "Summary",
            ["stage", "status", "duration", "rows", "message"],
            [(s.name, s.status, s.duration_s, s.rows, s.message) for s in record.stages],
            always=True,
        )
    if error is not None:
        reporter.error(error.message)
        return error.exit_code
    return EXIT_OK


def _publish_reader_copy(run: Run) -> None:
    """Copy the DuckDB file for readers, if asked (OLIST_DUCKDB_READER_COPY) and written to."""
    if not (run.settings.duckdb_reader_copy and run.settings.warehouse == "duckdb"):
        return
    if run.warehouse is None:
        return  # this command did not use the warehouse: the copy is as current as the file
    from olist_cli.reader_copy import publish_reader_copy, reader_copy_path

    changed = any(f["status"] == "loaded" for f in run.record.files) or any(
        m["status"] == "success" for m in run.record.models
    )
    if not changed and reader_copy_path(run.settings).is_file():
        return  # no table changed: the copy has them as they are (a no-op run stays cheap)

    with run.stage("reader copy") as result:
        path = publish_reader_copy(run.settings, run.warehouse)
        result.message = f"copied to {path}"
        run.reporter.event("copy", f"readers' copy written to {path}", path=str(path))


def _finish(record: RunRecord, error: OlistError | None) -> None:
    if record.finished_at is not None:
        return
    if error is None:
        record.finish("success", EXIT_OK)
    else:
        status = {1: "failed", 2: "usage_error", 3: "locked"}.get(error.exit_code, "failed")
        record.finish(status, error.exit_code, error)


def _append_results(run: Run) -> None:
    """Add the run to `_run_results`; a failure here is reported, never fatal."""
    from olist_cli.run_results import append_to_table

    try:
        append_to_table(run.record, run.warehouse_to_record(), run.settings.raw_dataset)
    except Exception as exc:  # the run's own outcome matters more than its record
        run.reporter.event("results", f"could not append to _run_results: {exc}", level="warning")


def _seal(run: Run) -> None:
    """Seal the warehouse after the run's last write: the next run may trust its records."""
    try:
        run.wh.seal()
    except Exception as exc:  # an unsealed warehouse only costs the next run a full build
        run.reporter.event("results", f"could not seal the warehouse: {exc}", level="warning")


def _write_results(record: RunRecord, settings: Settings, reporter: Reporter) -> None:
    from olist_cli.run_results import write_json

    try:
        write_json(record, settings.run_results_path)
    except OSError as exc:
        reporter.event(
            "results", f"could not write {settings.run_results_path}: {exc}", level="warning"
        )


def _alert(
    record: RunRecord, settings: Settings | None, reporter: Reporter, *, step: str | None
) -> None:
    """POST an alert when the run failed, whatever its exit code (or warned, if asked).

    ``step``: what failed when no stage was running ("settings", "lock"). With settings
    that do not validate, the webhook URL is read on its own, so a broken cron job still
    tells someone. Sending never changes the outcome, and the URL is never printed.
    """
    from olist_cli.settings import alert_webhook_url_alone

    url = settings.alert_webhook_url if settings is not None else alert_webhook_url_alone()
    if not url:
        return
    warned = any(t["status"] == "warn" for t in record.tests)
    failed = record.exit_code not in (None, EXIT_OK)
    if not failed and not (settings is not None and settings.alert_on_warn and warned):
        return
    from olist_cli.alerts import alert_payload, send_alert

    stage = next((s.name for s in record.stages if s.status == "failed"), None)
    problem = send_alert(url, alert_payload(record, stage=stage or (step if failed else None)))
    if problem:
        reporter.event("alert", f"alert not sent: {problem}", level="warning")
    else:
        reporter.event("alert", "alert sent")


# -- locking and connections -------------------------------------------------------------


@contextmanager
def _run_lock(
    settings: Settings, reporter: Reporter, command: str, read_only: bool
) -> Iterator[None]:
    """The warehouse lock for a command that writes; none for one that only reads."""
    if read_only:
        yield
        return
    from olist_cli.lock import warehouse_lock

    with warehouse_lock(settings, command=f"olist {command}", on_wait=_say_waiting(reporter)):
        yield


def _say_waiting(reporter: Reporter) -> Callable[[str], None]:
    return lambda line: reporter.event("lock", line, level="warning", style="yellow")


@contextmanager
def open_warehouse(
    settings: Settings,
    *,
    read_only: bool = False,
    wait_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[Warehouse]:
    """The warehouse, open for the block; closed after it.

    While another program (a notebook, `olist status`) has the DuckDB file open, wait up
    to ``wait_s`` seconds (default OLIST_LOCK_TIMEOUT_S) for it to let go, telling
    ``on_wait`` who holds it now and then; then WarehouseBusyError (exit 3).
    """
    from olist_cli.lock import gave_up
    from olist_cli.waiting import wait_for
    from olist_cli.warehouse import connect

    timeout = settings.lock_timeout_s if wait_s is None else wait_s
    busy: list[WarehouseBusyError] = []

    def try_once() -> Warehouse | None:
        try:
            return connect(settings, read_only=read_only)
        except WarehouseBusyError as exc:
            busy.append(exc)
            return None

    said: list[str] = []

    def waiting(waited: float) -> None:
        holder = _holder(settings, busy[-1])
        line = (
            f"still waiting for {holder}: {waited:.0f}s of {timeout:g}s"
            if said
            else f"{settings.duckdb_file} is open in {holder}; waiting up to {timeout:g}s "
            "for it to let go (OLIST_LOCK_TIMEOUT_S)"
        )
        said.append(line)
        if on_wait is not None:
            on_wait(line)

    warehouse = wait_for(try_once, timeout_s=timeout, on_wait=waiting)
    if warehouse is None:
        raise WarehouseBusyError(
            f"the warehouse {settings.duckdb_file} is open in {_holder(settings, busy[-1])}, "
            f"and DuckDB lets no other process open it; {gave_up(timeout)}; close it there "
            "and run again"
        )
    try:
        yield warehouse
    finally:
        warehouse.close()


def _opened_for_work(warehouse: Warehouse, settings: Settings, reporter: Reporter) -> Warehouse:
    """A warehouse a command will write to: its records of past work dropped unless sealed."""
    from olist_cli.engine.state import forget_unsealed

    if forget_unsealed(warehouse, settings.raw_dataset):
        reporter.event(
            "warehouse",
            "the warehouse file changed since the last olist run sealed it: its records of "
            "past builds and tests prove nothing now, so everything is rebuilt and tested",
            level="warning",
            style="yellow",
        )
    return warehouse


def _holder(settings: Settings, busy: WarehouseBusyError) -> str:
    """Who has the file open: the olist run of that pid, as it describes itself, or the
    program and pid DuckDB names."""
    from olist_cli.lock import lock_file, read_owner

    owner = read_owner(lock_file(settings))
    if owner is not None and owner.pid == busy.pid:
        return str(owner)
    return f"{busy.program} (PID {busy.pid})"


# -- stages ------------------------------------------------------------------------------


def with_retries(run: Run, stage: str, step: Callable[[], T]) -> T:
    """Run a step, retrying TransientError with backoff; each retry is logged with its reason."""
    from olist_cli.retry import retrying

    def log(attempt: int, delay: float, error: Exception) -> None:
        run.reporter.event(
            stage,
            f"retry {attempt}/{run.settings.retries} in {delay:.1f}s: {error}",
            level="retry",
            style="yellow",
        )

    return retrying(
        step,
        what=stage,
        retries=run.settings.retries,
        backoff_s=run.settings.retry_backoff_s,
        is_transient=lambda error: isinstance(error, TransientError),
        on_retry=log,
    )


def stage_download(run: Run, options: SourceOptions) -> Fetched:
    """Fetch or generate the raw files; say where they are."""
    from olist_cli.sources import fetch_source

    def on_event(kind: str, message: str) -> None:
        level = kind if kind in ("warning", "retry") else "info"
        run.reporter.event("download", message, level=level, style="yellow" * (level != "info"))

    # No spinner here: the generator and the Kaggle download draw progress bars of their own.
    fetched = fetch_source(
        run.settings,
        options.source,
        scale=options.scale,
        seed=options.seed,
        as_of=options.as_of,
        on_event=on_event,
    )
    run.reporter.event("download", fetched.note, folder=str(fetched.folder))
    return fetched


def stage_archive(run: Run, folder: Path, *, load_date: dt.date | None = None) -> Outcome:
    """Copy the raw files to the bucket (or the local archive), skipping unchanged ones."""
    from olist_cli.archive import archive_raw

    def on_file(r: Any) -> None:
        run.reporter.event(
            "archive",
            f"{r.file_name:<40} {r.status:<9} {r.message}",
            style="green" if r.status == "archived" else "dim",
            file=r.file_name,
            status=r.status,
            md5=r.md5,
            destination=r.destination,
        )

    results = archive_raw(
        run.settings,
        folder,
        load_date=load_date,
        on_event=on_file,
        on_retry=lambda message: run.reporter.event("archive", message, level="retry"),
    )
    archived = sum(r.status == "archived" for r in results)
    return None, f"{archived} archived, {len(results) - archived} unchanged"


def stage_load(
    run: Run,
    folder: Path,
    *,
    force: bool,
    keep_changes: bool = False,
    md5s: Sequence[Future[str]] | None = None,
    allow_shrink: bool = False,
) -> Outcome:
    """Load the nine files into raw tables; skipped (unchanged) files count no rows.

    ``keep_changes``: keep the rows each table changed by, in ``run.changes``. ``md5s``:
    the files' MD5s, from ``load.hashing_sources`` started earlier with the same ``force``.
    ``allow_shrink``: let a table shrink sharply (see ``load.load_raw``).
    """
    from olist_cli.engine.changes import RunChanges
    from olist_cli.load import hashing_sources, load_raw

    every: list[Any] = []  # each file's result, from every attempt

    def on_file(r: Any) -> None:
        every.append(r)
        if r.status == "skipped":
            text, style = f"{r.table:<40} skipped   {r.message}", "dim"
        else:
            # What changed, when the table was changed by difference: +inserted -deleted.
            change = "" if r.inserted is None else f"  +{r.inserted:,} -{r.deleted:,}"
            text, style = (
                f"{r.table:<40} loaded    {r.rows:>10,} rows {r.duration_s:6.2f}s{change}",
                "green",
            )
        run.reporter.event(
            "load",
            text,
            style=style,
            table=r.table,
            status=r.status,
            rows=r.rows,
            md5=r.md5,
            inserted=r.inserted,
            deleted=r.deleted,
        )

    # Hashing starts before the warehouse is first used, and goes on while it opens.
    with (
        run.reporter.status("load: raw tables"),
        hashing_sources(run.settings, folder, force=force, started=md5s) as hashed,
    ):

        def load_once() -> list[Any]:
            # A retry resumes where it stopped: files already loaded are skipped by their MD5.
            return load_raw(
                run.settings,
                run.wh,
                folder,
                force=force,
                on_event=on_file,
                keep_changes=keep_changes,
                md5s=hashed,
                allow_shrink=allow_shrink,
            )

        results = with_retries(run, "load", load_once)
    if keep_changes:
        run.changes = RunChanges.from_load(every)
    run.record.add("files", results)
    loaded = [r for r in results if r.status == "loaded"]
    summary = f"{len(loaded)} loaded, {len(results) - len(loaded)} unchanged"
    return sum(r.rows for r in loaded), summary


def stage_transform(
    run: Run,
    *,
    select: str | None,
    full_refresh: bool,
    threads: int | None = None,
    project: Project | None = None,
    all_or_nothing: bool = True,
) -> Outcome:
    """Build the selected models in DAG order; raise BuildError if any failed."""
    from olist_cli.engine import build, load_project

    project = project or load_project(run.settings, run.wh.dialect)

    def on_model(r: Any) -> None:
        rows = f"{r.rows:>10,} rows" if r.rows is not None else " " * 15
        style = {"success": "green", "error": "bold red", "skipped": "yellow"}.get(r.status, "")
        detail = f"  {r.message}" if r.status != "success" and r.message else ""
        if r.bytes_processed is not None:  # engines that bill by bytes say how many
            detail += f"  {_bytes(r.bytes_processed)} processed, {_bytes(r.bytes_billed)} billed"
        run.reporter.event(
            "model",
            f"{r.name:<40} {_SAID.get(r.status, r.status):<10} {rows} {r.duration_s:6.2f}s{detail}",
            style=style,
            level="error" if r.status == "error" else "info",
            model=r.name,
            status=r.status,
            rows=r.rows,
            bytes_processed=r.bytes_processed,
            bytes_billed=r.bytes_billed,
        )

    with run.reporter.status("transform: building models"):
        results = build(
            run.settings,
            run.wh,
            project,
            select=select,
            full_refresh=full_refresh,
            on_event=on_model,
            threads=threads,
            all_or_nothing=all_or_nothing,
            changes=run.changes,
        )
    run.record.add("models", results)
    failed = [r for r in results if r.status == "error"]
    if failed:
        first = failed[0]
        what = (
            first.message
            if first.message.startswith(first.name)
            else f"{first.name}: {first.message}"
        )
        raise BuildError(f"{len(failed)} model(s) failed to build; {what}")
    counts = Counter(r.status for r in results)
    summary = ", ".join(f"{n} {_SAID.get(status, status)}" for status, n in counts.items())
    return sum(r.rows or 0 for r in results), summary


def stage_dry_run(run: Run, *, select: str | None) -> str:
    """Ask the warehouse what each selected model would scan; build nothing."""
    from olist_cli.engine import load_project
    from olist_cli.engine.dryrun import dry_run_models

    estimates = dry_run_models(
        run.settings, run.wh, load_project(run.settings, run.wh.dialect), select
    )
    run.reporter.table(
        "Dry run (nothing was built)",
        ["model", "bytes", "note"],
        [(e.model, _bytes(e.bytes_processed), e.message) for e in estimates],
        always=True,
    )
    known = [e.bytes_processed for e in estimates if e.bytes_processed is not None]
    return f"{len(estimates)} models, {_bytes(sum(known))} estimated"


def _bytes(count: int | None) -> str:
    """A byte count as a person reads it: 1.5 GB."""
    if count is None:
        return ""
    size = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{count} B"


def stage_test(
    run: Run,
    *,
    select: str | None,
    threads: int | None = None,
    project: Project | None = None,
    all_or_nothing: bool = False,
    reuse: bool = False,
) -> Outcome:
    """Run the data tests; raise DataTestFailure if an error-level test failed.

    ``reuse``: recorded results and tests of changed rows where provably sound (run-all).
    """
    from olist_cli.engine import load_project, run_tests
    from olist_cli.engine.checks import CHANGED_ROWS_NOTE, NOT_RUN

    reporter = run.reporter
    project = project or load_project(run.settings, run.wh.dialect)
    with reporter.status("test: running data tests"):
        results = run_tests(
            run.settings,
            run.wh,
            project,
            select=select,
            threads=threads,
            all_or_nothing=all_or_nothing,
            changes=run.changes,
            reuse=reuse,
        )
    run.record.add("tests", results)
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
        reporter.event(
            "test",
            f"{r.status.upper():<5} {r.name}: {r.message}",
            level="error" if r in bad else "warning",
            test=r.name,
            status=r.status,
            failures=r.failures,
            sql=" ".join(r.sql.split()) or None,
        )
        if r.status == "warn" and not reporter.verbose:
            continue  # a known quirk: one line; --verbose shows the rows and the SQL
        for sample in r.sample_rows[:3]:
            reporter.detail(f"e.g. {_compact(sample)}")
        if r.sql:
            reporter.detail(f"reproduce: {' '.join(r.sql.split())}")
    passed = sum(1 for r in results if r.status == "pass")
    cached = sum(1 for r in results if "(up to date" in r.message)
    narrowed = sum(1 for r in results if CHANGED_ROWS_NOTE in r.message)
    notes = [f"{cached} up to date, not re-run"] if cached else []
    notes += [f"{narrowed} on changed rows only"] if narrowed else []
    reused = f" ({'; '.join(notes)})" if notes else ""
    summary = f"{len(results)} tests: {passed} passed, {len(warned)} warned, {len(bad)} failed"
    reporter.event("test", summary + reused, passed=passed, warned=len(warned), failed=len(bad))
    if bad:
        # Named: the tests that failed, not those that did not run because of them.
        failed = [r for r in bad if not r.message.startswith(NOT_RUN)] or bad
        names = ", ".join(r.name for r in failed[:5]) + (" …" if len(failed) > 5 else "")
        not_run = f" ({len(bad) - len(failed)} more not run)" if len(failed) < len(bad) else ""
        raise DataTestFailure(f"{len(failed)} error-level data test(s) failed{not_run}: {names}")
    return None, summary + reused


def _compact(row: dict[str, Any], limit: int = 160) -> str:
    """A sample row on one line: key=value pairs, cut at ``limit`` characters."""
    text = ", ".join(f"{k}={v}" for k, v in row.items())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def publishing(run: Run) -> Iterator[int | None]:
    """Write, audit, publish: the work inside becomes visible all at once, or not at all.

    Yields the number of threads the work inside may use: 1 where the adapter audits on
    its own connection (DuckDB's transaction), else the settings' default (None).
    """
    warehouse = run.wh  # opened here, if not yet: failing to open leaves nothing to undo
    try:
        with warehouse.write_audit_publish():
            yield 1 if warehouse.audit_on_one_connection else None
    except CheckpointError:
        raise  # committed: published, though not yet written into the file
    except OlistError as exc:
        exc.message += "; nothing was published, the warehouse is as it was before this run"
        raise
    run.reporter.event("publish", "done: readers now see the new tables", style="green")


# -- run-all -----------------------------------------------------------------------------


def run_all(
    run: Run,
    *,
    options: SourceOptions,
    select: str | None = None,
    full_refresh: bool = False,
    force: bool = False,
    allow_shrink: bool = False,
) -> None:
    """download → load → transform → test; load, transform and test publish together.

    The load is inside the publish too: the staging views read the raw tables, so a raw
    table replaced by a run whose tests then fail would show its rejected rows through
    them. On a failure the raw tables, their `_load_metadata` and the models all stay as
    they were, and the next run loads the same files again.
    """
    with run.stage("download") as result:
        fetched = stage_download(run, options)
        result.message = fetched.note
    if run.settings.archive:
        with run.stage("archive") as result:
            result.rows, result.message = stage_archive(run, fetched.folder)
    from olist_cli.load import hashing_sources

    # The files are hashed from now on, while the warehouse opens for the publish.
    with (
        hashing_sources(run.settings, fetched.folder, force=force) as md5s,
        publishing(run) as threads,
    ):
        with run.stage("load") as result:
            # What each file changed, row by row: the incremental models replace just the
            # rows it feeds, and the tests check them (not with --force or --full-refresh).
            keep = run.wh.keeps_changes and not (force or full_refresh)
            result.rows, result.message = stage_load(
                run,
                fetched.folder,
                force=force,
                keep_changes=keep,
                md5s=md5s,
                allow_shrink=allow_shrink,
            )
        with run.stage("transform") as result:
            from olist_cli.engine import load_project

            project = load_project(run.settings, run.wh.dialect)
            # --force redoes all the work: every file reloaded, every model rebuilt whole
            # (a hand-edited table is put right), every test run.
            result.rows, result.message = stage_transform(
                run,
                select=select,
                full_refresh=full_refresh or force,
                threads=threads,
                project=project,
            )
        with run.stage("test") as result:
            result.rows, result.message = stage_test(
                run,
                select=select,
                threads=threads,
                project=project,
                all_or_nothing=True,
                reuse=not force,
            )
