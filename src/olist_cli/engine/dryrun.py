"""Dry runs: what each model's SELECT would scan, asked of the engine without running it.

For `olist transform --dry-run` on BigQuery, whose dry-run jobs return the bytes a query
would process (the basis of its on-demand price) without running it or billing. Each
selected model is rendered as the next build would render it (incremental models with
their incremental branch when their table exists) and its SELECT estimated. The MERGE
of an incremental model also reads the touched partitions of its target, which the
estimate does not include; nothing else is left out.

A model whose inputs do not exist yet (a first build: its upstream views are built in
the same run) cannot be estimated: BigQuery needs every table it reads to exist. It is
reported with bytes None and the reason.
"""

from __future__ import annotations

from typing import NamedTuple

from olist_cli.engine.build import first_line, is_incremental
from olist_cli.engine.graph import Graph
from olist_cli.engine.project import Project
from olist_cli.engine.render import Renderer
from olist_cli.errors import OlistError, UsageError
from olist_cli.settings import Settings
from olist_cli.warehouse.base import Warehouse


class Estimate(NamedTuple):
    """One model's dry run: the bytes its SELECT would process, or None and why not."""

    model: str
    bytes_processed: int | None
    message: str = ""


def dry_run_models(
    settings: Settings, warehouse: Warehouse, project: Project, select: str | None = None
) -> list[Estimate]:
    """Estimate every selected model, in build order; nothing is created or run."""
    dry_run = getattr(warehouse, "dry_run", None)  # a capability: only some engines have it
    if dry_run is None:
        raise UsageError(
            f"--dry-run needs a warehouse that estimates queries (bigquery); "
            f"OLIST_WAREHOUSE={settings.warehouse} runs them instead"
        )
    graph = Graph(project)
    renderer = Renderer(settings, project, warehouse.relation, warehouse.dialect)
    estimates = []
    for name in graph.order(graph.select(select)):
        model = project.models[name]
        try:
            incremental = is_incremental(settings, warehouse, model, full_refresh=False)
            sql = renderer.render_model(model, incremental=incremental)
            scanned = int(dry_run(sql))
        except OlistError as exc:
            estimates.append(Estimate(name, None, exc.message))
            continue
        except Exception as exc:  # reported per model, as a build would
            estimates.append(Estimate(name, None, first_line(exc)))
            continue
        note = "plus the touched partitions of the target (MERGE)" if incremental else ""
        estimates.append(Estimate(name, scanned, note))
    return estimates
