"""Column lineage: for every model column, the columns its values are computed from.

Each model's full-refresh SELECT is rendered with the DuckDB dialect and parsed with
sqlglot; its optimizer qualifies every column (``select *`` expanded from the columns
found for the models and raw tables it reads, in build order) and ``sqlglot.lineage``
follows each output column through CTEs and subqueries down to the relations the model
reads. Relations map back to models and raw tables, so the lineage of any column goes
on, model by model, down to the raw files' columns.

What "computed from" means: the columns that an output column's expression reads (a
sum reads what it sums, a CASE what it tests and returns, a window its partition and
order). Columns that only filter or join rows (WHERE, ON, HAVING) are not listed, as in
sqlglot: they pick rows, they are not a value's input. A value computed from no column
(``count(*)``, a constant) says so. For a table function (``generate_series`` in
dim_date) the columns its arguments read are its inputs.
"""

from __future__ import annotations

import difflib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from olist_cli.dataset import BY_RAW_TABLE, SOURCE_FILES
from olist_cli.engine import Graph, Project, Renderer
from olist_cli.errors import ProjectError, UsageError
from olist_cli.settings import Settings

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.lineage import Node
    from sqlglot.optimizer.scope import Scope
    from sqlglot.schema import MappingSchema

DIALECT = "duckdb"
FORMATS = ("text", "json", "mermaid")
OTHER_WIDTH = 60  # a value computed from no column is shown by its SQL, cut here


@dataclass(frozen=True, order=True)
class ColumnRef:
    """A column of a model or of a raw table (``kind`` "source")."""

    relation: str
    column: str
    kind: Literal["model", "source"] = "model"

    @property
    def label(self) -> str:
        return f"{self.relation}.{self.column}"

    @property
    def file(self) -> str | None:
        """The raw file behind a raw table's column."""
        found = BY_RAW_TABLE.get(self.relation) if self.kind == "source" else None
        return found.file_name if found else None


@dataclass(frozen=True)
class ColumnInputs:
    inputs: tuple[ColumnRef, ...]  # the columns of the relations the model reads
    other: tuple[str, ...] = ()  # parts computed from no column: their SQL


