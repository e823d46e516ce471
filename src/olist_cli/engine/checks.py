"""Run data tests: each is a SELECT of failing rows; zero rows is a pass.

A failing test with severity 'warn' reports 'warn'; with 'error', 'fail'. A test whose
SQL does not run reports 'error'. Nothing is raised: the caller decides the exit code.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace

from olist_cli.engine.build import first_line
from olist_cli.engine.changes import ChangedRows, RunChanges, fingerprint_of_test
from olist_cli.engine.graph import Graph
from olist_cli.engine.project import DataTest, Project
from olist_cli.engine.render import Renderer
from olist_cli.engine.results import TestResult, metered
from olist_cli.engine.state import Recorded, StateStore
from olist_cli.errors import ProjectError, WarehouseError
from olist_cli.settings import Settings
from olist_cli.warehouse.base import Warehouse

SAMPLE_ROWS = 5
NOT_RUN = "not run: "  # how a test that did not run because another one failed begins
# Where DuckDB's error points into the statement (the BigQuery emulator says nowhere).
_ERROR_LINE = re.compile(r"^LINE (\d+):", re.MULTILINE)
# Said of a test run on the changed rows only, and counted in the run's summary.
CHANGED_ROWS_NOTE = "(changed rows only: the others passed on the data this run started from)"


class BatchFailed(Exception):
    """The one counting query failed: some test does not run (``culprit``, where the
    warehouse's error points into one test's part of the statement)."""

    def __init__(self, message: str, culprit: DataTest | None) -> None:
        super().__init__(message)
        self.culprit = culprit


class Narrowed:
    """The tests a run checks on changed rows only: each one's SELECT over them, and the
    relations several of them read (a model's changed rows).

    Each shared relation is computed once per statement that reads it, as a MATERIALIZED
    CTE: the tests' one counting query gathers them too, instead of one statement per model
    before it (a one-month step at scale 1: 0.02 s less than scratch tables).
    """

    def __init__(self) -> None:
        self._selects: dict[str, str] = {}
        self._tests: dict[str, str] = {}  # test name -> its SELECT over the changed rows

    def add(self, test: DataTest, sql: str) -> None:
        self._tests[test.name] = sql

    def sql(self, test: DataTest) -> str | None:
        """The test's SELECT over the changed rows; None: it runs whole."""
        return self._tests.get(test.name)

    def keep(self, relation: str) -> str:
        """A name for the relation's rows, usable in any SQL passed through ``reading``."""
        # The number inside the name: no name is the start of another.
        name = f"olist_changed_{len(self._selects)}_rows"
        self._selects[name] = f"select * from {relation} as changed"
        return name

    def reading(self, sql: str) -> str:
        """The SQL, with the shared relations it reads defined in front of it (and those
        they read, defined before them): a failing test's sample gathers only its own."""
        wanted, text = set(), sql
        for name, select in reversed(self._selects.items()):  # a name reads earlier ones
            if name in text:
                wanted.add(name)
                text += select
        if not wanted:
            return sql
        defined = ",\n".join(
            f"{name} as materialized (\n{select}\n)"
            for name, select in self._selects.items()
            if name in wanted
        )
        return f"with {defined}\n{sql}"


def _count_all(
    warehouse: Warehouse, renderer: Renderer, tests: list[DataTest], narrowed: Narrowed
) -> list[int] | None:
    """Every test's failing-row count in one query; None when there are too few to batch.

    Most tests find nothing; one statement instead of one per test saves the per-query
    overhead that would otherwise dominate the test stage. Raises BatchFailed when a test
    does not run.
    """
    if len(tests) < 2:
        return None
    try:
        parts = [
            f"select {i} as test_index, count(*) as failures from (\n"
            f"{narrowed.sql(test) or renderer.render_test(test)}\n) as failing_{i}"
            for i, test in enumerate(tests)
        ]
    except WarehouseError:
        raise
    except Exception as exc:
        raise BatchFailed(first_line(exc), None) from exc
    counts = " union all\n".join(parts)
    statement = narrowed.reading(counts)
    try:
        rows = warehouse.query(statement)
    except WarehouseError:
        raise
    except Exception as exc:
        before = statement[: len(statement) - len(counts)].count("\n")
        raise BatchFailed(first_line(exc), _test_at_error_line(exc, before, parts, tests)) from exc
    by_index = {int(i): int(n) for i, n in rows}
    return [by_index[i] for i in range(len(tests))]


def _test_at_error_line(
    exc: Exception, lines_before: int, parts: list[str], tests: list[DataTest]
) -> DataTest | None:
    """The test whose part of the counting statement holds the line the error points at
    (``lines_before`` lines precede the first part); None if it points at none."""
    found = _ERROR_LINE.search(str(exc))
    if found is None:
        return None
    line = int(found[1]) - lines_before
    if line < 1:
        return None  # in the shared rows in front of the parts
    for test, part in zip(tests, parts, strict=True):
        line -= part.count("\n") + 1  # the part and the " union all\n" after it
        if line <= 0:
            return test
    return None


def _errored(test: DataTest, message: str, sql: str = "") -> TestResult:
    return TestResult(
        name=test.name,
        model=test.model,
        severity=test.severity,
        status="error",
        failures=0,
        duration_s=0.0,
        sql=sql,
        message=message,
    )


def _not_run(test: DataTest, why: str) -> TestResult:
    return _errored(test, f"{NOT_RUN}{why}")


def _run_one(
    warehouse: Warehouse,
    renderer: Renderer,
    test: DataTest,
    counted: int | None,
    narrowed: Narrowed,
) -> TestResult:
    start = time.perf_counter()
    with metered(warehouse) as used:
        result = _check(warehouse, renderer, test, counted, narrowed)
    return replace(
        result,
        duration_s=time.perf_counter() - start,
        bytes_processed=used.processed,
        bytes_billed=used.billed,
    )


def _check(
    warehouse: Warehouse,
    renderer: Renderer,
    test: DataTest,
    counted: int | None,
    narrowed: Narrowed,
) -> TestResult:
    """Run one test; on the changed rows only where ``narrowed`` has its SELECT for them.

    The result's SQL is the whole test's either way: it is what a person can rerun.
    """
    sql, failures, sample, status = "", 0, [], "error"
    try:
        sql = renderer.render_test(test)
        on_changed_rows = narrowed.sql(test)
        running = on_changed_rows or sql
        if counted is None:
            counting = f"select count(*) from (\n{running}\n) as failing"
            counted = int(warehouse.query(narrowed.reading(counting))[0][0])
        failures = counted
        if failures:
            failing = f"select * from (\n{running}\n) as failing\nlimit {SAMPLE_ROWS}"
            names, rows = warehouse.query_columns(narrowed.reading(failing))
            sample = [dict(zip(names, row, strict=True)) for row in rows]
        status = "pass" if not failures else "warn" if test.severity == "warn" else "fail"
        message = f"{failures} failing row{'s' if failures != 1 else ''}" if failures else "ok"
        if on_changed_rows:
            message += f" {CHANGED_ROWS_NOTE}"
    except WarehouseError:
        raise  # a damaged warehouse fails the run, naming the table; no test can run
    except Exception as exc:  # a broken test is reported, and the other tests still run
        message = first_line(exc)
    return TestResult(
        name=test.name,
        model=test.model,
        severity=test.severity,
        status=status,
        failures=failures,
        duration_s=0.0,
        sql=sql,
        sample_rows=sample,
        message=message,
    )


def select_tests(project: Project, select: str | None) -> list[DataTest]:
    """The tests of the selected models; a singular test runs when any model it refs does."""
    if not select:
        return list(project.tests)
    chosen = Graph(project).select(select)
    return [
        t
        for t in project.tests
        if (t.kind == "singular" and chosen & set(t.depends_on)) or t.model in chosen
    ]


def _fingerprint(
    test: DataTest, sql: str, state: StateStore, sources: dict[str, str]
) -> str | None:
    """The test's SQL and severity with the fingerprints of the models it reads, and the MD5
    of the file behind each raw table it reads through source()."""
    return fingerprint_of_test(
        test,
        sql,
        {m: getattr(state.get("model", m), "fingerprint", None) for m in test.depends_on},
        sources,
    )


def _cached(test: DataTest, sql: str, recorded: Recorded) -> TestResult:
    return TestResult(
        name=test.name,
        model=test.model,
        severity=test.severity,
        status=recorded.status,  # type: ignore[arg-type]
        failures=recorded.failures,
        duration_s=0.0,
        sql=sql,
        message=(
            f"{recorded.failures} failing row{'s' if recorded.failures != 1 else ''} "
            if recorded.failures
            else ""
        )
        + "(up to date: same SQL and data as its last run)",
    )


def run_tests(
    settings: Settings,
    warehouse: Warehouse,
    project: Project,
    *,
    select: str | None = None,
    on_event: Callable[[TestResult], None] | None = None,
    threads: int | None = None,
    all_or_nothing: bool = False,
    changes: RunChanges | None = None,
    reuse: bool = False,
) -> list[TestResult]:
    """Run the selected tests; results in project order. ``on_event`` runs on this thread.

    Every test runs against the tables as they are, unless ``reuse``: then a test that
    passed (or warned) on exactly the same SQL and model data reports its recorded
    result, and one that passed on the data the run started from checks the rows
    ``changes`` says changed since. A caller asks for that only where the records are
    provably about these very tables (run-all, on a sealed warehouse: see
    warehouse/duckdb_seal.py). ``all_or_nothing``: the caller publishes nothing if
    a test errors, and inside a DuckDB transaction a failed statement ends it, so tests
    after an error are reported as not run. ``threads=1`` runs on the calling thread and
    the warehouse's own connection (inside the caller's transaction). ``changes``: what
    this run's load and build changed; a generic test that passed on the data the run
    started from then checks the changed rows only (see changes.py), on one thread.
    """
    tests = select_tests(project, select)
    renderer = Renderer(settings, project, warehouse.relation, warehouse.dialect)
    state = StateStore(warehouse, settings.raw_dataset, deferred=True)
    raw_md5s = state.source_md5s() if any(t.sources for t in tests) else {}
    results: dict[str, TestResult] = {}
    to_run: list[DataTest] = []
    fingerprints: dict[str, str | None] = {}
    workers = threads if threads is not None else settings.threads
    narrowed = Narrowed()
    narrower = (
        ChangedRows(project, renderer, changes, narrowed.keep)
        if reuse and changes is not None and workers <= 1
        else None
    )

    def record(result: TestResult) -> None:
        results[result.name] = result
        if on_event is not None:
            on_event(result)

    for test in tests:
        try:
            sql = renderer.render_test(test)
        except Exception:  # reported by _run_one, with the template error
            to_run.append(test)
            continue
        fingerprint = fingerprints[test.name] = _fingerprint(test, sql, state, raw_md5s)
        recorded = state.get("test", test.name)
        if reuse and fingerprint is not None and recorded and recorded.fingerprint == fingerprint:
            record(_cached(test, sql, recorded))
            continue
        if narrower is not None and narrower.eligible(test, sql, recorded):
            try:
                changed_sql = narrower.sql(test)
            except ProjectError:  # it runs whole instead, and reports its own template error
                changed_sql = None
            if changed_sql is not None:
                narrowed.add(test, changed_sql)
        to_run.append(test)

    def finish(result: TestResult) -> None:
        fingerprint = fingerprints.get(result.name)
        if result.status in ("pass", "warn") and fingerprint is not None:
            entry = Recorded(fingerprint, "", result.status, result.failures)
            state.record("test", result.name, entry)
        else:
            state.forget("test", result.name)
        record(result)

    if workers <= 1:
        try:
            counts = _count_all(warehouse, renderer, to_run, narrowed)
        except BatchFailed as exc:
            if all_or_nothing:
                # The failed statement ended the caller's transaction: nothing else can run
                # here. `olist test`, outside a transaction, runs them one by one.
                culprit = exc.culprit
                why = (
                    f"{culprit.name} does not run, and nothing is published"
                    if culprit is not None
                    else f"a test does not run ({exc}); `olist test` shows which"
                )
                for test in to_run:
                    if test is culprit:
                        finish(_errored(test, str(exc), renderer.render_test(test)))
                    else:
                        finish(_not_run(test, why))
                to_run, counts = [], None
            else:
                counts = None  # run them one by one, to report the broken one alone
        stopped = ""
        for i, test in enumerate(to_run):
            if stopped:
                finish(_not_run(test, stopped))
                continue
            result = _run_one(
                warehouse,
                renderer,
                test,
                None if counts is None else counts[i],
                narrowed,
            )
            finish(result)
            if all_or_nothing and result.status == "error":
                stopped = f"{test.name} did not run, and nothing is published"
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [
                pool.submit(_run_one, warehouse, renderer, t, None, narrowed) for t in to_run
            ]
            for future in as_completed(futures):
                finish(future.result())
    broken = any(r.status == "error" for r in results.values())
    state.flush(failed=broken)  # the results of this run, in one write (inside the caller's WAP)
    return [results[t.name] for t in tests]
