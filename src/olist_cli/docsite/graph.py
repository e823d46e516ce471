"""The lineage drawn as inline SVG: one column per group, curved edges, links on nodes.

The layout is done here, in Python, rather than by a JavaScript layout library: the
graph is a few dozen nodes whose columns are given (raw → staging → dimensions →
facts), so a column per group plus a few barycentre sweeps to untangle the edges is
all it needs. The page then works with scripts off, the drawing is the same in every
browser and in tests, and assets/lineage.js only adds pan, zoom and highlighting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from olist_cli.lineage import Edge, Lineage, Node, group_title

NODE_H = 40
ROW_GAP = 14
COL_GAP = 110
HEADER_H = 34
MARGIN = 16
CHAR_W = 7.3  # width of one character of the monospace node names at 12px
SWEEPS = 4
LOOP = 48  # how far an edge within one column bulges out to the right


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float = NODE_H

    @property
    def mid_y(self) -> float:
        return self.y + self.h / 2


def _order_columns(lineage: Lineage) -> list[list[Node]]:
    """Nodes per column, reordered by the mean position of their neighbours."""
    columns = [nodes for _, nodes in lineage.groups()]
    col_of = {n.id: i for i, col in enumerate(columns) for n in col}
    parents: dict[str, list[str]] = {n.id: [] for n in lineage.nodes}
    children: dict[str, list[str]] = {n.id: [] for n in lineage.nodes}
    for e in lineage.edges:
        if col_of[e.parent] != col_of[e.child]:
            parents[e.child].append(e.parent)
            children[e.parent].append(e.child)

    def sweep(cols: list[list[Node]], neighbours: dict[str, list[str]]) -> None:
        for col in cols:
            pos = {n.id: i for c in columns for i, n in enumerate(c)}
            keyed = []
            for i, node in enumerate(col):
                near = [pos[p] for p in neighbours[node.id]]
                # Nodes with no neighbour on that side keep their place.
                keyed.append((sum(near) / len(near) if near else float(i), i, node))
            col[:] = [node for _, _, node in sorted(keyed, key=lambda k: (k[0], k[1]))]

    for _ in range(SWEEPS):
        sweep(columns[1:], parents)
        sweep(columns[-2::-1], children)
    return columns


def layout(lineage: Lineage) -> tuple[dict[str, Box], list[tuple[str, float, float]], float, float]:
    """Boxes by node id, column headers (title, x, width), and the drawing's size."""
    columns = _order_columns(lineage)
    tallest = max((len(c) for c in columns), default=0)
    height = HEADER_H + tallest * (NODE_H + ROW_GAP) - ROW_GAP
    boxes: dict[str, Box] = {}
    headers = []
    x = float(MARGIN)
    for col in columns:
        width = max(130.0, max(len(n.name) for n in col) * CHAR_W + 30)
        headers.append((group_title(col[0].group), x, width))
        used = len(col) * (NODE_H + ROW_GAP) - ROW_GAP
        y = MARGIN + HEADER_H + (height - HEADER_H - used) / 2  # centred in the tallest column
        for node in col:
            boxes[node.id] = Box(x, y, width)
            y += NODE_H + ROW_GAP
        x += width + COL_GAP
    width = x - COL_GAP + MARGIN
    if any(boxes[e.parent].x == boxes[e.child].x for e in lineage.edges):
        width += LOOP  # room for the loop of an edge within one column
    return boxes, headers, width, height + 2 * MARGIN


def _path(a: Box, b: Box) -> str:
    if abs(a.x - b.x) < 1:  # same column: loop out to the right and back
        x, bend = a.x + a.w, LOOP
        return (
            f"M{x:.1f},{a.mid_y:.1f} C{x + bend:.1f},{a.mid_y:.1f} "
            f"{x + bend:.1f},{b.mid_y:.1f} {x + 4:.1f},{b.mid_y:.1f}"
        )
    if a.x < b.x:
        x1, x2 = a.x + a.w, b.x - 2
    else:
        x1, x2 = a.x, b.x + b.w + 2
    mid = (x1 + x2) / 2
    return (
        f"M{x1:.1f},{a.mid_y:.1f} C{mid:.1f},{a.mid_y:.1f} "
        f"{mid:.1f},{b.mid_y:.1f} {x2:.1f},{b.mid_y:.1f}"
    )


def _edge_title(lineage: Lineage, edge: Edge) -> str:
    parent, child = lineage.node(edge.parent).name, lineage.node(edge.child).name
    if edge.kind == "key":
        return f"{child}.{', '.join(edge.columns)} → {parent}"
    return f"{parent} → {child}"


def render_svg(
    lineage: Lineage,
    *,
    href: Mapping[str, str],
    subtitle: Mapping[str, str],
    current: str | None = None,
) -> str:
    """The graph as an inline <svg> (no xmlns needed inside HTML), escaped throughout.

    ``href`` and ``subtitle`` are by node id; ``current`` marks the page's own node.
    """
    if not lineage.nodes:
        return '<p class="muted">Nothing to draw: the selection has no models.</p>'
    boxes, headers, width, height = layout(lineage)
    out = [
        # width: its natural size at most; CSS shrinks it to the page, never enlarges it.
        f'<svg class="lineage-svg" width="{width:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'style="aspect-ratio: {width:.0f} / {height:.0f}" role="img" '
        f'aria-label="Lineage graph: {len(lineage.nodes)} tables and views">',
        "<defs>",
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,1 L10,5 L0,9 z"/></marker>',
        '<marker id="arrow-key" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,1 L10,5 L0,9 z"/></marker>',
        "</defs>",
        '<g class="viewport">',
        '<g class="headers">',
    ]
    for title, x, w in headers:
        out.append(
            f'<text class="col-title" x="{x + w / 2:.1f}" y="{MARGIN + 14}" '
            f'text-anchor="middle">{escape(title.upper())}</text>'
        )
    out += ["</g>", '<g class="edges">']
    for edge in lineage.edges:
        marker = "arrow-key" if edge.kind == "key" else "arrow"
        out.append(
            f'<path class="edge {edge.kind}" data-from="{escape(edge.parent)}" '
            f'data-to="{escape(edge.child)}" d="{_path(boxes[edge.parent], boxes[edge.child])}" '
            f'marker-end="url(#{marker})">'
            f"<title>{escape(_edge_title(lineage, edge))}</title></path>"
        )
    out += ["</g>", '<g class="nodes">']
    for node in lineage.nodes:
        box = boxes[node.id]
        classes = f"node g-{escape(node.group)}" + (" current" if node.id == current else "")
        sub = subtitle.get(node.id, "")
        name_y = box.y + (16 if sub else 25)
        out.append(
            f'<a class="{classes}" href="{escape(href[node.id])}" data-id="{escape(node.id)}" '
            f'data-name="{escape(node.name)}">'
            f"<title>{escape(node.name + (' · ' + sub if sub else ''))}</title>"
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h}" '
            f'rx="7"/><text class="name" x="{box.x + 12:.1f}" y="{name_y:.1f}">'
            f"{escape(node.name)}</text>"
        )
        if sub:
            out.append(
                f'<text class="sub" x="{box.x + 12:.1f}" y="{box.y + 31:.1f}">{escape(sub)}</text>'
            )
        out.append("</a>")
    out += ["</g>", "</g>", "</svg>"]
    return "\n".join(out)
