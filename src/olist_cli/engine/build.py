"""Build selected models in DAG order: view, table, or incremental MERGE.

Independent models build concurrently on ``settings.threads`` threads. A model is marked
done only when it built, so the descendants of a failure are never started; they are
reported as skipped. A failing model raises nothing here: the caller reads the results.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from olist_cli.dataset import BY_RAW_TABLE
from olist_cli.engine import incremental as increments
from olist_cli.engine.changes import UNCHANGED, RunChanges, keyed_by
from olist_cli.engine.graph import Graph
from olist_cli.engine.project import Model, Project
from olist_cli.engine.render import Renderer
from olist_cli.engine.results import ModelResult, metered
from olist_cli.engine.state import (
    Recorded,
    StateStore,
    digest_of_inputs,
    model_definition,
)
from olist_cli.errors import ProjectError, WarehouseError
from olist_cli.settings import Settings
from olist_cli.warehouse.base import Warehouse, iter_quoted


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
        model, incremental=is_incremental(settings, warehouse, model, full_refresh)
    )


def is_incremental(
    settings: Settings,
    warehouse: Warehouse,
    model: Model,
    full_refresh: bool,
    *,
    exists: bool | None = None,
) -> bool:
    """Whether the model's next build merges into its table; ``exists``: already looked up."""
    if model.config.materialized != "incremental" or full_refresh:
        return False
    if exists is None:
        exists = warehouse.table_exists(settings.layer_schema(model.layer), model.name)
    return exists


def _check_shape(
    warehouse: Warehouse,
    model: Model,
    schema: str,
    sql: str,
    definition: str | None,
    recorded: Recorded | None,
) -> None:
    """Refuse to MERGE into a table built by another version of the model or its inputs."""
    if recorded is not None and definition is not None:
        changed = recorded.definition != definition
    else:  # nothing to compare with: compare the columns at least
        names, _ = warehouse.query_columns(f"select * from (\n{sql}\n) as probe limit 0")
        changed = [n.lower() for n in names] != [
            c.lower() for c, _ in warehouse.columns(schema, model.name)
        ]
    if changed:
        raise ShapeChanged(stale_message(model.name, [model.name]))


def stale_message(name: str, to_rebuild: list[str]) -> str:
    return (
        f"{name}: its SQL or config, or the SQL of a model it reads, changed since its table "
        "was built; merging would mix rows of two versions. Rebuild it: "
        f"olist transform --select {' '.join(to_rebuild)} --full-refresh"
    )


class ShapeChanged(Exception):
    """An incremental model's definition changed since its table was built."""


def _replace_changed(
    settings: Settings,
    warehouse: Warehouse,
    renderer: Renderer,
    model: Model,
    plan: increments.Plan,
    changes: RunChanges,
) -> tuple[int, str]:
    """Replace the rows of the values whose rows changed in the model's refs; (rows, message).

    Each column's changed values are gathered once, into a scratch table that the model's
    ``changed()`` and the replace both read.
    """
    schema, cfg = settings.layer_schema(model.layer), model.config
    if not plan.values:
        changes.models[model.name] = UNCHANGED
        return 0, "no row of its inputs changed"
    _check_keys_from(warehouse, model, schema)
    kept = warehouse.kept_rows
    values = {
        column: kept(f"select distinct {column} from (\n{sql}\n) as v", prefix="olist_values")
        for column, sql in plan.values.items()
    }
    # A keys_from column with no changed value renders as an empty scratch table too: the
    # model's SQL then reads the same kind of relation for each, never the table itself.
    target = warehouse.relation(schema, model.name)
    empty = {
        column: kept(f"select {column} from {target} where false", prefix="olist_values")
        for column in set(cfg.keys_from.values()) - set(values)
    }
    sql = renderer.render_model(
        model,
        incremental=True,
        changed={
            column: f"(select {column} from {table})"
            for column, table in {**values, **empty}.items()
        },
    )
    replaced = warehouse.replace_rows(
        schema,
        model.name,
        f"select * from (\n{sql}\n) as m\nwhere {increments.matching('m', values)}",
        unique_key=cfg.unique_key,
        matching=increments.matching("t", values),
    )
    changes.models[model.name] = increments.changed_rows(
        cfg.unique_key, replaced.new_rows, replaced.touched
    )
    by = ", ".join(sorted(values))
    return replaced.inserted, (
        f"replaced the rows of the changed {by}: +{replaced.inserted:,} -{replaced.deleted:,}"
    )


