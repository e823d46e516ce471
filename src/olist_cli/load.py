"""The raw load stage: the nine CSV files → nine raw tables, and one `_load_metadata` row each.

A file whose MD5 matches the last successful load of its table is skipped, so a re-run
with the same files changes nothing and costs only the hashing. Every header is checked
before any table changes, so a renamed or missing column stops the run with nothing
loaded. Each table then changes atomically together with its metadata row: by difference
where the warehouse can (DuckDB deletes and inserts only the rows that differ from the
file), whole otherwise, and always whole with ``force``.

Nothing is lost quietly (see load_guards): a file whose last record is too long to be
read whole, or that holds rows yet loads none, is an error; so is a value its column's
type would change. A table that would shrink sharply is refused unless the run allows
it (``allow_shrink``).

Loading stops at the first file with a bad value. Files loaded before it in the same
call stay loaded: each was valid and committed on its own with its metadata row, and
the next run skips them by MD5 and resumes at the file that failed.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from olist_cli.dataset import LOAD_METADATA_TABLE, SOURCE_FILES, SourceFile
from olist_cli.errors import LoadError, SourceError
from olist_cli.filehash import Md5Cache
from olist_cli.load_guards import check_last_record, check_shrink, first_data_line
from olist_cli.run_results import IN_RECORD
from olist_cli.settings import Settings
from olist_cli.warehouse.base import Dialect, LoadedRows, Warehouse

_HEADER_MAX_BYTES = 64 * 1024  # a header is a few hundred bytes; never read a whole file
_SUCCESS = "success"
_FIRST_LOAD = "first load"


@dataclass(frozen=True)
class FileLoadResult:
    """What happened to one file: loaded into its table, or skipped as unchanged.

    ``rows`` is the table's row count after the load. ``inserted`` and ``deleted`` are the
    rows only in the file and only in the table before the load, duplicates counted, when
    the warehouse compared the two (None otherwise: a first or forced load, BigQuery).
    """

    table: str
    file_name: str
    status: Literal["loaded", "skipped"]
    rows: int
    bytes: int
    md5: str
    duration_s: float
    message: str
    inserted: int | None = None
    deleted: int | None = None
    # The MD5 of the file the table held before (None: no earlier load), and, when asked
    # for and the table changed in place, the relation of its changed rows (LoadedRows):
    # a scratch table of this run, left out of the run's record.
    previous_md5: str | None = None
    changes: str | None = field(default=None, metadata={IN_RECORD: False})


@dataclass(frozen=True)
class _Plan:
    source: SourceFile
    path: Path
    md5: str
    bytes: int
    skip: bool
    reason: str
    previous_rows: int
    forced: bool  # replace the table whole, even where it could change by difference
    previous_md5: str | None


@contextmanager
def hashing_sources(
    settings: Settings,
    source_dir: Path,
    *,
    force: bool = False,
    started: Sequence[Future[str]] | None = None,
) -> Iterator[Sequence[Future[str]] | None]:
    """Hash the nine files of ``source_dir`` in the background from now on, for ``load_raw``.

    Yields each file's MD5 as a future, in dataset order (recorded ones at once, unless
    ``force``); None when a file is missing, which ``load_raw`` then reports. Started
    before the warehouse is opened, the hashing uses the cores that opening leaves idle
    (a one-month step at scale 1: about 0.1 s of hashing, most of it hidden). The MD5
    cache is saved on the way out. ``started``: the futures of a hashing started earlier,
    yielded as they are.
    """
    if started is not None:
        yield started
        return
    paths = _paths(source_dir, SOURCE_FILES)
    if not all(path.is_file() for path in paths):
        yield None
        return
    hashes = Md5Cache.of(settings.data_dir)
    try:
        with hashes.hashing(paths, reuse=not force) as md5s:
            yield md5s
    finally:
        hashes.save()


def load_raw(
    settings: Settings,
    warehouse: Warehouse,
    source_dir: Path,
    *,
    force: bool = False,
    on_event: Callable[[FileLoadResult], None] | None = None,
    keep_changes: bool = False,
    md5s: Sequence[Future[str]] | None = None,
    allow_shrink: bool = False,
) -> list[FileLoadResult]:
    """Load the nine files of ``source_dir`` into ``settings.raw_dataset``, in dataset order.

    Unchanged files are skipped unless ``force``. Raises SourceError (a file is missing or
    its header is wrong; nothing is loaded) or LoadError (a record is too long, a value,
    field count or quote is wrong, or the table would shrink by more than
    ``settings.load_max_shrink`` and ``allow_shrink`` is not given; that table and its
    metadata stay as they were). ``on_event`` receives each file's result as soon as it is
    known. ``keep_changes``: keep each table's changed rows where it changes in place
    (``FileLoadResult.changes``). ``md5s``: the files' MD5s from ``hashing_sources``
    started earlier, with the same ``force``; by default they are hashed here, before the
    warehouse is first used.
    """
    sources = _present(source_dir)
    paths = _paths(source_dir, sources)
    for source, path in zip(sources, paths, strict=True):
        check_header(path, source)  # every header, before any table changes
    for source, path in zip(sources, paths, strict=True):
        check_last_record(path, source)  # a 64 KiB read each
    with hashing_sources(settings, source_dir, force=force, started=md5s) as pending:
        assert pending is not None  # every file is present
        return _load_all(
            settings,
            warehouse,
            sources,
            paths,
            pending,
            force,
            on_event,
            keep_changes,
            allow_shrink,
        )


def _load_all(
    settings: Settings,
    warehouse: Warehouse,
    sources: Sequence[SourceFile],
    paths: Sequence[Path],
    md5s: Sequence[Future[str]],
    force: bool,
    on_event: Callable[[FileLoadResult], None] | None,
    keep_changes: bool,
    allow_shrink: bool,
) -> list[FileLoadResult]:
    schema = settings.raw_dataset
    load_id = uuid.uuid4().hex
    warehouse.ensure_schema(schema)
    _ensure_metadata_table(warehouse, schema)
    last_loads = latest_loads(warehouse, schema)
    # The files still to hash are hashed concurrently, in the background. When every table
    # was loaded before, each file is compared with its table as soon as its own MD5 is
    # known, while the next ones are hashed: a comparison keeps only a few rows, and gains
    # from the overlap (a one-month step at scale 1: 0.05 s). A first load writes whole
    # tables, and hashing beside DuckDB's own threads slowed it by more than it saved
    # (scale 10: 4.2-4.5 s instead of 3.7-3.8 s): then every file is hashed first.
    streamed = not force and all(s.raw_table in last_loads for s in sources)
    if not streamed:
        wait(md5s)
    results: list[FileLoadResult] = []
    for source, path, md5 in zip(sources, paths, md5s, strict=True):
        plan = _plan(warehouse, schema, source, path, md5.result(), force, last_loads)
        if plan.skip:
            result = _skipped(plan)
        else:
            guard = _RowGuard(plan.source, plan.path, settings.load_max_shrink, allow_shrink)
            result = _load(warehouse, schema, plan, load_id, keep_changes, guard)
        results.append(result)
        if on_event is not None:
            on_event(result)
    return results


# -- planning: hashes and headers, before any table changes ------------------------------


def _paths(source_dir: Path, sources: Sequence[SourceFile]) -> list[Path]:
    return [source_dir / source.file_name for source in sources]


def _present(source_dir: Path) -> tuple[SourceFile, ...]:
    missing = [s.file_name for s in SOURCE_FILES if not (source_dir / s.file_name).is_file()]
    if missing:
        raise SourceError(f"missing {', '.join(missing)} in {source_dir}")
    return SOURCE_FILES


def _plan(
    warehouse: Warehouse,
    schema: str,
    source: SourceFile,
    path: Path,
    md5: str,
    force: bool,
    last_loads: dict[str, LastLoad],
) -> _Plan:
    size = path.stat().st_size
    previous = last_loads.get(source.raw_table)
    table_ok = [name for name, _ in warehouse.columns(schema, source.raw_table)] == (
        source.column_names
    )
    if previous is not None and previous.md5 == md5 and table_ok and not force:
        return _Plan(
            source, path, md5, size, True, f"unchanged (md5 {md5})", previous.rows, force, md5
        )
    if previous is None:
        reason = _FIRST_LOAD
    elif force:
        reason = "forced"
    elif not table_ok:
        reason = "table missing or changed"
    else:
        reason = f"changed (md5 was {previous.md5})"
    before = previous.md5 if previous is not None else None
    return _Plan(source, path, md5, size, False, reason, 0, force, before)


def check_header(path: Path, source: SourceFile) -> None:
    """Raise SourceError unless line 1 names exactly the expected columns, in order."""
    with path.open("rb") as handle:
        first = handle.readline(_HEADER_MAX_BYTES)
    where = f"{path.name}, line 1"
    if not first.strip():
        raise SourceError(f"{where}: no header (the file is empty or starts with a blank line)")
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{where}: not UTF-8 text") from None
    # The translation file starts with a UTF-8 BOM and ends its lines with CRLF.
    text = text.removeprefix("\ufeff").rstrip("\r\n")
    actual = next(csv.reader([text]), [])
    problem = header_problem(actual, source.column_names)
    if problem is not None:
        raise SourceError(f"{where}: {problem}")


def header_problem(actual: Sequence[str], expected: Sequence[str]) -> str | None:
    """The first difference between two headers, said the way a person would fix it."""
    for index, (got, want) in enumerate(zip(actual, expected, strict=False)):
        if got == want:
            continue
        if len(actual) < len(expected) and want not in actual:
            return f"missing column '{want}'"
        if len(actual) > len(expected) and got not in expected:
            return f"unexpected extra column '{got}'"
        return f"column {index + 1} is '{got}', expected '{want}'"
    if len(actual) < len(expected):
        return f"missing column '{expected[len(actual)]}'"
    if len(actual) > len(expected):
        return f"unexpected extra column '{actual[len(expected)]}'"
    return None


# -- loading -----------------------------------------------------------------------------


def _skipped(plan: _Plan) -> FileLoadResult:
    return FileLoadResult(
        plan.source.raw_table,
        plan.source.file_name,
        "skipped",
        plan.previous_rows,
        plan.bytes,
        plan.md5,
        0.0,
        plan.reason,
        previous_md5=plan.previous_md5,
    )


@dataclass(frozen=True)
class _RowGuard:
    """The row counts a load may give its table: ``load_csv``'s ``check_rows``."""

    source: SourceFile
    path: Path
    max_shrink: float
    allow_shrink: bool

    def __call__(self, before: int | None, after: int) -> None:
        line = first_data_line(self.path) if after == 0 else None
        if line is not None:
            raise LoadError(
                f"{self.path.name}, line {line}: the file holds rows after its header, "
                "but none could be read"
            )
        check_shrink(
            self.source, before, after, max_shrink=self.max_shrink, allowed=self.allow_shrink
        )


