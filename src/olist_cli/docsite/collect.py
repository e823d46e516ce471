"""Everything a docs page shows, read from the project and the warehouse, as plain records.

Nothing here writes HTML. A table that is not built yet is documented from its config
alone ("not built yet"), so the site can be generated before the first run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import nodes

from olist_cli.column_lineage import ColumnLineage, ColumnRef, build_column_lineage
from olist_cli.dataset import SOURCE_FILES, SourceFile
from olist_cli.engine.project import DataTest, Model, Project
from olist_cli.engine.render import Renderer, display_path, make_env, parse, raw_table
from olist_cli.engine.state import StateStore
from olist_cli.lineage import model_group, model_id, source_id
from olist_cli.load import latest_loads
from olist_cli.run_results import latest_test_results
from olist_cli.settings import Settings
from olist_cli.warehouse.base import Warehouse

NOT_RUN = "not run yet"


@dataclass(frozen=True)
class TestDoc:
    __test__ = False  # not a pytest test class, despite the name

    name: str
    kind: str
    column: str | None
    severity: str
    description: str
    status: str  # pass | warn | fail | error | not run yet
    failures: int | None
    sql: str
    depends_on: tuple[str, ...]


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str | None  # None: not in the warehouse (not built, or documented only)
    description: str
    tests: list[TestDoc] = field(default_factory=list)
    # Column lineage (models only): the columns of its inputs it is computed from, the raw
    # files' columns at the end of that chain, and what is computed from no column.
    computed_from: tuple[ColumnRef, ...] = ()
    raw_columns: tuple[ColumnRef, ...] = ()
    from_no_column: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelDoc:
    model: Model
    group: str
    schema: str
    relation: str  # as the engine names it, unquoted: schema.name, project.dataset.name
    description: str
    path: str
    built: bool
    rows: int | None
    columns: list[ColumnDoc]
    tests: list[TestDoc]
    sql: str  # the full-refresh SELECT
    sql_incremental: str | None  # the SELECT of an incremental run, for incremental models
    parents: list[str]  # node ids
    children: list[str]
    lineage_problem: str | None = None  # why its column lineage is unknown


@dataclass(frozen=True)
class SourceDoc:
    source: SourceFile
    schema: str
    relation: str
    description: str
    built: bool
    rows: int | None
    columns: list[ColumnDoc]
    last_load: dict[str, Any] | None
    readers: list[str]  # models
    tests: list[TestDoc]  # tests that read it directly


@dataclass(frozen=True)
class SiteData:
    models: dict[str, ModelDoc]
    sources: dict[str, SourceDoc]  # by raw table
    tests: list[TestDoc]
    engine: str


def comment_header(source: str) -> str:
    """A description from the comments that open a model file (``--`` lines or ``{# #}``)."""
    text = source.lstrip()
    jinja = re.match(r"\{#(.*?)#\}", text, re.DOTALL)
    if jinja:
        return " ".join(jinja.group(1).split())
    lines = []
    for line in text.splitlines():
        if not line.strip().startswith("--"):
            break
        lines.append(line.strip()[2:].strip())
    return " ".join(" ".join(lines).split())


def _unquoted(relation: str) -> str:
    return relation.replace('"', "").replace("`", "")


def _project_path(project: Project, path: Path) -> str:
    """A model file as the repository names it (sql/warehouse/x.sql), wherever we run."""
    try:
        return str(path.resolve().relative_to(project.sql_dir.resolve().parent))
    except ValueError:
        return display_path(path)


def _test_docs(
    renderer: Renderer,
    state: StateStore,
    tests: tuple[DataTest, ...],
    last: dict[str, tuple[str, int | None]],
) -> list[TestDoc]:
    docs = []
    for test in tests:
        recorded = state.get("test", test.name)
        if test.name in last:
            status, failures = last[test.name]
        elif recorded:
            status, failures = recorded.status, recorded.failures
        else:
            status, failures = NOT_RUN, None
        docs.append(
            TestDoc(
                name=test.name,
                kind=test.kind,
                column=test.column,
                severity=test.severity,
                description=test.description,
                status=status,
                failures=failures,
                sql=renderer.render_test(test),
                depends_on=test.depends_on,
            )
        )
    return docs


def _columns(
    model: str,
    actual: list[tuple[str, str]],
    documented: dict[str, str],
    tests: list[TestDoc],
    lineage: ColumnLineage,
) -> list[ColumnDoc]:
    """The warehouse's columns in table order, then columns its SQL selects and documented
    columns that the table lacks (a table not built yet is documented from its SQL)."""
    by_column: dict[str, list[TestDoc]] = {}
    for test in tests:
        if test.column:
            by_column.setdefault(test.column, []).append(test)
    names = [(n, t) for n, t in actual]
    for extra in (*lineage.columns.get(model, {}), *documented):
        if extra not in {n for n, _ in names}:
            names.append((extra, None))
    docs = []
    for name, type_ in names:
        ref = ColumnRef(model, name)
        found = lineage.inputs(ref)
        docs.append(
            ColumnDoc(
                name,
                type_,
                documented.get(name, ""),
                by_column.get(name, []),
                computed_from=found.inputs if found else (),
                raw_columns=tuple(lineage.raw(ref)) if found else (),
                from_no_column=found.other if found else (),
            )
        )
    return docs


def _sources_read(project: Project, test: DataTest) -> set[str]:
    """Raw tables a test reads through source(): DataTest keeps only its refs."""
    found = set()
    tree = parse(make_env(project.sql_dir), test.template_source, test.label)
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "source":
            try:
                found.add(raw_table(*(a.as_const() for a in call.args)))
            except (nodes.Impossible, TypeError, ValueError):
                continue
    return found


def collect(settings: Settings, warehouse: Warehouse, project: Project) -> SiteData:
    renderer = Renderer(settings, project, warehouse.relation, warehouse.dialect)
    state = StateStore(warehouse, settings.raw_dataset)
    last = {
        name: (r.status, r.failures)
        for name, r in latest_test_results(warehouse, settings.raw_dataset).items()
    }
    tests = _test_docs(renderer, state, project.tests, last)
    test_of = dict(zip((t.name for t in project.tests), tests, strict=True))
    lineage = build_column_lineage(settings, project)

    children: dict[str, list[str]] = {name: [] for name in project.models}
    for model in project.models.values():
        for ref in model.refs:
            children.setdefault(ref, []).append(model_id(model.name))

    models = {}
    for model in project.models.values():
        schema = settings.layer_schema(model.layer)
        built = warehouse.table_exists(schema, model.name)
        own = [
            test_of[t.name]
            for t in project.tests
            if t.model == model.name or (t.kind == "singular" and model.name in t.depends_on)
        ]
        incremental = model.config.materialized == "incremental"
        models[model.name] = ModelDoc(
            model=model,
            group=model_group(model),
            schema=schema,
            relation=_unquoted(warehouse.relation(schema, model.name)),
            description=model.config.description or comment_header(model.template_source),
            path=_project_path(project, model.path),
            built=built,
            rows=warehouse.row_count(schema, model.name) if built else None,
            columns=_columns(
                model.name,
                warehouse.columns(schema, model.name) if built else [],
                dict(model.config.columns),
                [t for t in own if t.kind != "singular"],
                lineage,
            ),
            tests=own,
            sql=renderer.render_model(model, incremental=False),
            sql_incremental=renderer.render_model(model, incremental=True) if incremental else None,
            parents=[*map(source_id, model.sources), *map(model_id, model.refs)],
            children=children[model.name],
            lineage_problem=lineage.problems.get(model.name),
        )

    readers_of = {f.raw_table: [] for f in SOURCE_FILES}
    for model in project.models.values():
        for source in model.sources:
            readers_of.setdefault(source, []).append(model.name)
    tests_of: dict[str, list[TestDoc]] = {}
    for test in project.tests:
        for source in _sources_read(project, test):
            tests_of.setdefault(source, []).append(test_of[test.name])

    loads = latest_loads(warehouse, settings.raw_dataset)
    sources = {}
    for file in SOURCE_FILES:
        schema = settings.raw_dataset
        built = warehouse.table_exists(schema, file.raw_table)
        actual = warehouse.columns(schema, file.raw_table) if built else []
        key = ", ".join(file.primary_key) or "none declared (rows may repeat)"
        sources[file.raw_table] = SourceDoc(
            source=file,
            schema=schema,
            relation=_unquoted(warehouse.relation(schema, file.raw_table)),
            description=(
                f"Raw table loaded as-is from the Olist file {file.file_name}, with the column "
                f"types declared in olist_cli/dataset.py. Primary key: {key}."
            ),
            built=built,
            rows=warehouse.row_count(schema, file.raw_table) if built else None,
            columns=[
                ColumnDoc(c.name, dict(actual).get(c.name) or f"{c.type.value} (declared)", "")
                for c in file.columns
            ],
            last_load=loads.get(file.raw_table),
            readers=readers_of[file.raw_table],
            tests=tests_of.get(file.raw_table, []),
        )
    return SiteData(models, sources, tests, warehouse.name)
