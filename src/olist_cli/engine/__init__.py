"""The SQL engine: discover and parse the project, order it as a DAG, build, and test.

project = load_project(settings, warehouse.dialect)
results = build(settings, warehouse, project, select="+fact_orders")
tests = run_tests(settings, warehouse, project)
"""

from __future__ import annotations

from olist_cli.engine.build import build, render_model
from olist_cli.engine.checks import run_tests
from olist_cli.engine.graph import Graph
from olist_cli.engine.project import DataTest, Model, ModelConfig, Project, parse_project
from olist_cli.engine.render import Renderer
from olist_cli.engine.results import ModelResult, TestResult
from olist_cli.settings import Settings
from olist_cli.warehouse.base import Dialect

__all__ = [
    "DataTest",
    "Graph",
    "Model",
    "ModelConfig",
    "ModelResult",
    "Project",
    "TestResult",
    "build",
    "load_project",
    "render_model",
    "run_tests",
]


def _placeholder_relation(schema: str, name: str) -> str:
    return f"{schema}.{name}"


def load_project(settings: Settings, dialect: Dialect | None = None) -> Project:
    """Parse the project at ``settings.sql_path`` and check its refs and cycles.

    With a dialect, every template is also rendered once (both branches of
    ``is_incremental()``), so a template error stops the run before anything is built;
    and the parsed project is kept beside the compiled templates (Renderer's bytecode
    cache in the data dir), for the next command to reuse while no file changes.
    """
    cache = settings.data_dir / ".olist-cache" / "project.json" if dialect is not None else None
    project = parse_project(settings.sql_path, cache=cache)
    Graph(project).check()
    if dialect is not None:
        renderer = Renderer(settings, project, _placeholder_relation, dialect)
        for model in project.models.values():
            renderer.render_model(model, incremental=False)
            if model.config.materialized == "incremental":
                renderer.render_model(model, incremental=True)
        for test in project.tests:
            renderer.render_test(test)
    return project