def _load(
    warehouse: Warehouse,
    schema: str,
    plan: _Plan,
    load_id: str,
    keep_changes: bool,
    guard: _RowGuard,
) -> FileLoadResult:
    source = plan.source
    started_at = _utc_now()
    clock = time.perf_counter()

    def record(rows: int) -> None:
        # Runs inside the load's transaction: the metadata row commits with the table.
        duration = time.perf_counter() - clock
        names = [name for name, _ in _metadata_schema(warehouse.dialect)]
        warehouse.execute(
            f"INSERT INTO {warehouse.relation(schema, LOAD_METADATA_TABLE)} "
            f"({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [
                load_id,
                source.raw_table,
                source.file_name,
                plan.md5,
                plan.bytes,
                rows,
                started_at,
                _utc_now(),
                _SUCCESS,
                duration,
            ],
        )

    loaded = warehouse.load_csv(
        schema,
        source.raw_table,
        plan.path,
        source.columns,
        before_commit=record,
        replace=plan.forced,
        keep_changes=keep_changes,
        check_rows=guard,
    )
    return FileLoadResult(
        source.raw_table,
        source.file_name,
        "loaded",
        loaded.rows,
        plan.bytes,
        plan.md5,
        time.perf_counter() - clock,
        _loaded_message(plan, loaded),
        loaded.inserted,
        loaded.deleted,
        plan.previous_md5,
        loaded.changes,
    )


