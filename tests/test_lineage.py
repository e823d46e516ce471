"""`olist lineage`: the DAG from raw tables to facts, as text, Mermaid and DOT."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from olist_cli.engine import Project, load_project
from olist_cli.errors import ProjectError, UsageError
from olist_cli.lineage import WIDTH, build_lineage, render_lineage
from olist_cli.settings import load_settings

REPO = Path(__file__).resolve().parents[1]

# (parent, child, kind): raw → staging → facts, staging → facts, and the star's keys.
KNOWN_EDGES = [
    ("orders_raw", "stg_orders", "build"),
    ("stg_orders", "fact_orders", "build"),
    ("stg_order_items", "fact_order_items", "build"),
    ("product_category_name_translation_raw", "stg_products", "build"),
    ("stg_customers", "dim_customer", "build"),
    ("dim_customer", "fact_orders", "key"),
    ("dim_date", "fact_orders", "key"),
    ("fact_orders", "fact_order_items", "key"),
]


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(load_settings(sql_dir=REPO / "sql"))


def _mermaid_graph(text: str) -> tuple[set[str], set[tuple[str, str, str]]]:
    """Declared node ids and (parent, child, kind) edges; fails on any line it cannot read."""
    lines = text.strip().splitlines()
    assert lines[0] == "flowchart LR"
    nodes: set[str] = set()
    edges: set[tuple[str, str, str]] = set()
    depth = 0
    for line in lines[1:]:
        line = line.strip()
        if m := re.fullmatch(r'subgraph (\w+)\["[^"]+"\]', line):
            depth += 1
        elif line == "end":
            depth -= 1
            assert depth >= 0
        elif line.startswith(("direction ", "classDef ", "class ")):
            continue
        elif m := re.fullmatch(r'(\w+)(\[\("[^"]+"\)\]|\["[^"]+"\])', line):
            nodes.add(m.group(1))
        elif m := re.fullmatch(r"(\w+) --> (\w+)", line):
            edges.add((m.group(1), m.group(2), "build"))
        elif m := re.fullmatch(r'(\w+) -\.->\|"[\w, ]+"\| (\w+)', line):
            edges.add((m.group(1), m.group(2), "key"))
        else:
            pytest.fail(f"unexpected Mermaid line: {line!r}")
    assert depth == 0, "every subgraph is closed"
    return nodes, edges


def _dot_graph(text: str) -> tuple[set[str], set[tuple[str, str, str]]]:
    assert text.startswith("digraph lineage {") and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    nodes = set(re.findall(r"^\s+(\w+) \[label=", text, re.MULTILINE))
    edges = {
        (a, b, "key" if "dashed" in rest else "build")
        for a, b, rest in re.findall(r"^\s+(\w+) -> (\w+)(.*);$", text, re.MULTILINE)
    }
    return nodes, edges


def _sid(name: str) -> str:
    return ("src_" if name.endswith("_raw") else "mdl_") + name


def _text_rows(text: str) -> dict[str, str]:
    """Node name -> the rest of its line (and its continuation lines) in the text listing."""
    rows: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if m := re.match(r"^  (\w+)\s+(.*)$", line):
            current = m.group(1)
            rows[current] = m.group(2)
        elif line.startswith("    ") and current:
            rows[current] += " " + line.strip()
        else:
            current = None
    return rows


def test_text_lists_each_model_with_its_inputs_and_keys(project: Project) -> None:
    text = render_lineage(project, select=None, fmt="text")
    rows = _text_rows(text)
    assert set(rows) >= {"orders_raw", "stg_orders", "dim_customer", "fact_orders"}
    for parent, child, kind in KNOWN_EDGES:
        if kind == "build":
            inputs = rows[child].split("←", 1)[1].split("keys →")[0]
            assert parent in re.split(r"[,\s]+", inputs), (parent, child, rows[child])
        else:
            assert re.search(rf"keys → .*\b{parent} \(", rows[child]), (parent, child)
    assert rows["orders_raw"].endswith("→ stg_orders")
    # Grouped by layer, in reading order.
    headers = [line for line in text.splitlines() if re.match(r"^[A-Z ]+ \(\d+\)$", line)]
    assert [h.split(" (")[0] for h in headers] == ["RAW SOURCES", "STAGING", "DIMENSIONS", "FACTS"]
    assert all(len(line) <= WIDTH for line in text.splitlines()), "fits 100 columns"


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_graph_formats_hold_the_known_edges(project: Project, fmt: str) -> None:
    text = render_lineage(project, select=None, fmt=fmt)
    nodes, edges = (_mermaid_graph if fmt == "mermaid" else _dot_graph)(text)
    for parent, child, kind in KNOWN_EDGES:
        assert (_sid(parent), _sid(child), kind) in edges
    assert {e for a, b, _ in edges for e in (a, b)} <= nodes, "every edge end is declared"
    lineage = build_lineage(project)
    assert len(nodes) == len(lineage.nodes) == 13 + 8  # models + raw tables read by models
    assert len(edges) == len(lineage.edges)


def test_dot_is_accepted_by_graphviz_when_installed(project: Project) -> None:
    text = render_lineage(project, select=None, fmt="dot")
    if shutil.which("dot") is None:  # graphviz is optional; the structure test covers DOT
        return
    done = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "fact_orders" in done.stdout


@pytest.mark.parametrize("fmt", ["text", "mermaid", "dot"])
def test_selection_restricts_the_graph(project: Project, fmt: str) -> None:
    def names(select: str) -> set[str]:
        text = render_lineage(project, select=select, fmt=fmt)
        if fmt == "text":
            return set(_text_rows(text))
        nodes, _ = (_mermaid_graph if fmt == "mermaid" else _dot_graph)(text)
        return {n.split("_", 1)[1] for n in nodes}

    down = names("stg_orders+")
    assert {"orders_raw", "stg_orders", "dim_customer", "fact_orders", "fact_order_items"} <= down
    # dim_product and dim_seller read stg_orders too: their watermark is an order's update.
    assert {"dim_product", "dim_seller"} <= down
    assert not down & {"stg_payments", "stg_products", "payments_raw", "products_raw"}

    # dim_customer reads fact_orders (each order with its person and payments) and, for
    # the latest order's address, stg_customers.
    up = names("+dim_customer")
    assert up == {
        "dim_customer",
        "fact_orders",
        "stg_customers",
        "stg_orders",
        "stg_payments",
        "stg_order_items",
        "customers_raw",
        "orders_raw",
        "payments_raw",
        "order_items_raw",
    }
    assert names("layer:staging") == {
        n for n in names("") if n.startswith("stg_") or n.endswith("_raw")
    }


def test_selected_models_keep_only_edges_between_shown_nodes(project: Project) -> None:
    lineage = build_lineage(project, "fact_orders")
    assert [n.name for n in lineage.nodes] == ["fact_orders"]
    assert lineage.edges == ()
    text = render_lineage(project, select="fact_orders", fmt="text")
    assert "1 of 13 models" in text
    assert "stg_orders" in text  # its inputs are still named


def test_bad_format_and_selector_are_one_line_errors(project: Project) -> None:
    with pytest.raises(UsageError, match="--format 'svg' is unknown"):
        render_lineage(project, select=None, fmt="svg")  # type: ignore[arg-type]
    with pytest.raises(ProjectError, match="did you mean 'fact_orders'"):
        render_lineage(project, select="fact_order", fmt="text")
