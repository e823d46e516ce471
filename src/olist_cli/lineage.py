"""The model DAG as a person reads it: raw tables → staging → dimensions → facts.

``build_lineage`` turns the project (refs and sources read off each template) into a
small graph of nodes grouped by layer; ``render_lineage`` prints it as a terminal
listing, Mermaid or Graphviz DOT. The docs site draws the same graph as SVG.

Two kinds of edge:
- ``build``: a model reads a model (``ref``) or a raw table (``source``);
- ``key``: a table's column points at another table's key, declared by a
  ``relationships`` test. The facts do not ref the dimensions (their keys are computed
  from staging), so without these edges the star schema would not show at all. Only
  keys between tables are drawn: the staging views' relationship tests are data checks
  on the raw files, not part of the schema's design.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from olist_cli.engine.graph import Graph
from olist_cli.engine.project import Model, Project
from olist_cli.errors import UsageError

Format = Literal["text", "mermaid", "dot"]
FORMATS: tuple[str, ...] = ("text", "mermaid", "dot")
WIDTH = 100  # the text listing wraps here

SOURCE_GROUP = "sources"
# Group keys in reading order; a layer not named here sorts after these, by name.
GROUP_ORDER = (SOURCE_GROUP, "staging", "dimensions", "facts")
GROUP_TITLES = {
    SOURCE_GROUP: "raw sources",
    "staging": "staging",
    "dimensions": "dimensions",
    "facts": "facts",
}


@dataclass(frozen=True)
class Node:
    id: str  # "source:orders_raw" or "model:stg_orders": raw tables and models never clash
    name: str
    kind: Literal["source", "model"]
    group: str  # sources, staging, dimensions, facts, or another layer's name
    layer: str | None = None  # a model's folder under sql/
    materialized: str | None = None


@dataclass(frozen=True)
class Edge:
    parent: str  # node ids; data flows (or a key points) from parent to child
    child: str
    kind: Literal["build", "key"]
    columns: tuple[str, ...] = ()  # key edges: the child's columns that point at the parent


@dataclass(frozen=True)
class Lineage:
    nodes: tuple[Node, ...]  # by group, then in build order
    edges: tuple[Edge, ...]
    selected: int  # models selected
    total: int  # models in the project

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def groups(self) -> list[tuple[str, list[Node]]]:
        """(group key, its nodes), in reading order; empty groups left out."""
        out: dict[str, list[Node]] = {}
        for node in self.nodes:
            out.setdefault(node.group, []).append(node)
        return list(out.items())

    def inputs(self, node_id: str, kind: str = "build") -> list[Edge]:
        return [e for e in self.edges if e.child == node_id and e.kind == kind]

    def outputs(self, node_id: str, kind: str = "build") -> list[Edge]:
        return [e for e in self.edges if e.parent == node_id and e.kind == kind]


def source_id(raw_table: str) -> str:
    return f"source:{raw_table}"


def model_id(name: str) -> str:
    return f"model:{name}"


def group_title(group: str) -> str:
    return GROUP_TITLES.get(group, group)


def model_group(model: Model) -> str:
    """Warehouse models split into dimensions and facts, by tag or by name prefix."""
    tags = set(model.config.tags)
    if "dimension" in tags or model.name.startswith("dim_"):
        return "dimensions"
    if "fact" in tags or model.name.startswith("fact_"):
        return "facts"
    return model.layer


def _group_rank(group: str) -> tuple[int, str]:
    return (GROUP_ORDER.index(group), "") if group in GROUP_ORDER else (len(GROUP_ORDER), group)


def key_edges(project: Project, names: set[str]) -> list[Edge]:
    """Keys between tables (not views), from ``relationships`` tests, both ends in ``names``."""
    columns: dict[tuple[str, str], list[str]] = {}
    for test in project.tests:
        if test.kind != "relationships" or test.model not in names:
            continue
        for parent in test.depends_on:
            if parent == test.model or parent not in names:
                continue
            ends = (project.models[parent], project.models[test.model])
            if any(m.config.materialized == "view" for m in ends):
                continue
            cols = columns.setdefault((parent, test.model), [])
            if test.column and test.column not in cols:
                cols.append(test.column)
    return [
        Edge(model_id(parent), model_id(child), "key", tuple(cols))
        for (parent, child), cols in columns.items()
    ]


def _ranks(order: list[str], project: Project, keys: list[Edge]) -> dict[str, tuple[int, int]]:
    """(depth, build position) per model; depth counts key edges too, so that within
    one group a table comes after the tables its keys point at (fact_orders before
    fact_order_items), though neither refs the other."""
    parents = {name: {r for r in project.models[name].refs if r in order} for name in order}
    for edge in keys:
        parents[edge.child.partition(":")[2]].add(edge.parent.partition(":")[2])
    depth: dict[str, int] = {}

    def visit(name: str, trail: frozenset[str]) -> int:
        if name not in depth:
            # A key cycle (two tables pointing at each other) must not recurse forever.
            ups = [visit(p, trail | {name}) for p in parents[name] if p not in trail]
            depth[name] = 1 + max(ups, default=0)
        return depth[name]

    return {name: (visit(name, frozenset()), i) for i, name in enumerate(order)}


def build_lineage(project: Project, select: str | None = None) -> Lineage:
    """The selected models, the raw tables they read, and the edges between them."""
    graph = Graph(project)
    graph.check()
    chosen = graph.select(select)
    order = graph.order(chosen)
    models = [project.models[name] for name in order]

    keys = key_edges(project, chosen)
    rank = _ranks(order, project, keys)
    models = sorted(models, key=lambda m: (_group_rank(model_group(m)), rank[m.name]))
    # Each raw table next to its first reader, so that the listing and the drawn graph
    # need few crossings.
    sources: list[str] = []
    for model in models:
        sources += [s for s in model.sources if s not in sources]
    nodes = [Node(source_id(s), s, "source", SOURCE_GROUP) for s in sources]
    nodes += [
        Node(model_id(m.name), m.name, "model", model_group(m), m.layer, m.config.materialized)
        for m in models
    ]

    edges: list[Edge] = []
    for model in models:
        edges += [Edge(source_id(s), model_id(model.name), "build") for s in model.sources]
        edges += [
            Edge(model_id(r), model_id(model.name), "build") for r in model.refs if r in chosen
        ]
    edges += keys
    return Lineage(tuple(nodes), tuple(edges), len(chosen), len(project.models))


def render_lineage(project: Project, *, select: str | None = None, fmt: Format = "text") -> str:
    """The lineage of the selected models as text, Mermaid or DOT (``olist lineage``)."""
    renderers = {"text": _text, "mermaid": _mermaid, "dot": _dot}
    if fmt not in renderers:
        raise UsageError(f"--format {fmt!r} is unknown; use one of {', '.join(FORMATS)}")
    return renderers[fmt](build_lineage(project, select), project)


# -- text -------------------------------------------------------------------------------


def _wrapped(head: str, items: list[str]) -> list[str]:
    """``head`` then the items, comma-separated, packed into lines of at most WIDTH.

    An item is never split; continuation lines line up under the first item.
    """
    pad = " " * len(head)
    lines, line = [], head
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if line not in (head, pad) and len(line) + 1 + len(piece) > WIDTH:
            lines.append(line)
            line = pad
        line += piece if line in (head, pad) else " " + piece
    lines.append(line)
    return lines


def _text(lineage: Lineage, project: Project) -> str:
    models = [n for n in lineage.nodes if n.kind == "model"]
    sources = [n for n in lineage.nodes if n.kind == "source"]
    scope = (
        f"{lineage.selected} of {lineage.total} models"
        if lineage.selected < lineage.total
        else f"{lineage.total} models"
    )
    out = [f"Lineage: {scope}, reading {len(sources)} raw tables"]
    out.append("  ← builds from (ref, source)    keys → its columns point at (relationships tests)")
    # Sources and models are aligned separately: one long raw table name would
    # otherwise push every model's inputs far to the right.
    source_w = max((len(n.name) for n in sources), default=0)
    name_w = max((len(n.name) for n in models), default=0)
    kind_w = max((len(n.materialized or "") for n in models), default=0)
    for group, nodes in lineage.groups():
        out += ["", f"{group_title(group).upper()} ({len(nodes)})"]
        for node in nodes:
            if node.kind == "source":
                readers = [lineage.node(e.child).name for e in lineage.outputs(node.id)]
                out += _wrapped(f"  {node.name:<{source_w}}  → ", readers)
                continue
            model = project.models[node.name]
            head = f"  {node.name:<{name_w}}  {node.materialized or '':<{kind_w}}  "
            out += _wrapped(head + "← ", [*model.sources, *model.refs])
            keys = lineage.inputs(node.id, "key")
            if keys:
                targets = [f"{lineage.node(e.parent).name} ({', '.join(e.columns)})" for e in keys]
                out += _wrapped(" " * len(head) + "keys → ", targets)
    return "\n".join(line.rstrip() for line in out) + "\n"


# -- Mermaid and DOT --------------------------------------------------------------------

# Fill and stroke per group, as in the seed's dbt lineage diagram.
COLOURS = {
    SOURCE_GROUP: ("#fff4e1", "#c98a1b"),
    "staging": ("#e8f5e9", "#43a047"),
    "dimensions": ("#fff0db", "#ef8f00"),
    "facts": ("#fde7e7", "#d84343"),
}
OTHER_COLOUR = ("#eef1f6", "#5c6b80")


def _word(text: str) -> str:
    return re.sub(r"\W", "_", text)


def _safe_id(node_id: str) -> str:
    # Mermaid and DOT identifiers: letters, digits, underscores; the prefix keeps
    # a model called "end" or "graph" from being read as a keyword.
    kind, _, name = node_id.partition(":")
    return ("src_" if kind == "source" else "mdl_") + _word(name)


def _label(node: Node) -> str:
    return node.name if node.kind == "source" else f"{node.name}<br/><i>{node.materialized}</i>"


def _mermaid(lineage: Lineage, project: Project) -> str:
    out = ["flowchart LR"]
    for group, nodes in lineage.groups():
        out.append(f'  subgraph grp_{_word(group)}["{group_title(group)}"]')
        out.append("    direction TB")
        for node in nodes:
            sid = _safe_id(node.id)
            shape = f'[("{node.name}")]' if node.kind == "source" else f'["{_label(node)}"]'
            out.append(f"    {sid}{shape}")
        out.append("  end")
    for edge in lineage.edges:
        a, b = _safe_id(edge.parent), _safe_id(edge.child)
        if edge.kind == "build":
            out.append(f"  {a} --> {b}")
        else:
            out.append(f'  {a} -.->|"{", ".join(edge.columns)}"| {b}')
    for group, nodes in lineage.groups():
        fill, stroke = COLOURS.get(group, OTHER_COLOUR)
        cls = f"cls_{_word(group)}"
        out.append(f"  classDef {cls} fill:{fill},stroke:{stroke},color:#1f2933")
        out.append(f"  class {','.join(_safe_id(n.id) for n in nodes)} {cls}")
    return "\n".join(out) + "\n"


def _dot_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot(lineage: Lineage, project: Project) -> str:
    out = [
        "digraph lineage {",
        "  rankdir=LR;",
        "  nodesep=0.25;",
        "  ranksep=0.9;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '  edge [color="#7b8794", arrowsize=0.7];',
    ]
    for group, nodes in lineage.groups():
        fill, stroke = COLOURS.get(group, OTHER_COLOUR)
        out.append(f"  subgraph cluster_{_word(group)} {{")
        out.append(f"    label={_dot_str(group_title(group))};")
        out.append('    style="rounded"; color="#d5dbe3"; fontname="Helvetica";')
        for node in nodes:
            label = node.name if node.kind == "source" else f"{node.name}\\n{node.materialized}"
            shape = ", shape=cylinder" if node.kind == "source" else ""
            out.append(
                f'    {_safe_id(node.id)} [label="{label}", fillcolor="{fill}", '
                f'color="{stroke}"{shape}];'
            )
        out.append("  }")
    for edge in lineage.edges:
        a, b = _safe_id(edge.parent), _safe_id(edge.child)
        if edge.kind == "build":
            out.append(f"  {a} -> {b};")
        else:
            label = _dot_str(", ".join(edge.columns))
            out.append(
                f'  {a} -> {b} [style=dashed, color="#b05c00", fontcolor="#b05c00", '
                f"fontsize=9, label={label}];"
            )
    out.append("}")
    return "\n".join(out) + "\n"
