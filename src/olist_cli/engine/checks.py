"""Run data tests: each is a SELECT of failing rows; zero rows is a pass.

A failing test with severity 'warn' reports 'warn'; with 'error', 'fail'. A test whose
SQL does not run reports 'error'. Nothing is raised: the caller decides the exit code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from olist_cli.engine.build import first_line
from olist_cli.engine.graph import Graph
from olist_cli.engine.project import DataTest, Project
from olist_cli.engine.render import Renderer
from olist_cli.engine.results import TestResult
from olist_cli.settings import Settings
from olist_cli.warehouse.base import Warehouse

SAMPLE_ROWS = 5


def _run_one(warehouse: Warehouse, renderer: Renderer, test: DataTest) -> TestResult:
    start = time.perf_counter()
    sql, failures, sample, status = "", 0, [], "error"
    try:
        sql = renderer.render_test(test)
        failing = f"select * from (\n{sql}\n) as failing"
        failures = int(warehouse.query(f"select count(*) from (\n{sql}\n) as failing")[0][0])
        if failures:
            names, rows = warehouse.query_columns(f"{failing}\nlimit {SAMPLE_ROWS}")
            sample = [dict(zip(names, row, strict=True)) for row in rows]
        status = "pass" if not failures else "warn" if test.severity == "warn" else "fail"
        message = f"{failures} failing rows" if failures else "ok"
    except Exception as exc:  # a broken test is reported, and the other tests still run
        message = first_line(exc)
    return TestResult(
        name=test.name,
        model=test.model,
        severity=test.severity,
        status=status,
        failures=failures,
        duration_s=time.perf_counter() - start,
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


def run_tests(
    settings: Settings,
    warehouse: Warehouse,
    project: Project,
    *,
    select: str | None = None,
    on_event: Callable[[TestResult], None] | None = None,
) -> list[TestResult]:
    """Run the selected tests concurrently; results in project order. ``on_event`` runs here."""
    tests = select_tests(project, select)
    renderer = Renderer(settings, project, warehouse.relation, warehouse.dialect)
    results: dict[str, TestResult] = {}
    with ThreadPoolExecutor(max_workers=settings.threads) as pool:
        futures = [pool.submit(_run_one, warehouse, renderer, t) for t in tests]
        for future in as_completed(futures):
            result = future.result()
            results[result.name] = result
            if on_event is not None:
                on_event(result)
    return [results[t.name] for t in tests]