@dataclass
class ColumnLineage:
    """Every model's columns and their direct inputs; the rest follows from these."""

    columns: dict[str, dict[str, ColumnInputs]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # model -> why not traced

    def inputs(self, ref: ColumnRef) -> ColumnInputs | None:
        if ref.kind != "model":
            return None
        return self.columns.get(ref.relation, {}).get(ref.column)

    def upstream(self, ref: ColumnRef) -> list[ColumnRef]:
        """Every column upstream of ``ref``, nearest first, each once."""
        seen: list[ColumnRef] = []
        todo = [ref]
        while todo:
            found = self.inputs(todo.pop(0))
            for up in found.inputs if found else ():
                if up not in seen:
                    seen.append(up)
                    todo.append(up)
        return seen

    def raw(self, ref: ColumnRef) -> list[ColumnRef]:
        """The raw files' columns that ``ref`` is computed from, in file order."""
        found = {r for r in self.upstream(ref) if r.kind == "source"}
        order = {
            (f.raw_table, c): i
            for i, (f, c) in enumerate((f, c) for f in SOURCE_FILES for c in f.column_names)
        }
        return sorted(found, key=lambda r: (order.get((r.relation, r.column), len(order)), r))


def build_column_lineage(settings: Settings, project: Project) -> ColumnLineage:
    """The lineage of every column of every model; a model whose SQL cannot be traced is
    named in ``problems`` (and the models reading it trace only what they can)."""
    from sqlglot.errors import SqlglotError
    from sqlglot.schema import MappingSchema

    from olist_cli.warehouse.duckdb import DuckDBDialect

    def relation(schema: str, name: str) -> str:
        return f'"{schema}"."{name}"'

    renderer = Renderer(settings, project, relation, DuckDBDialect())
    names: dict[tuple[str, str], ColumnRef] = {
        (settings.raw_dataset, f.raw_table): ColumnRef(f.raw_table, "", "source")
        for f in SOURCE_FILES
    }
    # One schema, grown model by model in build order: sqlglot normalises a schema given
    # as a dict on every call, which would be most of the cost.
    schema = MappingSchema(
        {
            settings.raw_dataset: {
                f.raw_table: {c: "TEXT" for c in f.column_names} for f in SOURCE_FILES
            }
        },
        dialect=DIALECT,
    )
    for model in project.models.values():
        names[(settings.layer_schema(model.layer), model.name)] = ColumnRef(model.name, "")
    result = ColumnLineage()
    for name in Graph(project).order(project.models):
        model = project.models[name]
        try:
            sql = renderer.render_model(model, incremental=False)
        except ProjectError as exc:
            result.problems[name] = f"its template does not render: {exc.message}"
            continue
        try:
            traced = _trace(sql, schema, names)
        except SqlglotError as exc:
            result.problems[name] = f"sqlglot could not trace its SQL: {_first_line(exc)}"
            continue
        except Exception as exc:  # a parser's bug on odd SQL: this model's lineage only
            result.problems[name] = (
                f"sqlglot could not trace its SQL: {type(exc).__name__}: {_first_line(exc)}"
            )
            continue
        result.columns[name] = traced
        schema.add_table(
            f'"{settings.layer_schema(model.layer)}"."{name}"',
            {c: "TEXT" for c in traced},
            dialect=DIALECT,
        )
    return result


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _trace(
    sql: str, schema: MappingSchema, names: dict[tuple[str, str], ColumnRef]
) -> dict[str, ColumnInputs]:
    import sqlglot
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import build_scope

    expression = qualify(
        sqlglot.parse_one(sql, dialect=DIALECT),
        dialect=DIALECT,
        schema=schema,
        validate_qualify_columns=False,
        identify=False,
    )
    root = build_scope(expression)
    if root is None or not hasattr(expression, "selects"):
        raise ValueError("not a SELECT")
    out: dict[str, ColumnInputs] = {}
    for select in expression.selects:
        column = select.alias_or_name
        if not column or column == "*":
            raise ValueError(f"an output column has no name: {select.sql(dialect=DIALECT)}")
        node = lineage(
            column, expression, schema, dialect=DIALECT, scope=root, trim_selects=False, copy=False
        )
        inputs: list[ColumnRef] = []
        other: list[str] = []
        for leaf in _leaves(node, root, schema):
            _add_leaf(leaf, names, inputs, other)
        out[column] = ColumnInputs(tuple(inputs), tuple(other))
    return out


def _leaves(node: Node, root: Scope, schema: MappingSchema) -> Iterator[Node]:
    """The lineage tree's leaves; a table function's leaf is replaced by the leaves of
    the subqueries in its arguments (dim_date's ``generate_series`` over the bounds)."""
    from sqlglot import exp
    from sqlglot.lineage import lineage

    for leaf in node.walk():
        if leaf.downstream:
            continue
        function = leaf.expression.this if isinstance(leaf.expression, exp.Table) else None
        if not isinstance(function, exp.Func):
            yield leaf
            continue
        subqueries = list(function.find_all(exp.Select))
        if not subqueries:
            yield leaf
            continue
        scopes = {id(s.expression): s for s in root.traverse()}
        for sub in subqueries:
            scope = scopes.get(id(sub))
            if scope is None:
                continue
            for select in sub.selects:
                inner = lineage(
                    select.alias_or_name, scope.expression, schema, dialect=DIALECT, scope=scope
                )
                yield from _leaves(inner, root, schema)


def _add_leaf(
    leaf: Node, names: dict[tuple[str, str], ColumnRef], inputs: list[ColumnRef], other: list[str]
) -> None:
    from sqlglot import exp

    table = leaf.expression
    if isinstance(table, exp.Table) and table.name:
        owner = names.get((table.db, table.name))
        column = leaf.name.rsplit(".", 1)[-1]
        if owner is None:  # a relation outside the project: keep its name
            ref = ColumnRef(f"{table.db}.{table.name}" if table.db else table.name, column, "model")
        else:
            ref = ColumnRef(owner.relation, column, owner.kind)
        if ref not in inputs:
            inputs.append(ref)
        return
    expression: exp.Expression = table
    if isinstance(expression, exp.Alias):
        expression = expression.this
    text = " ".join(expression.sql(dialect=DIALECT).split())
    text = text if len(text) <= OTHER_WIDTH else text[: OTHER_WIDTH - 1] + "…"
    if text not in other:
        other.append(text)


# -- olist lineage --column -------------------------------------------------------------


def find_column(lineage: ColumnLineage, project: Project, spec: str) -> ColumnRef:
    """MODEL.COLUMN as a ColumnRef; a one-line error with the closest name otherwise."""
    model, dot, column = spec.partition(".")
    if not dot or not model or not column:
        raise UsageError(f"--column {spec!r}: write MODEL.COLUMN, e.g. dim_customer.total_spent")
    if model not in project.models:
        if model in BY_RAW_TABLE:
            raise UsageError(
                f"--column {spec}: {model} is a raw table (file {BY_RAW_TABLE[model].file_name}): "
                "lineage ends at its columns; name a model's column"
            )
        close = difflib.get_close_matches(model, list(project.models), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UsageError(f"--column {spec}: no model {model}{hint}")
    if model in lineage.problems:
        raise ProjectError(f"--column {spec}: no lineage for {model}: {lineage.problems[model]}")
    columns = lineage.columns.get(model, {})
    if column not in columns:
        close = difflib.get_close_matches(column, list(columns), n=1)
        hint = (
            f"; did you mean '{model}.{close[0]}'?"
            if close
            else f"; its columns: {', '.join(columns)}"
        )
        raise UsageError(f"--column {spec}: {model} has no column {column}{hint}")
    return ColumnRef(model, column)


def render_column_lineage(
    settings: Settings, project: Project, spec: str, *, fmt: str = "text"
) -> str:
    """``olist lineage --column MODEL.COLUMN``: its lineage as text, JSON or Mermaid."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} with --column: use one of {', '.join(FORMATS)}")
    if settings.data_dir.exists():
        lineage = build_column_lineage(settings, project)
    else:  # the renderer keeps compiled templates in the data dir: make none for a query
        with tempfile.TemporaryDirectory(prefix="olist-lineage-") as scratch:
            scratch_settings = settings.model_copy(update={"data_dir": Path(scratch)})
            lineage = build_column_lineage(scratch_settings, project)
    ref = find_column(lineage, project, spec)
    return {"text": _text, "json": _json, "mermaid": _mermaid}[fmt](lineage, ref)


def _name(ref: ColumnRef) -> str:
    return f"{ref.label}  ({ref.file})" if ref.file else ref.label


def _text(lineage: ColumnLineage, ref: ColumnRef) -> str:
    out = [ref.label]
    shown: set[ColumnRef] = set()

    def branch(node: ColumnRef, pad: str) -> None:
        found = lineage.inputs(node)
        items: list[ColumnRef | str] = [*(found.inputs if found else ())]
        items += [f"(from no column: {o})" for o in (found.other if found else ())]
        for i, item in enumerate(items):
            last = i == len(items) - 1
            elbow, more = ("└── ", "    ") if last else ("├── ", "│   ")
            if isinstance(item, str):
                out.append(pad + elbow + item)
                continue
            again = item in shown and lineage.inputs(item) is not None
            out.append(pad + elbow + _name(item) + ("  (as above)" if again else ""))
            if not again:
                shown.add(item)
                branch(item, pad + more)

    branch(ref, "")
    raw = lineage.raw(ref)
    out.append("")
    if raw:
        by_file: dict[str, list[str]] = {}
        for r in raw:
            by_file.setdefault(r.file or r.relation, []).append(r.column)
        out.append("raw columns:")
        out += [f"  {file}: {', '.join(cols)}" for file, cols in by_file.items()]
    else:
        out.append("raw columns: none (computed from no raw column)")
    return "\n".join(out) + "\n"


def _ref_json(lineage: ColumnLineage, ref: ColumnRef) -> dict[str, Any]:
    found = lineage.inputs(ref)
    return {
        "column": ref.label,
        "relation": ref.relation,
        "name": ref.column,
        "kind": ref.kind,
        "file": ref.file,
        "inputs": [r.label for r in found.inputs] if found else [],
        "from_no_column": list(found.other) if found else [],
    }


def _json(lineage: ColumnLineage, ref: ColumnRef) -> str:
    document = {
        **_ref_json(lineage, ref),
        "upstream": [_ref_json(lineage, r) for r in lineage.upstream(ref)],
        "raw": [
            {"file": r.file, "table": r.relation, "column": r.column} for r in lineage.raw(ref)
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _mermaid(lineage: ColumnLineage, ref: ColumnRef) -> str:
    nodes = [ref, *lineage.upstream(ref)]
    ids = {r: f"c{i}" for i, r in enumerate(nodes)}
    out = ["flowchart LR"]
    for r in nodes:
        label = f"{r.label}<br/><i>{r.file}</i>" if r.file else r.label
        shape = f'[("{label}")]' if r.kind == "source" else f'["{label}"]'
        out.append(f"  {ids[r]}{shape}")
    for r in nodes:
        found = lineage.inputs(r)
        for up in found.inputs if found else ():
            out.append(f"  {ids[up]} --> {ids[r]}")
    return "\n".join(out) + "\n"
