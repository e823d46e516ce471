"""`olist diff`: which models differ between two warehouses, and how, model by model."""

from __future__ import annotations

from dataclasses import dataclass, field

from olist_cli.diff.compare import ModelDiff, compare_model
from olist_cli.diff.sides import DiffError, SideSpec, open_sides, parse_side
from olist_cli.engine import Graph, Project
from olist_cli.errors import ProjectError
from olist_cli.settings import Settings

DEFAULT_SAMPLES = 5
MAX_SAMPLES = 1000


@dataclass(frozen=True)
class RawFile:
    """One raw table's MD5 at its last load on each side (None: not recorded there)."""

    table: str
    base: str | None
    candidate: str | None

    @property
    def same(self) -> bool:
        return self.base is not None and self.base == self.candidate


@dataclass
class DiffReport:
    base: SideSpec
    candidate: SideSpec
    models: list[ModelDiff] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (model, why)
    raw_files: list[RawFile] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return all(m.identical for m in self.models)

    @property
    def differing(self) -> list[ModelDiff]:
        return [m for m in self.models if not m.identical]


def diff_warehouses(
    settings: Settings,
    project: Project,
    sides: list[str],
    *,
    select: str | None = None,
    views: bool = False,
    samples: int = DEFAULT_SAMPLES,
) -> DiffReport:
    """Compare the selected models of ``project`` between two sides (see sides.py); one
    side given: the settings' warehouse against it."""
    if len(sides) not in (1, 2):
        raise DiffError(
            f"olist diff takes one or two warehouses ([BASE] CANDIDATE), got {len(sides)}"
        )
    if not 0 <= samples <= MAX_SAMPLES:
        raise DiffError(f"--samples {samples}: give 0 to {MAX_SAMPLES}")
    texts = sides if len(sides) == 2 else ["", sides[0]]
    base, candidate = (parse_side(text, settings) for text in texts)
    graph = Graph(project)
    try:
        chosen = graph.order(graph.select(select))
    except ProjectError as exc:
        raise DiffError(exc.message) from None

    report = DiffReport(base, candidate)
    models = []
    for name in chosen:
        model = project.models[name]
        if model.config.materialized == "view" and not views:
            report.skipped.append((name, "a view (--views compares views too)"))
        else:
            models.append(model)
    if not models:
        raise DiffError(
            "nothing to compare: the selection holds only views; add --views to compare them"
        )

    import duckdb

    wanted = [(m.layer, m.name) for m in models]
    with open_sides(settings, base, candidate, wanted) as (b, c):
        pairs = []
        for model in models:  # every model found on both sides before any is compared
            rel_b = b.relation(base.schema(model.layer), model.name)
            if rel_b is None:
                raise b.absent(base.schema(model.layer), model.name)
            rel_c = c.relation(candidate.schema(model.layer), model.name)
            if rel_c is None:
                raise c.absent(candidate.schema(model.layer), model.name)
            pairs.append((model, rel_b, rel_c))
        for model, rel_b, rel_c in pairs:
            try:
                report.models.append(
                    compare_model(
                        b.con,
                        model.name,
                        model.config.materialized,
                        rel_b,
                        rel_c,
                        unique_key=model.config.unique_key,
                        compare_types=base.engine == candidate.engine,
                        samples=samples,
                    )
                )
            except duckdb.Error as exc:
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise DiffError(
                    f"{model.name}: could not compare the two sides: {reason}"
                ) from None
        tables = sorted(set(b.raw_md5) | set(c.raw_md5))
        report.raw_files = [RawFile(t, b.raw_md5.get(t), c.raw_md5.get(t)) for t in tables]
    return report