def _check_keys_from(warehouse: Warehouse, model: Model, schema: str) -> None:
    """Each keys_from column must be a column of the model's table."""
    have = {c.lower() for c, _ in warehouse.columns(schema, model.name)}
    missing = sorted({c for c in model.config.keys_from.values() if c.lower() not in have})
    if missing:
        raise ProjectError(f"{model.name}: keys_from {', '.join(missing)} is not a column of it")


def _check_delta_key(settings: Settings, warehouse: Warehouse, model: Model) -> None:
    """A view's delta_key must name columns of both the view and the raw table it reads."""
    key = model.config.delta_key
    if not key:
        return
    columns = {"the view": warehouse.columns(settings.layer_schema(model.layer), model.name)}
    if not any(keyed_by(raw, key) for raw in model.sources):
        # The raw tables' columns are the files' own: the key must be one's at least.
        known = BY_RAW_TABLE.get(model.sources[0])
        columns[f"raw table {model.sources[0]}"] = (
            [(c, "") for c in known.column_names] if known is not None else []
        )
    for what, found in columns.items():
        have = {c.lower() for c, _ in found}
        missing = [c for c in key if c.lower() not in have]
        if missing:
            raise ProjectError(
                f"{model.name}: delta_key {', '.join(missing)} is not a column of {what}"
            )


def _replace_unless_same(
    warehouse: Warehouse, model: Model, schema: str, sql: str
) -> tuple[int, bool]:
    """Replace the table with the SELECT's rows unless they are its rows already (as
    multisets); (row count, whether they were the same).

    For a small table rebuilt whole on DuckDB (the only engine that tracks changes): the
    SELECT is computed once, into a scratch table, and compared with the table by row
    hash, each hash with its number of copies (dim_date, 1,827 rows: 2 ms, against 7 ms
    for EXCEPT ALL both ways). As in the load's comparison, a row replaced by a different
    row with the same 64-bit hash is the one way to be wrong. When nothing changed, the
    rewrite and the whole run of its tests are spared.
    """
    cfg, relation = model.config, warehouse.relation(schema, model.name)
    with warehouse.staged_rows(sql) as new:  # type: ignore[attr-defined]
        names, _ = warehouse.query_columns(f"{new} limit 0")
        if [n.lower() for n in names] == [
            c.lower() for c, _ in warehouse.columns(schema, model.name)
        ]:
            hashed = f"hash({', '.join(iter_quoted(names))})"

            def copies(rows: str) -> str:
                return f"(select {hashed} as h, count(*) as n from ({rows}) as r group by h)"

            differing, rows = warehouse.query(
                "select count(*) filter (where o.h is null or c.h is null), "
                f"coalesce(sum(o.n), 0) from {copies(f'select * from {relation}')} as o "
                f"full outer join {copies(new)} as c on o.h = c.h and o.n = c.n"
            )[0]
            if int(differing) == 0:
                return int(rows), True
        created = warehouse.create_table_as(
            schema, model.name, new, partition_by=cfg.partition_by, cluster_by=cfg.cluster_by
        )
        return created, False


def _digest_with_refs(
    model: Model,
    definition: str,
    current: dict[str, str | None],
    state: StateStore,
    recorded_field: str,
    sources: dict[str, str] | None = None,
    skip: tuple[str, ...] = (),
) -> str | None:
    """Hash a model's definition with a value of each model it refs (and raw file MD5s).

    A ref's value comes from this run (``current``) or, for a model not handled in it, from
    its recorded state. None when any input is unknown: then nothing can be assumed.
    ``skip``: refs left out.
    """

    def value(ref: str) -> str | None:
        if ref in current:
            return current[ref]
        recorded = state.get("model", ref)
        return getattr(recorded, recorded_field) if recorded else None

    refs = {ref: value(ref) for ref in set(model.refs) - set(skip)}
    tables = model.sources if sources is not None else ()
    return digest_of_inputs([definition], refs, tables, sources)


