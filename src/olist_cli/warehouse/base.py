"""The warehouse Protocol: the few operations the pipeline needs, named for what they do.

One adapter per engine implements it (``duckdb.py``; BigQuery later). Nothing outside the
adapters and their dialects knows which engine runs: no ``if engine == ...`` elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from olist_cli.dataset import Column

Params = Sequence[Any] | None
# Called by ``load_csv`` with a raw table's row count (None: no table yet) and the count
# the load is about to give it; raises to refuse the load (see load.py: shrinking tables).
RowCheck = Callable[[int | None, int], None]


class Dialect(Protocol):
    """SQL snippets that differ between engines, exposed to model templates as globals.

    Every method returns a SQL expression (or a full SELECT for ``date_spine``). Arguments
    are SQL expressions, passed through unchanged.
    """

    type_string: str
    type_int: str
    type_numeric: str
    type_float: str
    type_bool: str
    type_date: str
    type_timestamp: str

    def surrogate_key(self, *columns: str) -> str:
        """A deterministic BIGINT/INT64 key from the natural key columns, equal on every engine."""
        ...

    def date_diff_days(self, start: str, end: str) -> str:
        """Whole calendar days from ``start`` to ``end`` (dates or timestamps)."""
        ...

    def to_date(self, expr: str) -> str: ...

    def safe_cast(self, expr: str, type_: str) -> str:
        """Cast, or NULL when the value does not fit."""
        ...

    def date_spine(self, start: str, end: str) -> str:
        """A SELECT of one row per day, ``start`` to ``end`` inclusive, in column date_day."""
        ...

    def day_name(self, expr: str) -> str:
        """English weekday name: Monday .. Sunday."""
        ...

    def month_name(self, expr: str) -> str:
        """English month name: January .. December."""
        ...

    def iso_day_of_week(self, expr: str) -> str:
        """1 = Monday .. 7 = Sunday."""
        ...


# The column of LoadedRows.changes that tells an inserted row (true) from a deleted one.
CHANGE_INSERTED = "olist_inserted"


@dataclass(frozen=True)
class LoadedRows:
    """What ``load_csv`` did: the raw table's row count after it, and how it got there.

    ``inserted`` and ``deleted`` are the rows only in the file and only in the table
    before the load, counted as multisets (a third copy of a row is one row inserted),
    when the adapter compared the two; None when it rewrote the table without comparing.
    ``replaced`` says the table was rewritten whole rather than changed in place.
    ``changes``: when the caller asked to keep them and the table was compared with the file, a
    relation on this connection of the rows deleted and inserted (the table's columns and
    a boolean ``olist_inserted``), until the connection closes or its transaction rolls back.
    """

    rows: int
    inserted: int | None = None
    deleted: int | None = None
    replaced: bool = True
    changes: str | None = None


@dataclass(frozen=True)
class ReplacedRows:
    """What ``replace_rows`` did: rows inserted and deleted; ``new_rows``, a relation of the
    rows inserted, and ``touched``, a SELECT of the rows deleted and inserted, both
    readable until the connection closes or its transaction rolls back."""

    inserted: int
    deleted: int
    new_rows: str
    touched: str


class Warehouse(Protocol):
    """A connection to one warehouse; schemas are DuckDB schemas or BigQuery datasets."""

    name: ClassVar[str]
    dialect: Dialect
    # True when write_audit_publish() holds state on the adapter's own connection, so the
    # work inside it must run on the calling thread (DuckDB: one transaction).
    audit_on_one_connection: ClassVar[bool]
    # True when ``load_csv(keep_changes=True)`` keeps the rows a load changed and
    # ``kept_rows``/``replace_rows`` keep scratch tables: what tracking changes needs.
    # With audit_on_one_connection they live on the adapter's own connection only.
    keeps_changes: ClassVar[bool]
    # Whether, when it was opened, nothing but olist had written the warehouse since the
    # last olist run sealed it (see ``seal``): only then are olist's records evidence.
    sealed: bool

    def relation(self, schema: str, name: str) -> str:
        """The quoted, fully qualified name of a table or view."""
        ...

    def ensure_schema(self, schema: str) -> None: ...

    def execute(self, sql: str, params: Params = None) -> None: ...

    def query(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]: ...

    def query_columns(
        self, sql: str, params: Params = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Rows of a query and the names of its columns."""
        ...

    def table_exists(self, schema: str, name: str) -> bool: ...

    def columns(self, schema: str, name: str) -> list[tuple[str, str]]:
        """(name, type) of each column of a table or view, in order; [] if it does not exist."""
        ...

    def row_count(self, schema: str, name: str) -> int: ...

    def insert_rows(
        self,
        schema: str,
        name: str,
        columns: Sequence[tuple[str, str]],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Append rows to a table: ``columns`` gives each value's column and its type."""
        ...

    def list_tables(self, schema: str) -> list[str]:
        """Names of the base tables (not views) in a schema; [] if it does not exist."""
        ...

    def create_view(self, schema: str, name: str, select_sql: str) -> None: ...

    def create_table_as(
        self,
        schema: str,
        name: str,
        select_sql: str,
        *,
        partition_by: str | None = None,
        cluster_by: Sequence[str] = (),
    ) -> int:
        """Create or replace a table from a SELECT, atomically; return its row count."""
        ...

    def kept_rows(self, select_sql: str, *, prefix: str = "olist_kept") -> str:
        """A scratch table holding the SELECT's rows, readable until the connection closes
        (or, on DuckDB, its transaction rolls back): a run's record of what it changed."""
        ...

    def replace_rows(
        self,
        schema: str,
        name: str,
        rows_sql: str,
        *,
        unique_key: Sequence[str],
        matching: str,
    ) -> ReplacedRows:
        """Replace the table's rows that ``matching`` selects (a condition on its rows,
        aliased ``t``), and those whose ``unique_key`` a new row holds, by the SELECT's
        rows; atomically."""
        ...

    def load_csv(
        self,
        schema: str,
        table: str,
        path: Path,
        columns: Sequence[Column],
        *,
        before_commit: Callable[[int], None] | None = None,
        replace: bool = False,
        keep_changes: bool = False,
        check_rows: RowCheck | None = None,
    ) -> LoadedRows:
        """Make ``table`` hold exactly the typed rows of a CSV file; return its row count.

        An adapter may change an existing table of the same columns and types in place,
        by difference; ``replace`` asks for the whole table to be rewritten instead.
        Atomic: on any error the table is left exactly as it was. A value the column's
        type would change (rounded, or text holding NUL) is an error. ``check_rows`` runs
        with the table's row count and the one it would get, before readers can see the
        change; what it raises refuses the load. ``before_commit`` runs with the row count
        inside the same unit of work (it records `_load_metadata`). ``keep_changes``: keep
        the changed rows, when loading by difference, for the caller to test only those
        (see ``LoadedRows.changes``).
        """
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Group statements so that they all take effect, or none does."""
        ...

    def write_audit_publish(self) -> AbstractContextManager[None]:
        """Models built and tested inside become visible to readers together, on success.

        On an exception nothing is published and readers see the previous tables.
        """
        ...

    def seal(self) -> None:
        """Mark the warehouse as this run leaves it, after its last write."""
        ...

    def close(self) -> None: ...


def insert_as_values(
    warehouse: Warehouse,
    schema: str,
    name: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    *,
    rows_per_insert: int = 500,
) -> None:
    """``insert_rows`` as a few multi-row INSERT ... VALUES, one parameter per value.

    Not one statement per row: a run records hundreds, and a statement costs far more
    on BigQuery than a row does.
    """
    listed = ", ".join(column for column, _ in columns)
    marks = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(rows), rows_per_insert):
        chunk = rows[start : start + rows_per_insert]
        warehouse.execute(
            f"insert into {warehouse.relation(schema, name)} ({listed}) "
            f"values {', '.join(marks for _ in chunk)}",
            [value for row in chunk for value in row],
        )


def iter_quoted(names: Sequence[str], quote: str = '"') -> Iterator[str]:
    """Quote each identifier for SQL."""
    for name in names:
        yield f"{quote}{name}{quote}"
