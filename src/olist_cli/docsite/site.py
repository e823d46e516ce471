"""Write the docs site: index.html, one page per model and per raw source, and the assets.

Pages are Jinja templates with autoescape on, so every name, description and SQL text
from the project or the warehouse is escaped. Links are relative and the assets are
files beside the pages, so the site works from file:// as well as from ``serve()``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from olist_cli import __version__
from olist_cli.docsite.collect import SiteData, collect
from olist_cli.docsite.graph import render_svg
from olist_cli.docsite.serve import DocsError
from olist_cli.docsite.sqlhtml import highlight
from olist_cli.engine.project import Project
from olist_cli.lineage import (
    GROUP_ORDER,
    SOURCE_GROUP,
    Edge,
    Lineage,
    build_lineage,
    group_title,
    key_edges,
    model_id,
    source_id,
)
from olist_cli.settings import Settings
from olist_cli.warehouse.base import Warehouse

ASSETS = ("site.css", "lineage.js", "favicon.png")
STATUSES = ("pass", "warn", "fail", "error", "not run yet")


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("olist_cli.docsite", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda n: "—" if n is None else f"{n:,}"
    env.filters["sql"] = highlight
    env.filters["status_class"] = lambda s: s.replace(" ", "-")
    env.filters["summary"] = _summary
    env.globals["group_title"] = group_title
    return env


def _href(node_id: str) -> str:
    kind, _, name = node_id.partition(":")
    return f"{'sources' if kind == 'source' else 'models'}/{name}.html"


def _subtitles(data: SiteData) -> dict[str, str]:
    subs = {}
    for name, doc in data.models.items():
        rows = f"{doc.rows:,} rows" if doc.rows is not None else "not built yet"
        subs[model_id(name)] = f"{doc.model.config.materialized} · {rows}"
    for name, src in data.sources.items():
        subs[source_id(name)] = f"raw · {src.rows:,} rows" if src.rows is not None else "raw"
    return subs


def _graph(lineage: Lineage, data: SiteData, root: str, current: str | None = None) -> Markup:
    hrefs = {n.id: root + _href(n.id) for n in lineage.nodes}
    svg = render_svg(lineage, href=hrefs, subtitle=_subtitles(data), current=current)
    return Markup(svg)  # noqa: S704 - render_svg escapes every value it inserts


def _neighbourhood(keys: list[Edge], name: str) -> str:
    """A selector for a model's page graph: its ancestors and descendants, and the tables
    its keys point at or that point at it (a fact's dimensions, a dimension's facts)."""
    node = model_id(name)
    keyed = {
        n.partition(":")[2]
        for e in keys
        if node in (e.parent, e.child)
        for n in (e.parent, e.child)
    }
    return " ".join([f"+{name}+", *sorted(keyed - {name})])


def _summary(tests: list[Any]) -> dict[str, int]:
    counts = Counter(t.status for t in tests)
    return {s: counts[s] for s in STATUSES if counts[s]}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def build_site(settings: Settings, warehouse: Warehouse, project: Project, out_dir: Path) -> Path:
    """Generate the site into ``out_dir``; return the path of its index.html."""
    data = collect(settings, warehouse, project)
    full = build_lineage(project)
    env = _env()
    groups = [
        (group, [data.models[n.name] for n in nodes])
        for group, nodes in full.groups()
        if group != SOURCE_GROUP
    ]
    common = {
        "data": data,
        "groups": groups,
        "sources": list(data.sources.values()),
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "engine": data.engine,
        "href": _href,
    }
    pages: dict[Path, str] = {}
    pages[Path("index.html")] = env.get_template("index.html").render(
        **common,
        root="",
        graph=_graph(full, data, ""),
        summary=_summary(data.tests),
        total_rows=sum(d.rows or 0 for d in data.models.values()),
        group_order=GROUP_ORDER,
    )
    model_page = env.get_template("model.html")
    keys = key_edges(project, set(project.models))
    for name, doc in data.models.items():
        lineage = build_lineage(project, _neighbourhood(keys, name))
        pages[Path("models", f"{name}.html")] = model_page.render(
            **common,
            root="../",
            doc=doc,
            summary=_summary(doc.tests),
            graph=_graph(lineage, data, "../", model_id(name)),
        )
    source_page = env.get_template("source.html")
    for name, src in data.sources.items():
        graph = None
        if src.readers:
            lineage = build_lineage(project, " ".join(f"{r}+" for r in src.readers))
            graph = _graph(lineage, data, "../", source_id(name))
        pages[Path("sources", f"{name}.html")] = source_page.render(
            **common, root="../", src=src, graph=graph, summary=_summary(src.tests)
        )
    try:
        for rel, html in pages.items():
            _write(out_dir / rel, html)
        _copy_assets(out_dir / "assets")
        _remove_stale(out_dir, set(pages))
    except OSError as exc:
        raise DocsError(f"cannot write the docs site to {out_dir}: {exc.strerror or exc}") from None
    return out_dir / "index.html"


def _copy_assets(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    folder = resources.files("olist_cli.docsite") / "assets"
    for name in ASSETS:
        with resources.as_file(folder / name) as src:
            shutil.copyfile(src, target / name)


def _remove_stale(out_dir: Path, written: set[Path]) -> None:
    """Pages of models or sources that no longer exist: only pages this generator wrote
    (they carry its <meta name="generator">), so a user's own files are never deleted."""
    for sub in ("models", "sources"):
        for page in (out_dir / sub).glob("*.html"):
            if page.relative_to(out_dir) in written:
                continue
            with page.open(encoding="utf-8", errors="replace") as head:
                ours = '<meta name="generator" content="olist ' in head.read(2048)
            if ours:
                page.unlink()