def _fingerprint(
    model: Model,
    definition: str,
    built: dict[str, str | None],
    state: StateStore,
    sources: dict[str, str],
) -> str | None:
    """What the model's table holds: its logic and its inputs' data. None: must build."""
    return _digest_with_refs(model, definition, built, state, "fingerprint", sources)


def _logic(
    model: Model, definition: str, logics: dict[str, str | None], state: StateStore
) -> str | None:
    """What the model computes, data aside: its definition and its upstream models' logic.

    An incremental table is only consistent while this stays the same: a change to an
    upstream view's SQL changes the rows a replace would bring, but only for the changed
    values. The refs it reads whole (not in keys_from) are left out: any change to one,
    of SQL or of data, rebuilds the table whole. None when an upstream model's logic is
    unknown.
    """
    read_whole = tuple(r for r in model.refs if r not in model.config.keys_from)
    if model.config.materialized != "incremental":
        read_whole = ()
    return _digest_with_refs(model, definition, logics, state, "definition", skip=read_whole)


def _start(
    model: Model,
    logic: str | None,
    recorded: Recorded | None,
    state: StateStore,
    changes: RunChanges,
) -> str | None:
    """The model's recorded fingerprint, if it describes the data the model held at the start.

    That is: the fingerprint its logic gives with the raw files loaded before this run
    and its refs' own starting fingerprints. A view whose raw table was loaded alone
    since the view's last build fails this, as does any model whose SQL changed.
    """
    if recorded is None or logic is None:
        return None
    start = _digest_with_refs(
        model, logic, changes.start, state, "fingerprint", changes.sources_before
    )
    return recorded.fingerprint if start == recorded.fingerprint else None


def _stale_incrementals(
    settings: Settings,
    warehouse: Warehouse,
    renderer: Renderer,
    graph: Graph,
    chosen: set[str],
    state: StateStore,
) -> list[str]:
    """Incremental models whose table was built by another version of their logic."""
    project = graph.project
    logics: dict[str, str | None] = {}
    stale = []
    for name in graph.order(chosen):
        model = project.models[name]
        try:
            own = model_definition(model, renderer.render_model(model, incremental=False))
        except ProjectError:
            logics[name] = None  # the build reports it
            continue
        logic = logics[name] = _logic(model, own, logics, state)
        recorded = state.get("model", name)
        if (
            model.config.materialized == "incremental"
            and logic is not None
            and recorded is not None
            and recorded.definition != logic
            and warehouse.table_exists(settings.layer_schema(model.layer), name)
        ):
            stale.append(name)
    return stale


@dataclass(frozen=True)
class _Job:
    model: Model
    definition: str | None  # the logic digest (see _logic); None when unknown
    fingerprint: str | None
    recorded: Recorded | None
    # Whether its table held, at the start of the run, what its recorded fingerprint says.
    current_at_start: bool = False


def _build_one(
    settings: Settings,
    warehouse: Warehouse,
    renderer: Renderer,
    job: _Job,
    full_refresh: bool,
    changes: RunChanges | None = None,
) -> ModelResult:
    start = time.perf_counter()
    model, cfg = job.model, job.model.config
    with metered(warehouse) as used:
        status, message, rows = _materialize(
            settings, warehouse, renderer, job, full_refresh, changes
        )
    return ModelResult(
        name=model.name,
        layer=model.layer,
        materialization=cfg.materialized,
        status=status,  # type: ignore[arg-type]
        duration_s=time.perf_counter() - start,
        rows=rows,
        message=message,
        bytes_processed=used.processed,
        bytes_billed=used.billed,
    )


