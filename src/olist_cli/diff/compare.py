"""One model's two relations compared in SQL, on one DuckDB connection, exactly.

By unique key (a model's ``unique_key``): a full outer join on the key, NULL-safe
(``IS NOT DISTINCT FROM``), gives the rows only on one side and, for the rows on both,
which columns differ (``IS DISTINCT FROM``: NULL equals NULL, nothing else is equal
to NULL). Without a key, or when a side holds a key twice, as multisets of whole rows:
each distinct row counted on each side, so a row held twice here and once there is one
row only here. Values are compared as the engine holds them: decimals and floats
exactly, no rounding, no tolerance (DuckDB takes 0.0 and -0.0 as equal, and NaN as equal
to NaN). One scan of each side; the counts and the sample rows come from the same query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from olist_cli.diff.sides import Relation, quote

if TYPE_CHECKING:
    import duckdb

BY_KEY = "unique_key"
WHOLE_ROW = "whole_row"

_NUMERIC = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT"
    r"|FLOAT|REAL|DOUBLE|DECIMAL(\(\d+,\s*\d+\))?)$"
)
_TEMPORAL = re.compile(r"^(DATE|TIMESTAMP(_S|_MS|_NS)?|TIMESTAMP WITH TIME ZONE)$")


@dataclass(frozen=True)
class ColumnChange:
    column: str
    changed: int  # rows on both sides whose value of this column differs
    samples: list[dict[str, Any]]  # {"key": {...}, "base": v, "candidate": v}


@dataclass
class ModelDiff:
    model: str
    materialized: str
    base: Relation
    candidate: Relation
    compared_by: str  # BY_KEY or WHOLE_ROW
    key: tuple[str, ...]
    rows_base: int = 0
    rows_candidate: int = 0
    only_in_base: int = 0
    only_in_candidate: int = 0
    changed: int = 0  # rows on both sides (same key) with at least one value changed
    columns_only_in_base: list[str] = field(default_factory=list)
    columns_only_in_candidate: list[str] = field(default_factory=list)
    type_changes: list[tuple[str, str, str]] = field(default_factory=list)  # column, base, cand
    column_changes: list[ColumnChange] = field(default_factory=list)
    samples_only_in_base: list[dict[str, Any]] = field(default_factory=list)
    samples_only_in_candidate: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not (
            self.only_in_base
            or self.only_in_candidate
            or self.changed
            or self.columns_only_in_base
            or self.columns_only_in_candidate
            or self.type_changes
        )


def _family(duck_type: str) -> str:
    if _NUMERIC.match(duck_type):
        return "number"
    if _TEMPORAL.match(duck_type):
        return "time"
    return duck_type


def _comparable(base_type: str, candidate_type: str) -> bool:
    """Whether DuckDB compares the two types' values as values (a decimal with a decimal
    of another scale, a date with a timestamp); other pairs are compared as text."""
    return base_type == candidate_type or _family(base_type) == _family(candidate_type)


def compare_model(
    con: duckdb.DuckDBPyConnection,
    model: str,
    materialized: str,
    base: Relation,
    candidate: Relation,
    *,
    unique_key: tuple[str, ...],
    compare_types: bool,
    samples: int,
) -> ModelDiff:
    """Compare one model's two relations; ``compare_types`` when both are on one engine
    (across engines the type names differ by design: DATETIME against TIMESTAMP)."""
    base_types = dict(base.columns)
    cand_types = dict(candidate.columns)
    common = [c for c, _ in base.columns if c in cand_types]
    result = ModelDiff(model, materialized, base, candidate, WHOLE_ROW, ())
    result.columns_only_in_base = [c for c, _ in base.columns if c not in cand_types]
    result.columns_only_in_candidate = [c for c, _ in candidate.columns if c not in base_types]
    if compare_types:
        result.type_changes = [
            (c, base_types[c], cand_types[c]) for c in common if base_types[c] != cand_types[c]
        ]
    if not common:
        result.notes.append("no column in common: every row differs")
        result.rows_base = result.only_in_base = _count(con, base)
        result.rows_candidate = result.only_in_candidate = _count(con, candidate)
        return result
    as_text = {c for c in common if not _comparable(base_types[c], cand_types[c])}
    if as_text:
        result.notes.append(
            f"compared as text, their types being too different: {', '.join(sorted(as_text))}"
        )

    key = tuple(unique_key)
    missing = [k for k in key if k not in common]
    if key and missing:
        result.notes.append(
            f"unique key column {', '.join(missing)} is not on both sides: compared as whole rows"
        )
        key = ()
    if key:
        for relation, label in ((base, "base"), (candidate, "candidate")):
            repeated = _repeated_keys(con, relation, key)
            if repeated:
                result.notes.append(
                    f"{label} holds {repeated:,} values of the unique key ({', '.join(key)}) "
                    "more than once: compared as whole rows"
                )
                key = ()
    if key:
        result.compared_by, result.key = BY_KEY, key
        _by_key(con, result, common, as_text, samples)
    else:
        _whole_rows(con, result, common, as_text, samples)
    return result


def _count(con: duckdb.DuckDBPyConnection, relation: Relation) -> int:
    return int(con.execute(f"select count(*) from {relation.sql}").fetchone()[0])  # type: ignore[index]


def _repeated_keys(con: duckdb.DuckDBPyConnection, relation: Relation, key: tuple[str, ...]) -> int:
    cols = ", ".join(quote(k) for k in key)
    sql = (
        f"select count(*) from (select {cols} from {relation.sql} "
        f"group by {cols} having count(*) > 1)"
    )
    return int(con.execute(sql).fetchone()[0])  # type: ignore[index]


def _value(column: str, as_text: set[str]) -> str:
    return f"cast({quote(column)} as varchar)" if column in as_text else quote(column)


def _by_key(
    con: duckdb.DuckDBPyConnection,
    result: ModelDiff,
    common: list[str],
    as_text: set[str],
    samples: int,
) -> None:
    keys = list(result.key)
    values = [c for c in common if c not in keys]
    # Positional aliases (k0.., v0..): no column name of a model can clash with them.
    k = [f"k{i}" for i in range(len(keys))]
    v = [f"v{i}" for i in range(len(values))]
    picked = ", ".join(
        [f"{_value(c, as_text)} as {a}" for c, a in zip(keys, k, strict=True)]
        + [f"{_value(c, as_text)} as {a}" for c, a in zip(values, v, strict=True)]
        + ["true as olist_here"]
    )
    on = " and ".join(f"b.{a} is not distinct from c.{a}" for a in k)
    joined = ", ".join(
        [f"coalesce(b.{a}, c.{a}) as {a}" for a in k]
        + ["b.olist_here as in_b", "c.olist_here as in_c"]
        + [f"b.{a} as b_{a}, c.{a} as c_{a}" for a in v]
    )
    differs = " or ".join(
        ["b.olist_here is null", "c.olist_here is null"]
        + [f"b.{a} is distinct from c.{a}" for a in v]
    )
    # Pass 1, the one scan of both sides: keep only the rows that differ, in a temporary
    # table. Pass 2 counts and samples them (building the samples' structs for every row
    # of the join would cost more than the join itself).
    con.execute(
        f"create or replace temporary table olist_diff_rows as "
        f"with b as (select {picked} from {result.base.sql}), "
        f"c as (select {picked} from {result.candidate.sql}) "
        f"select {joined} from b full outer join c on {on} where {differs}"
    )
    try:
        result.rows_base = _count(con, result.base)
        result.rows_candidate = _count(con, result.candidate)
        _count_by_key(con, result, keys, values, k, v, samples)
    finally:
        con.execute("drop table if exists olist_diff_rows")


def _count_by_key(
    con: duckdb.DuckDBPyConnection,
    result: ModelDiff,
    keys: list[str],
    values: list[str],
    k: list[str],
    v: list[str],
    samples: int,
) -> None:
    key_struct = (
        "struct_pack(" + ", ".join(f"{quote(c)} := {a}" for c, a in zip(keys, k, strict=True)) + ")"
    )

    def row_struct(prefix: str) -> str:
        fields = [f"{quote(c)} := {a}" for c, a in zip(keys, k, strict=True)]
        fields += [f"{quote(c)} := {prefix}{a}" for c, a in zip(values, v, strict=True)]
        return "struct_pack(" + ", ".join(fields) + ")"

    def changed(a: str) -> str:
        return f"(in_b and in_c and b_{a} is distinct from c_{a})"

    measures = [
        "count(*) filter (where in_c is null)",
        "count(*) filter (where in_b is null)",
        "count(*) filter (where in_b and in_c)",
    ]
    measures += [f"count(*) filter (where {changed(a)})" for a in v]
    if samples:
        n = int(samples)
        measures += [
            f"min_by({row_struct('b_')}, {key_struct}, {n}) filter (where in_c is null)",
            f"min_by({row_struct('c_')}, {key_struct}, {n}) filter (where in_b is null)",
        ]
        measures += [
            f"min_by(struct_pack(key := {key_struct}, base := b_{a}, candidate := c_{a}), "
            f"{key_struct}, {n}) filter (where {changed(a)})"
            for a in v
        ]
    row = con.execute(f"select {', '.join(measures)} from olist_diff_rows").fetchone()
    assert row is not None
    result.only_in_base, result.only_in_candidate, result.changed = map(int, row[:3])
    counts = row[3 : 3 + len(v)]
    sampled = row[3 + len(v) :]
    if samples:
        result.samples_only_in_base = [{"row": r, "count": 1} for r in sampled[0] or []]
        result.samples_only_in_candidate = [{"row": r, "count": 1} for r in sampled[1] or []]
    for i, column in enumerate(values):
        if counts[i]:
            found = list(sampled[2 + i] or []) if samples else []
            result.column_changes.append(ColumnChange(column, int(counts[i]), found))


def _whole_rows(
    con: duckdb.DuckDBPyConnection,
    result: ModelDiff,
    common: list[str],
    as_text: set[str],
    samples: int,
) -> None:
    a = [f"c{i}" for i in range(len(common))]
    picked = ", ".join(f"{_value(c, as_text)} as {x}" for c, x in zip(common, a, strict=True))
    listed = ", ".join(a)
    on = " and ".join(f"b.{x} is not distinct from c.{x}" for x in a)
    joined = ", ".join(
        [f"case when b.olist_n is null then c.{x} else b.{x} end as {x}" for x in a]
        + ["coalesce(b.olist_n, 0) as nb", "coalesce(c.olist_n, 0) as nc"]
    )
    # As by key: one scan keeps the distinct rows whose counts differ, then a small query
    # counts and samples them.
    con.execute(
        f"create or replace temporary table olist_diff_rows as "
        f"with b as (select {picked}, count(*) as olist_n from {result.base.sql} "
        f"group by {listed}), "
        f"c as (select {picked}, count(*) as olist_n from {result.candidate.sql} "
        f"group by {listed}) "
        f"select {joined} from b full outer join c on {on} "
        "where b.olist_n is distinct from c.olist_n"
    )
    try:
        result.rows_base = _count(con, result.base)
        result.rows_candidate = _count(con, result.candidate)
        row_struct = (
            "struct_pack("
            + ", ".join(f"{quote(c)} := {x}" for c, x in zip(common, a, strict=True))
            + ")"
        )
        measures = [
            "coalesce(sum(greatest(nb - nc, 0)), 0)",
            "coalesce(sum(greatest(nc - nb, 0)), 0)",
        ]
        if samples:
            n = int(samples)
            measures += [
                f"min_by(struct_pack(row := {row_struct}, count := nb - nc), {row_struct}, {n}) "
                "filter (where nb > nc)",
                f"min_by(struct_pack(row := {row_struct}, count := nc - nb), {row_struct}, {n}) "
                "filter (where nc > nb)",
            ]
        row = con.execute(f"select {', '.join(measures)} from olist_diff_rows").fetchone()
        assert row is not None
        result.only_in_base, result.only_in_candidate = int(row[0]), int(row[1])
        if samples:
            result.samples_only_in_base = [dict(s) for s in row[2] or []]
            result.samples_only_in_candidate = [dict(s) for s in row[3] or []]
    finally:
        con.execute("drop table if exists olist_diff_rows")
