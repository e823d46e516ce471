"""Incremental models: rebuild just the rows of the values whose rows changed, exactly.

An incremental model declares ``unique_key`` and ``keys_from``, a promise per ref: its
rows holding a value in that column are computed only from the ref's rows holding the
same value there (fact_orders' rows of one order_id come from that order's rows in
stg_orders, stg_payments and stg_order_items, and from the stg_customers row of its
customer_id). A run knows which rows of each ref changed: a view's from the rows its raw
tables' loads deleted and inserted (by its delta_key), an incremental model's from the
rows it replaced. So the rows that may differ from a full rebuild are exactly those
holding a changed value in one of the keys_from columns; the build replaces them (old
rows out, the model's rows for those values in), and the table stays equal to a full
rebuild, deletions included: a value whose rows are all gone leaves no row behind.

The table is rebuilt whole instead when that is not provable: it was not up to date at
the start of the run (its inputs changed in another run, whose changed rows are not
known now), a ref it reads whole (not in keys_from) changed, or a ref's changed rows are
not known (a raw table replaced whole). Each such build says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from olist_cli.engine.changes import Changed, RunChanges
from olist_cli.engine.project import Model, Project


@dataclass(frozen=True)
class Plan:
    """How an incremental model's existing table is brought up to date in this run.

    ``rebuild``: why it is rebuilt whole; None: it is updated by replacing the rows of
    the changed values, ``values`` (column -> SELECT of those values, before and after).
    """

    rebuild: str | None
    values: dict[str, str]


def plan(
    project: Project, model: Model, changes: RunChanges | None, current_at_start: bool
) -> Plan:
    """Merge the changed values, or rebuild whole and say why (see the module docstring)."""
    if changes is None:
        return Plan("this run does not know which rows of its inputs changed", {})
    if not current_at_start:
        return Plan(
            "its inputs changed since its last build in another run, whose changed rows "
            "are not known now",
            {},
        )
    for raw in model.sources:
        if raw in changes.raw:
            return Plan(f"raw table {raw}, which it reads whole, changed", {})
    parts: dict[str, list[str]] = {}
    keys_from = model.config.keys_from
    for ref in model.refs:
        changed = changes.of(project.models[ref])
        if changed is not None and changed.keys is None:
            continue  # nothing in it changed
        column = keys_from.get(ref)
        if column is None:
            return Plan(f"{ref}, which it reads whole, changed", {})
        values = changed.values_of(column) if changed is not None else None
        if values is None:
            return Plan(f"which rows of {ref} changed is not known", {})
        parts.setdefault(column, []).append(values)
    return Plan(None, {column: union(column, selects) for column, selects in parts.items()})


def union(column: str, selects: list[str]) -> str:
    """One SELECT of ``column`` from several."""
    return "\nunion all\n".join(f"select {column} from ({s}) as v" for s in selects)


def matching(alias: str, values: dict[str, str]) -> str:
    """A condition: the row ``alias`` holds a changed value in one of the columns.

    NULL matches NULL: the rows a NULL value's changed rows feed are those holding NULL.
    """
    return " or ".join(
        f"exists (select 1 from {relation} as olist_value "
        f"where olist_value.{column} is not distinct from {alias}.{column})"
        for column, relation in values.items()
    )


def changed_rows(key: tuple[str, ...], new_rows: str, touched: str) -> Changed:
    """The model's changed rows after a replace: ``touched`` holds them before and after."""
    keys = ", ".join(key)
    return Changed(key, f"select distinct {keys} from ({touched}) as t", new_rows, touched)