def _materialize(
    settings: Settings,
    warehouse: Warehouse,
    renderer: Renderer,
    job: _Job,
    full_refresh: bool,
    changes: RunChanges | None = None,
) -> tuple[str, str, int | None]:
    """Build one model; (status, message, rows). Errors are reported, not raised.

    ``changes``: note which of its rows may have changed (see changes.py).
    """
    model = job.model
    cfg, schema = model.config, settings.layer_schema(model.layer)
    rows: int | None = None
    try:
        # One catalogue lookup serves both questions: up to date, and merge or create.
        exists = warehouse.table_exists(schema, model.name)
        incremental = is_incremental(settings, warehouse, model, full_refresh, exists=exists)
        if (
            not full_refresh
            and job.fingerprint is not None
            and job.recorded is not None
            and job.recorded.fingerprint == job.fingerprint
            and exists
        ):
            status, message = "up to date", "inputs and SQL unchanged since the last build"
            if changes is not None:
                changes.models[model.name] = UNCHANGED
        elif cfg.materialized == "view":
            warehouse.create_view(
                schema, model.name, renderer.render_model(model, incremental=False)
            )
            status, message = "success", "view created"
            if changes is not None:
                _check_delta_key(settings, warehouse, model)
                changes.models[model.name] = changes.of_view(model)
        elif (
            incremental
            and (
                plan := increments.plan(renderer.project, model, changes, job.current_at_start)
            ).rebuild
            is None
        ):
            assert changes is not None  # a plan to replace rows needs the run's changes
            sql = renderer.render_model(model, incremental=True)
            _check_shape(warehouse, model, schema, sql, job.definition, job.recorded)
            rows, message = _replace_changed(settings, warehouse, renderer, model, plan, changes)
            status = "success"
        else:
            sql = renderer.render_model(model, incremental=False)
            status = "success"
            # Comparing rows by hash is DuckDB SQL (see _replace_unless_same).
            if (
                changes is not None
                and exists
                and cfg.materialized == "table"
                and warehouse.audit_on_one_connection
            ):
                rows, same = _replace_unless_same(warehouse, model, schema, sql)
                if same:
                    # Its inputs changed but not its rows (dim_date, most runs): the table
                    # stays, and its tests know that nothing in it changed.
                    changes.models[model.name] = UNCHANGED
                    message = f"rebuilt, no row changed, {rows} rows"
                else:
                    message = f"table created, {rows} rows"
            else:
                rows = warehouse.create_table_as(
                    schema,
                    model.name,
                    sql,
                    partition_by=cfg.partition_by,
                    cluster_by=cfg.cluster_by,
                )
                if incremental:
                    # Replacing the changed rows alone is not provably a full rebuild's
                    # result: the plan says why.
                    message = f"rebuilt whole ({plan.rebuild}), {rows:,} rows"
                    if changes is not None:
                        changes.models[model.name] = None
                elif full_refresh and cfg.materialized == "incremental":
                    message = f"full refresh, {rows} rows"
                else:
                    message = f"table created, {rows} rows"
    except WarehouseError:
        raise  # the warehouse itself is broken: nothing else can be built either
    except Exception as exc:  # report, don't raise: the other branches of the DAG go on
        status, message = "error", first_line(exc)
    return status, message, rows


