"""Build selected models in DAG order: view, table, or incremental MERGE.

Independent models build concurrently on ``settings.threads`` threads. A model is marked
done only when it built, so the descendants of a failure are never started; they are
reported as skipped. A failing model raises nothing here: the caller reads the results.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from olist_cli.engine.graph import Graph
from olist_cli.engine.project import Model, Project
from olist_cli.engine.render import Renderer
from olist_cli.engine.results import ModelResult
from olist_cli.settings import Settings
from olist_cli.warehouse.base import Dialect, Warehouse

DEFAULT_LOOKBACK_DAYS = 3


def first_line(exc: BaseException) -> str:
    """A warehouse error in one line (DuckDB adds hints on later lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def render_model(
    settings: Settings,
    warehouse: Warehouse,
    project: Project,
    name: str,
    *,
    full_refresh: bool = False,
) -> str:
    """The SELECT a model would build from now, e.g. for a dry run."""
    model = project.models[name]
    renderer = Renderer(settings, project, warehouse.relation, warehouse.dialect)
    return renderer.render_model(
        model, incremental=_is_incremental(settings, warehouse, model, full_refresh)
    )


def _is_incremental(
    settings: Settings, warehouse: Warehouse, model: Model, full_refresh: bool
) -> bool:
    return (
        model.config.materialized == "incremental"
        and not full_refresh
        and warehouse.table_exists(settings.layer_schema(model.layer), model.name)
    )


def cutoff_literal(watermark: dt.date, lookback_days: int, dialect: Dialect) -> str:
    """``watermark - lookback_days`` as a typed SQL literal, formatted from a Python value."""
    cutoff = watermark - dt.timedelta(days=lookback_days)
    if isinstance(cutoff, dt.datetime):
        return f"cast('{cutoff.isoformat(sep=' ')}' as {dialect.type_timestamp})"
    return f"cast('{cutoff.isoformat()}' as {dialect.type_date})"


def _merge(settings: Settings, warehouse: Warehouse, model: Model, sql: str) -> tuple[int, str]:
    """MERGE the model's recent rows into its table; return (rows merged, message)."""
    schema, cfg = settings.layer_schema(model.layer), model.config
    key = cfg.incremental_key
    # The watermark is its own query, so the MERGE below carries a constant filter that
    # an engine can prune on, not a subquery against the table being merged into.
    this = warehouse.relation(schema, model.name)
    watermark = warehouse.query(f"select max({key}) from {this}")[0][0]
    if watermark is None:  # empty table: every row is new
        source_sql, since = sql, "empty table"
    elif isinstance(watermark, dt.date):
        # Lookback: rows whose key moved forward by less than this window since the last
        # run (late status or delivery updates) still reach the table. A row changed with
        # an older key value is not seen until a full refresh.
        days = cfg.lookback_days
        if days is None:
            days = getattr(settings, "lookback_days", DEFAULT_LOOKBACK_DAYS)
        cutoff = cutoff_literal(watermark, days, warehouse.dialect)
        source_sql = f"select * from (\n{sql}\n) as model_rows\nwhere {key} >= {cutoff}"
        since = f"{key} >= {cutoff}"
    else:
        raise TypeError(f"incremental_key {key} must be a date or timestamp, got {watermark!r}")
    # Seam: the target side is not yet restricted to the touched partitions (BigQuery
    # would then scan only those); that needs a target predicate on warehouse.merge.
    rows = warehouse.merge(schema, model.name, source_sql, unique_key=cfg.unique_key)
    return rows, f"merged {rows} rows ({since})"


def _build_one(
    settings: Settings, warehouse: Warehouse, renderer: Renderer, model: Model, full_refresh: bool
) -> ModelResult:
    start = time.perf_counter()
    cfg, schema = model.config, settings.layer_schema(model.layer)
    rows: int | None = None
    try:
        incremental = _is_incremental(settings, warehouse, model, full_refresh)
        sql = renderer.render_model(model, incremental=incremental)
        if cfg.materialized == "view":
            warehouse.create_view(schema, model.name, sql)
            message = "view created"
        elif incremental:
            rows, message = _merge(settings, warehouse, model, sql)
        else:
            rows = warehouse.create_table_as(
                schema, model.name, sql, partition_by=cfg.partition_by, cluster_by=cfg.cluster_by
            )
            refreshed = full_refresh and cfg.materialized == "incremental"
            message = f"{'full refresh' if refreshed else 'table created'}, {rows} rows"
        status = "success"
    except Exception as exc:  # report, don't raise: the other branches of the DAG go on
        status, message = "error", first_line(exc)
    return ModelResult(
        name=model.name,
        layer=model.layer,
        materialization=cfg.materialized,
        status=status,
        duration_s=time.perf_counter() - start,
        rows=rows,
        message=message,
    )


def build(
    settings: Settings,
    warehouse: Warehouse,
    project: Project,
    *,
    select: str | None = None,
    full_refresh: bool = False,
    on_event: Callable[[ModelResult], None] | None = None,
) -> list[ModelResult]:
    """Build the selected models; results in build order. ``on_event`` runs on this thread."""
    graph = Graph(project)
    chosen = graph.select(select)
    renderer = Renderer(settings, project, warehouse.relation, warehouse.dialect)
    for layer in sorted({project.models[n].layer for n in chosen}):
        warehouse.ensure_schema(settings.layer_schema(layer))

    results: dict[str, ModelResult] = {}

    def record(result: ModelResult) -> None:
        results[result.name] = result
        if on_event is not None:
            on_event(result)

    sorter = graph.sorter(chosen)
    sorter.prepare()
    with ThreadPoolExecutor(max_workers=settings.threads) as pool:
        running: dict[Future[ModelResult], str] = {}
        while sorter.is_active():
            for name in sorter.get_ready():
                model = project.models[name]
                running[
                    pool.submit(_build_one, settings, warehouse, renderer, model, full_refresh)
                ] = name
            if not running:
                break  # what is left waits on a failed model
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                del running[future]
                result = future.result()
                record(result)
                if result.status == "success":
                    sorter.done(result.name)

    failed = {n for n, r in results.items() if r.status == "error"}
    for name in graph.order(chosen):
        if name not in results:
            upstream = sorted(graph.ancestors(name) & failed)
            model = project.models[name]
            message = f"skipped: upstream {', '.join(upstream)} failed"
            record(
                ModelResult(
                    name, model.layer, model.config.materialized, "skipped", 0.0, None, message
                )
            )
    return [results[name] for name in graph.order(chosen)]