def _loaded_message(plan: _Plan, loaded: LoadedRows) -> str:
    """Why the file was loaded and how: ``changed (md5 was …): +3,374 -3,269 rows``."""
    if loaded.inserted is None or loaded.deleted is None:
        # Rewritten without a comparison: a first load creates the table, the others say so.
        return plan.reason if plan.reason == _FIRST_LOAD else f"{plan.reason}: replaced"
    change = f"+{loaded.inserted:,} -{loaded.deleted:,} rows"
    return f"{plan.reason}: {'replaced, ' if loaded.replaced else ''}{change}"


# -- _load_metadata ----------------------------------------------------------------------


def _metadata_schema(d: Dialect) -> list[tuple[str, str]]:
    """(column, type) of `_load_metadata`; types spelled by the warehouse's dialect."""
    return [
        ("load_id", d.type_string),  # one uuid4 per load_raw call
        ("table_name", d.type_string),
        ("file_name", d.type_string),
        ("file_md5", d.type_string),
        ("file_bytes", d.type_int),
        ("row_count", d.type_int),
        ("started_at", d.type_timestamp),  # UTC, from Python: never the warehouse's clock
        ("finished_at", d.type_timestamp),
        ("status", d.type_string),
        ("duration_s", d.type_float),
    ]


def _ensure_metadata_table(warehouse: Warehouse, schema: str) -> None:
    columns = ", ".join(f"{name} {type_}" for name, type_ in _metadata_schema(warehouse.dialect))
    warehouse.execute(
        f"CREATE TABLE IF NOT EXISTS {warehouse.relation(schema, LOAD_METADATA_TABLE)} ({columns})"
    )


@dataclass(frozen=True)
class LastLoad:
    """The latest successful load of a raw table: the file its contents came from."""

    table: str
    file_name: str
    md5: str
    bytes: int
    rows: int
    finished_at: dt.datetime


def latest_loads(warehouse: Warehouse, schema: str) -> dict[str, LastLoad]:
    """Each raw table's latest successful load, from `_load_metadata`, in one query.

    The one reading of that table: the loader (skip by MD5), the engine (model fingerprints)
    and `olist status` all ask it the same question.
    """
    if not warehouse.table_exists(schema, LOAD_METADATA_TABLE):
        return {}
    rows = warehouse.query(
        "select table_name, file_name, file_md5, file_bytes, row_count, finished_at from ("
        "select table_name, file_name, file_md5, file_bytes, row_count, finished_at, "
        "row_number() over "
        "(partition by table_name order by finished_at desc, started_at desc) as recency "
        f"from {warehouse.relation(schema, LOAD_METADATA_TABLE)} where status = ?) as latest "
        "where recency = 1",
        [_SUCCESS],
    )
    return {
        table: LastLoad(table, file_name, md5, int(size), int(count), finished)
        for table, file_name, md5, size, count, finished in rows
    }


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