def build(
    settings: Settings,
    warehouse: Warehouse,
    project: Project,
    *,
    select: str | None = None,
    full_refresh: bool = False,
    on_event: Callable[[ModelResult], None] | None = None,
    threads: int | None = None,
    all_or_nothing: bool = False,
    changes: RunChanges | None = None,
) -> list[ModelResult]:
    """Build the selected models; results in build order. ``on_event`` runs on this thread.

    ``threads=1`` builds on the calling thread, on the warehouse's own connection: that is
    what a caller holding a transaction needs. More threads build independent models
    concurrently, each on its own connection. ``all_or_nothing``: the caller publishes
    nothing if a model fails (and a failed statement ends a DuckDB transaction), so the
    build stops at the first failure instead of building models that will be thrown away.
    ``changes``: the load's changes, to which the build adds each model's (see
    changes.py); kept on one thread only, where scratch tables share one connection.
    Without them, where the warehouse keeps scratch tables on one thread, the run has
    loaded nothing: an incremental model up to date at the start replaces the rows its
    refs' builds change, any other is rebuilt whole.
    """
    workers = threads if threads is not None else settings.threads
    tracking = (
        warehouse.keeps_changes
        and not full_refresh
        and (workers <= 1 or not warehouse.audit_on_one_connection)
    )
    graph = Graph(project)
    chosen = graph.select(select)
    renderer = Renderer(settings, project, warehouse.relation, warehouse.dialect)
    state = StateStore(warehouse, settings.raw_dataset, deferred=True)
    sources = state.source_md5s()
    if not tracking:
        changes = None
    elif changes is None:
        changes = RunChanges(sources_before=dict(sources), raw={})
    for layer in sorted({project.models[n].layer for n in chosen}):
        warehouse.ensure_schema(settings.layer_schema(layer))

    results: dict[str, ModelResult] = {}
    built: dict[str, str | None] = {}  # fingerprints of the models handled in this run
    logics: dict[str, str | None] = {}  # and their logic digests
    jobs: dict[str, _Job] = {}

    def job(name: str) -> _Job:
        model = project.models[name]
        try:
            own = model_definition(model, renderer.render_model(model, incremental=False))
            logic = _logic(model, own, logics, state)
            fingerprint = _fingerprint(model, logic or own, built, state, sources)
        except ProjectError:  # the build reports it, with the file and line
            logic, fingerprint = None, None
        recorded = state.get("model", name)
        current = False
        if changes is not None:
            changes.start[name] = _start(model, logic, recorded, state, changes)
            current = changes.start[name] is not None
        jobs[name] = _Job(model, logic, fingerprint, recorded, current)
        return jobs[name]

    def record(result: ModelResult) -> None:
        results[result.name] = result
        if result.status in ("success", "up to date"):
            j = jobs[result.name]
            built[result.name] = j.fingerprint
            logics[result.name] = j.definition
            if result.status == "success":
                if j.fingerprint is None or j.definition is None:
                    state.forget("model", result.name)
                else:
                    state.record(
                        "model", result.name, Recorded(j.fingerprint, j.definition, "success", 0)
                    )
        if on_event is not None:
            on_event(result)

    stale = (
        []
        if full_refresh
        else _stale_incrementals(settings, warehouse, renderer, graph, chosen, state)
    )
    if stale:
        # Refuse before building anything: every such model is named at once, and no work
        # is done that the refusal would throw away.
        names = " ".join(stale)
        for name in graph.order(chosen):
            model = project.models[name]
            if name in stale:
                status, message = "error", stale_message(name, stale)
            else:
                status, message = "skipped", f"skipped: {names} must be rebuilt with --full-refresh"
            record(
                ModelResult(
                    name, model.layer, model.config.materialized, status, 0.0, None, message
                )
            )  # type: ignore[arg-type]
        return [results[name] for name in graph.order(chosen)]

    sorter = graph.sorter(chosen)
    sorter.prepare()
    if workers <= 1:
        while sorter.is_active():
            ready = sorter.get_ready()
            if not ready:
                break  # what is left waits on a failed model
            for name in ready:
                result = _build_one(settings, warehouse, renderer, job(name), full_refresh, changes)
                record(result)
                if result.status != "error":
                    sorter.done(name)
                elif all_or_nothing:
                    break
            if all_or_nothing and any(r.status == "error" for r in results.values()):
                break
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            running: dict[Future[ModelResult], str] = {}
            while sorter.is_active():
                for name in sorter.get_ready():
                    running[
                        pool.submit(
                            _build_one,
                            settings,
                            warehouse,
                            renderer,
                            job(name),
                            full_refresh,
                            changes,
                        )
                    ] = name
                if not running:
                    break  # what is left waits on a failed model
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    del running[future]
                    result = future.result()
                    record(result)
                    if result.status != "error":
                        sorter.done(result.name)

    failed = {n for n, r in results.items() if r.status == "error"}
    for name in graph.order(chosen):
        if name not in results:
            upstream = sorted(graph.ancestors(name) & failed)
            model = project.models[name]
            if upstream:
                message = f"skipped: upstream {', '.join(upstream)} failed"
            else:
                message = f"skipped: {', '.join(sorted(failed))} failed and nothing is published"
            record(
                ModelResult(
                    name, model.layer, model.config.materialized, "skipped", 0.0, None, message
                )
            )
    state.flush(failed=bool(failed))  # the fingerprints, in one write (inside the caller's WAP)
    return [results[name] for name in graph.order(chosen)]
