"""DuckDB, the embedded default warehouse: one database file, schemas for datasets."""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any, ClassVar

import duckdb

from olist_cli.dataset import Column, ColumnType
from olist_cli.errors import (
    CheckpointError,
    DamagedWarehouseError,
    DiskFullError,
    OlistError,
    PathAccessError,
    WarehouseBusyError,
    WarehouseError,
    file_error,
)
from olist_cli.warehouse.base import CHANGE_INSERTED, LoadedRows, Params, ReplacedRows, RowCheck
from olist_cli.warehouse.csv_values import (
    INT64_PATTERN,
    MAX_RECORD_CHARS,
    NUMERIC_PATTERN,
    REFUSED,
)
from olist_cli.warehouse.duckdb_errors import csv_load_error
from olist_cli.warehouse.duckdb_seal import is_sealed, write_seal

DUCKDB_TYPES: dict[ColumnType, str] = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INT64: "BIGINT",
    ColumnType.FLOAT64: "DOUBLE",
    ColumnType.NUMERIC: "DECIMAL(18,2)",
    ColumnType.TIMESTAMP: "TIMESTAMP",
}


# Loading by difference deletes and inserts the changed rows; past this share of the
# file's rows (rows deleted + rows inserted, over the rows the file holds) rewriting the
# whole table from the file is cheaper. Measured at scale 10 (1M orders or
# reviews, 2 cores): with 5% of the rows changed, delete + insert took 0.1 s against
# 0.7 s for the rewrite; the two cost the same with 30-40% of the rows changed (60-80%
# rewritten). Erring towards the rewrite also leaves fewer deleted rows in the table.
REPLACE_ABOVE_REWRITTEN_SHARE = 0.5
COMPARE_BUFFER_BYTES = 32 * 1024 * 1024  # see _csv_reader
# Columns of the comparison, named so that no Olist file's column can clash with them.
_ROW_HASH = "olist_row_hash"
_IN_FILE = "olist_in_file"
_ROWID = "olist_rowid"
# Which rows of the comparison a row of its result is: a file row to insert, a table row
# (by rowid) to delete, or one side's totals (row count in the rowid column, sum of hashes
# in the hash column).
_PART = "olist_part"
_FILE_ROW, _TABLE_ROW, _FILE_TOTAL, _TABLE_TOTAL = 1, 2, 3, 4


_CORRUPT = "Corrupt database file"


def _first(text: str) -> str:
    return (text.strip().splitlines() or ["unknown error"])[0]


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DuckDBDialect:
    """DuckDB spellings of the engine-specific SQL used by the models."""

    type_string = "VARCHAR"
    type_int = "BIGINT"
    type_numeric = "DECIMAL(38,2)"
    type_float = "DOUBLE"
    type_bool = "BOOLEAN"
    type_date = "DATE"
    type_timestamp = "TIMESTAMP"

    def surrogate_key(self, *columns: str) -> str:
        # md5 of the '|'-joined key, first 15 hex digits as a positive BIGINT: the same
        # number BigQuery computes with TO_HEX(MD5(...)), so keys agree across engines.
        parts = ", ".join(f"coalesce(cast({c} as VARCHAR), '_null_')" for c in columns)
        return f"cast('0x' || left(md5(concat_ws('|', {parts})), 15) as BIGINT)"

    def date_diff_days(self, start: str, end: str) -> str:
        return f"date_diff('day', cast({start} as DATE), cast({end} as DATE))"

    def to_date(self, expr: str) -> str:
        return f"cast({expr} as DATE)"

    def safe_cast(self, expr: str, type_: str) -> str:
        return f"try_cast({expr} as {type_})"

    def date_spine(self, start: str, end: str) -> str:
        return (
            "select cast(d as DATE) as date_day from "
            f"generate_series(cast({start} as DATE), cast({end} as DATE), interval 1 day) as g(d)"
        )

    def day_name(self, expr: str) -> str:
        return f"dayname({expr})"

    def month_name(self, expr: str) -> str:
        return f"monthname({expr})"

    def iso_day_of_week(self, expr: str) -> str:
        return f"isodow({expr})"


class DuckDBWarehouse:
    """A DuckDB database file. Thread-safe: each thread gets its own cursor."""

    name: ClassVar[str] = "duckdb"
    audit_on_one_connection: ClassVar[bool] = True
    # A load by difference knows the rows it changed, and can keep them (on a connection).
    keeps_changes: ClassVar[bool] = True

    def __init__(
        self,
        path: Path | str,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        read_only: bool = False,
    ) -> None:
        """Open (or, unless ``read_only``, create) the database file.

        Raises WarehouseBusyError at once if another program has it open (the caller
        decides how long to wait), DamagedWarehouseError for a file that is not a DuckDB
        database or is truncated, PathAccessError for a file or folder it may not use.
        """
        self.path = Path(path) if str(path) != ":memory:" else path
        self.read_only = read_only
        target = str(path)
        if isinstance(self.path, Path):
            if read_only and not self.path.exists():
                # Nothing built yet: a reader sees an empty database, and creates no file.
                target, read_only = ":memory:", False
            else:
                _check_place(self.path, read_only=read_only)
        self._con = _connect(target, read_only=read_only)
        try:
            if target != ":memory:":
                _check_complete(self._con, Path(target))
            _configure_session(self._con)
            if threads:
                self._con.execute(f"SET threads = {int(threads)}")
            if memory_limit:  # validated by Settings: digits and a unit
                self._con.execute(f"SET memory_limit = '{memory_limit}'")
        except BaseException:
            self._con.close()
            raise
        self._local = threading.local()
        self._main_thread = threading.get_ident()
        self.dialect = DuckDBDialect()
        # Read once, holding the file, before this run writes: see duckdb_seal.py.
        self.sealed = isinstance(self.path, Path) and is_sealed(self.path)

    # -- connection plumbing -------------------------------------------------------------

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection for the calling thread (a cursor on the shared database)."""
        if threading.get_ident() == self._main_thread:
            return self._con
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            _configure_session(cursor)
            self._local.cursor = cursor
        return cursor

    def close(self) -> None:
        self._con.close()

    def seal(self) -> None:
        """Checkpoint and record the file's identity: the next run can then trust what
        this one recorded in it (see duckdb_seal.py)."""
        if isinstance(self.path, Path):
            self.execute("CHECKPOINT")
            write_seal(self.path)

    def damaged(self, exc: duckdb.Error) -> WarehouseError | None:
        """A one-line error naming the tables that cannot be read, when ``exc`` says the
        file is damaged (DuckDB checks each block's checksum when it reads it)."""
        if _CORRUPT not in str(exc):
            return None
        bad = []
        probe = self._con.cursor()  # its own transaction: the failed one may be aborted
        for schema, table in probe.execute(
            "select schema_name, table_name from duckdb_tables() where not temporary order by 1, 2"
        ).fetchall():
            try:  # every column of every row: reads each of the table's blocks
                probe.execute(
                    f"select count(*) from {self.relation(schema, table)} "
                    "where hash(columns(*)) is not null"
                ).fetchall()
            except duckdb.Error:
                bad.append(f"{schema}.{table}")
        where = ", ".join(bad) if bad else "a table"
        return WarehouseError(
            f"the warehouse file {self.path} is damaged: {where} cannot be read "
            f"({_first(str(exc))}); restore it from a backup, or move it away and run "
            "`olist run-all` to rebuild it"
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A transaction; nested inside another on this connection, it joins the outer one.

        DuckDB has no savepoints: an inner block's error propagates, and the outermost
        block rolls everything back (a failed statement has aborted the transaction anyway).
        """
        con = self.con
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        con.execute("BEGIN TRANSACTION")
        self._local.depth = 1
        try:
            yield
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            self._local.depth = 0
        try:
            # A statement that failed inside (and whose error someone caught) aborted the
            # transaction, and DuckDB's COMMIT would then roll it all back without a word:
            # ask first, and say so.
            con.execute("SELECT 1").fetchall()
        except duckdb.TransactionException:
            con.execute("ROLLBACK")
            raise WarehouseError(
                "a statement failed inside the transaction and DuckDB aborted it: nothing "
                "was written"
            ) from None
        try:
            con.execute("COMMIT")
        except duckdb.Error as exc:
            problem = _commit_problem(self.path, exc)
            if problem is None:
                raise
            raise problem from None

    def write_audit_publish(self) -> AbstractContextManager[None]:
        # One transaction: readers (and a crash) see the old tables or all the new ones.
        return self.transaction()

    # -- generic SQL ---------------------------------------------------------------------

    def relation(self, schema: str, name: str) -> str:
        return f"{quote_ident(schema)}.{quote_ident(name)}"

    def ensure_schema(self, schema: str) -> None:
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")

    def execute(self, sql: str, params: Params = None) -> None:
        with self._reading():
            self.con.execute(sql, params)

    def query(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        with self._reading():
            return self.con.execute(sql, params).fetchall()

    def query_columns(
        self, sql: str, params: Params = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self._reading():
            result = self.con.execute(sql, params)
            names = [d[0] for d in result.description or []]
            return names, result.fetchall()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """A damaged file is the warehouse's error, not the statement's: say which table."""
        try:
            yield
        except duckdb.Error as exc:
            damage = self.damaged(exc)
            if damage is not None:
                raise damage from None
            raise

    # -- catalogue -----------------------------------------------------------------------

    def _relation_of(self, schema: str, name: str) -> duckdb.DuckDBPyRelation | None:
        """The table or view as a relation, None if there is none. About 45 lookups a run:
        a relation is bound without running a query, 0.03-0.4 ms against 0.5-0.8 ms for
        a query of duckdb_columns(); and a name not found leaves the transaction usable."""
        try:
            return self.con.table(self.relation(schema, name))
        except duckdb.CatalogException:
            return None

    def table_exists(self, schema: str, name: str) -> bool:
        return self._relation_of(schema, name) is not None

    def columns(self, schema: str, name: str) -> list[tuple[str, str]]:
        found = self._relation_of(schema, name)
        if found is None:
            return []
        return [(str(n), str(t)) for n, t in zip(found.columns, found.dtypes, strict=True)]

    def list_tables(self, schema: str) -> list[str]:
        rows = self.query(
            "select table_name from information_schema.tables "
            "where table_schema = ? and table_type = 'BASE TABLE' order by 1",
            [schema],
        )
        return [str(r[0]) for r in rows]

    def row_count(self, schema: str, name: str) -> int:
        return int(self.query(f"select count(*) from {self.relation(schema, name)}")[0][0])

    # -- materializations ----------------------------------------------------------------

    def create_view(self, schema: str, name: str, select_sql: str) -> None:
        self.execute(f"CREATE OR REPLACE VIEW {self.relation(schema, name)} AS\n{select_sql}")

    def create_table_as(
        self,
        schema: str,
        name: str,
        select_sql: str,
        *,
        partition_by: str | None = None,
        cluster_by: Sequence[str] = (),
    ) -> int:
        # DuckDB has no partitions or clustering keys. Sorting by the partition and
        # cluster columns gives the same benefit: zone maps skip row groups on filters.
        order = [c for c in [partition_by, *cluster_by] if c]
        order_sql = f"\nORDER BY {', '.join(quote_ident(c) for c in order)}" if order else ""
        relation = self.relation(schema, name)
        self.execute(
            f"CREATE OR REPLACE TABLE {relation} AS\nSELECT * FROM (\n{select_sql}\n){order_sql}"
        )
        return self.row_count(schema, name)

    def insert_rows(
        self,
        schema: str,
        name: str,
        columns: Sequence[tuple[str, str]],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """One INSERT whatever the row count, each column bound as one typed list: 200 rows
        of 14 columns take 2.5 ms, against 15 ms as VALUES with a parameter per value."""
        if not rows:
            return
        values = [list(column) for column in zip(*rows, strict=True)]
        listed = ", ".join(quote_ident(column) for column, _ in columns)
        unnested = ", ".join(f"unnest(?::{type_}[])" for _, type_ in columns)
        self.execute(
            f"INSERT INTO {self.relation(schema, name)} ({listed}) SELECT {unnested}", values
        )

    def kept_rows(self, select_sql: str, *, prefix: str = "olist_kept") -> str:
        """The name of a temporary table holding the SELECT's rows, kept until the
        connection closes or its transaction rolls back (a run's changed rows)."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.execute(f"CREATE TEMP TABLE {name} AS\n{select_sql}")
        return name

    @contextmanager
    def staged_rows(self, select_sql: str) -> Iterator[str]:
        """The SELECT's rows in a temporary table, as a SELECT of it; dropped afterwards."""
        name = self.kept_rows(select_sql, prefix="olist_staged")
        try:
            yield f"select * from {name}"
        finally:
            # After a failed statement the transaction refuses even this; the temporary
            # table then goes with the connection, and the first error is the one to see.
            with suppress(duckdb.Error):
                self.execute(f"DROP TABLE IF EXISTS {name}")

    def replace_rows(
        self,
        schema: str,
        name: str,
        rows_sql: str,
        *,
        unique_key: Sequence[str],
        matching: str,
    ) -> ReplacedRows:
        """Replace the table's rows that ``matching`` selects (a condition on alias ``t``),
        and those whose key a new row holds, by the SELECT's rows, in one transaction.

        The new rows are computed once, into a scratch table; the old ones are found once,
        by rowid, so the DELETE touches exactly them (an UPDATE would rewrite compressed
        column segments at the checkpoint; deleted rows are only marked). Both scratch
        tables stay until the connection closes or its transaction rolls back: they are
        the run's record of the rows it changed.
        """
        relation = self.relation(schema, name)
        cols = ", ".join(quote_ident(c) for c, _ in self.columns(schema, name))
        new = self.kept_rows(rows_sql, prefix="olist_new")
        same_key = " and ".join(f"s.{quote_ident(k)} = t.{quote_ident(k)}" for k in unique_key)
        old = self.kept_rows(
            f"select t.rowid as {_ROWID}, {cols} from {relation} as t\n"
            f"where ({matching}) or exists (select 1 from {new} as s where {same_key})",
            prefix="olist_old",
        )
        with self.transaction():
            self.execute(f"DELETE FROM {relation} WHERE rowid IN (SELECT {_ROWID} FROM {old})")
            self.execute(f"INSERT INTO {relation} ({cols}) SELECT {cols} FROM {new}")
        inserted, deleted = (
            int(n)
            for n in self.query(
                f"select (select count(*) from {new}), (select count(*) from {old})"
            )[0]
        )
        return ReplacedRows(
            inserted,
            deleted,
            new_rows=new,
            touched=f"select {cols} from {old} union all select {cols} from {new}",
        )

    # -- raw loads -----------------------------------------------------------------------

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
        """Make ``table`` hold exactly the CSV's rows, typed by ``columns``, in one transaction.

        A table that already has exactly these columns and types is changed in place, by
        difference (see ``_load_difference``), unless ``replace``; any other table is
        replaced, or created, from the file. ``keep_changes``: a change in place also
        leaves the rows it deleted and inserted in a temporary table (``LoadedRows.changes``).

        The reader is strict: no type guessing, no skipped bad rows, no value rounded (see
        ``_typed``). If it fails, the transaction rolls back, the previous table is
        untouched, and a one-line LoadError names the file, the physical line and the
        column. ``check_rows`` is called with the table's row count (None: no table) and
        the count it is about to hold, and may refuse the load by raising: before the
        table changes in place, or inside the transaction after a replacement, which its
        error rolls back. ``before_commit`` is called with the row count inside the
        transaction, so that what it writes (the load's metadata) commits or rolls back
        together with the table.
        """
        relation = self.relation(schema, table)
        expected = [(c.name, DUCKDB_TYPES[c.type]) for c in columns]
        with self.transaction():
            self.ensure_schema(schema)
            current = self.columns(schema, table)
            if not replace and current == expected:
                loaded = self._load_difference(relation, path, columns, keep_changes, check_rows)
            else:
                before = self.row_count(schema, table) if current else None
                self._replace_from_file(relation, path, columns)
                loaded = LoadedRows(self.row_count(schema, table))
                if check_rows is not None:
                    check_rows(before, loaded.rows)
            if before_commit is not None:
                before_commit(loaded.rows)
        return loaded

    def _replace_from_file(self, relation: str, path: Path, columns: Sequence[Column]) -> None:
        """Create or replace ``relation`` with the file's rows."""
        self._read_csv(
            f"CREATE OR REPLACE TABLE {relation} AS {_typed(columns, _csv_reader(columns))}",
            path,
            columns,
        )

    def _read_csv(self, sql: str, path: Path, columns: Sequence[Column]) -> None:
        """Run a statement reading the CSV file (its one parameter); a bad file is a LoadError."""
        try:
            self.con.execute(sql, [str(path)])
        except duckdb.Error as exc:
            raise csv_load_error(path, columns, str(exc)) from exc

    def _load_difference(
        self,
        relation: str,
        path: Path,
        columns: Sequence[Column],
        keep_changes: bool,
        check_rows: RowCheck | None,
    ) -> LoadedRows:
        """Turn ``relation`` into the CSV's rows by deleting and inserting only what differs.

        A daily snapshot changes a few thousand of a million rows. Rewriting the table
        for them means compressing and writing every row, and checkpointing them at the
        commit; comparing costs a scan of the table, and then only the changed rows are
        written.

        Each row gets a 64-bit hash of its values, and the file and the table are compared
        hash by hash, as multisets: the geolocation file repeats rows exactly, so a row
        whose number of copies changed is a change. For each hash whose count differs,
        every table row with that hash is deleted and every file row with it inserted, so
        the result is exact even when different rows share a hash.

        Most changes are rows only on one side: new, edited or removed rows. Those are
        found first, by hash lookups alone (``_one_sided``), which is a third cheaper
        than counting every hash; the rows on both sides must then have equal counts and
        equal sums of hashes. When they do not (a repeated row gained or lost a copy), the
        hashes are counted (``_by_count``). The one way to be wrong is a row replaced by a
        different row with the same hash, about 2^-64 per changed row. ``olist load
        --force`` replaces the tables whole.

        The comparison is with the table itself, not with the file loaded before, so a
        table edited by hand is put right too. When the rows to delete and insert are
        more than REPLACE_ABOVE_REWRITTEN_SHARE of the file's, the table is rewritten
        from the file instead.
        """
        uid = uuid.uuid4().hex[:12]
        changed = f"olist_changed_{uid}"
        listed = ", ".join(quote_ident(c.name) for c in columns)
        try:
            # One statement parses and compares, and keeps only the changed rows: the
            # file's with their values, the table's by rowid. The parsed file lives only
            # while it runs: a temporary table, even dropped, would be held until the
            # caller's transaction ends (700 MB at scale 10, through all of `run-all`).
            self._read_csv(self._one_sided(changed, relation, columns), path, columns)
            one_sided = self._one_sided_change(changed)
            if one_sided is not None:
                # Each changed hash is on one side only: its rows are all inserted, or all
                # deleted, and those are all the rows the delete and insert touch.
                inserted, deleted, before = one_sided
                rewritten = inserted + deleted
            else:
                self.con.execute(f"DROP TABLE {changed}")
                self._read_csv(self._by_count(changed, relation, columns), path, columns)
                inserted, deleted, rewritten, before = (
                    int(n)
                    for n in self.con.execute(
                        # Per hash: f file rows, t table rows. inserted/deleted: the multiset
                        # difference, what a person calls the change (a third copy of a row
                        # is +1). rewritten: the rows the delete and insert touch, their cost.
                        "SELECT coalesce(sum(greatest(f - t, 0)), 0), "
                        "coalesce(sum(greatest(t - f, 0)), 0), coalesce(sum(f + t), 0), "
                        f"(SELECT count(*) FROM {relation}) FROM ("
                        f"SELECT count(*) FILTER (WHERE {_PART} = {_FILE_ROW}) AS f, "
                        f"count(*) FILTER (WHERE {_PART} = {_TABLE_ROW}) AS t FROM {changed} "
                        f"WHERE {_PART} IN ({_FILE_ROW}, {_TABLE_ROW}) GROUP BY {_ROW_HASH})"
                    ).fetchone()
                    or (0, 0, 0, 0)
                )
            rows = before + inserted - deleted
            if check_rows is not None:
                check_rows(before, rows)
            removed = f"SELECT {_ROWID} FROM {changed} WHERE {_PART} = {_TABLE_ROW}"
            added = f"SELECT {listed} FROM {changed} WHERE {_PART} = {_FILE_ROW}"
            kept = None
            if keep_changes:
                # Read before the delete or the rewrite: the deleted rows' values live only
                # in the table. Kept either way: what changed is known, however it is written.
                kept = f"olist_delta_{uid}"
                self.con.execute(
                    f"CREATE TEMP TABLE {kept} AS\n"
                    f"SELECT {listed}, true AS {CHANGE_INSERTED} FROM ({added})\n"
                    f"UNION ALL SELECT {listed}, false FROM {relation} WHERE rowid IN ({removed})"
                )
            if rewritten > REPLACE_ABOVE_REWRITTEN_SHARE * rows:
                # Parsed once more, rather than kept: this is the rare case.
                self._replace_from_file(relation, path, columns)
                return LoadedRows(
                    rows, inserted=inserted, deleted=deleted, replaced=True, changes=kept
                )
            if rewritten:
                self.con.execute(f"DELETE FROM {relation} WHERE rowid IN ({removed})")
                self.con.execute(f"INSERT INTO {relation} ({listed}) {added}")
            return LoadedRows(
                rows, inserted=inserted, deleted=deleted, replaced=False, changes=kept
            )
        finally:
            # After a failed statement the transaction refuses even this; the temporary
            # table then goes with its rollback, and the first error is the one to see.
            with suppress(duckdb.Error):
                self.con.execute(f"DROP TABLE IF EXISTS {changed}")

    @staticmethod
    def _one_sided(changed: str, relation: str, columns: Sequence[Column]) -> str:
        """The rows whose hash is only in the file, or only in the table, and both sides'
        row counts and sums of hashes (mod 2^64), for ``_one_sided_change``."""
        start, listed, nulls = _comparison(changed, relation, columns)
        summed = f"(sum({_ROW_HASH}::HUGEINT) % {2**64})::UBIGINT"
        return (
            f"{start})\n"
            f"SELECT {_FILE_ROW} AS {_PART}, {_ROW_HASH}, NULL::BIGINT AS {_ROWID}, {listed} "
            f"FROM parsed WHERE {_ROW_HASH} NOT IN (SELECT {_ROW_HASH} FROM table_rows)\n"
            f"UNION ALL SELECT {_TABLE_ROW}, {_ROW_HASH}, {_ROWID}, {nulls} FROM table_rows "
            f"WHERE {_ROW_HASH} NOT IN (SELECT {_ROW_HASH} FROM parsed)\n"
            f"UNION ALL SELECT {_FILE_TOTAL}, {summed}, count(*), {nulls} FROM parsed\n"
            f"UNION ALL SELECT {_TABLE_TOTAL}, {summed}, count(*), {nulls} FROM table_rows"
        )

    def _one_sided_change(self, changed: str) -> tuple[int, int, int] | None:
        """(rows inserted, rows deleted, table rows before) when the one-sided rows are the
        whole change: the rows on both sides agree in count and in their sum of hashes.

        They differ when a hash on both sides has a different count on each; then None.
        """
        found = self.con.execute(
            f"SELECT {_PART}, count(*), sum({_ROW_HASH}::HUGEINT), max({_ROWID}) "
            f"FROM {changed} GROUP BY {_PART}"
        ).fetchall()
        by_part = {int(part): (int(n), int(total or 0), int(r or 0)) for part, n, total, r in found}
        file_rows, file_sum, _ = by_part.get(_FILE_ROW, (0, 0, 0))
        table_rows, table_sum, _ = by_part.get(_TABLE_ROW, (0, 0, 0))
        _, all_file_sum, all_file_rows = by_part[_FILE_TOTAL]
        _, all_table_sum, all_table_rows = by_part[_TABLE_TOTAL]
        same_count = all_file_rows - file_rows == all_table_rows - table_rows
        same_sum = (all_file_sum - file_sum - (all_table_sum - table_sum)) % 2**64 == 0
        return (file_rows, table_rows, all_table_rows) if same_count and same_sum else None

    @staticmethod
    def _by_count(changed: str, relation: str, columns: Sequence[Column]) -> str:
        """The rows of every hash whose count differs between the file and the table."""
        start, listed, nulls = _comparison(changed, relation, columns)
        in_file = f"count(*) FILTER (WHERE {_IN_FILE})"
        in_table = f"count(*) FILTER (WHERE NOT {_IN_FILE})"
        return (
            f"{start}), counts AS MATERIALIZED (\n"
            f"  SELECT {_ROW_HASH} FROM (SELECT {_ROW_HASH}, true AS {_IN_FILE} FROM parsed\n"
            f"        UNION ALL SELECT {_ROW_HASH}, false FROM table_rows)\n"
            f"  GROUP BY {_ROW_HASH} HAVING {in_file} <> {in_table}\n"
            ")\n"
            f"SELECT {_FILE_ROW} AS {_PART}, {_ROW_HASH}, NULL::BIGINT AS {_ROWID}, {listed}\n"
            f"FROM parsed SEMI JOIN counts USING ({_ROW_HASH})\n"
            f"UNION ALL SELECT {_TABLE_ROW}, {_ROW_HASH}, {_ROWID}, {nulls}\n"
            f"FROM table_rows SEMI JOIN counts USING ({_ROW_HASH})"
        )


def _comparison(changed: str, relation: str, columns: Sequence[Column]) -> tuple[str, str, str]:
    """The start of a statement comparing the CSV file with ``relation``, up to its last CTE's
    closing parenthesis: ``parsed`` (the file's rows with their hash) and ``table_rows`` (the
    table's hashes and rowids); with the column list and as many NULLs."""
    names = [quote_ident(c.name) for c in columns]
    listed, nulls = ", ".join(names), ", ".join(f"NULL AS {n}" for n in names)
    row_hash = f"hash({listed})"
    typed = _typed(columns, _csv_reader(columns, buffer_bytes=COMPARE_BUFFER_BYTES))
    start = (
        f"CREATE TEMP TABLE {changed} AS\n"
        f"WITH parsed AS MATERIALIZED (\n"
        f"  SELECT {listed}, {row_hash} AS {_ROW_HASH} FROM ({typed})\n"
        "), table_rows AS MATERIALIZED (\n"
        f"  SELECT {row_hash} AS {_ROW_HASH}, rowid AS {_ROWID} FROM {relation}\n"
    )
    return start, listed, nulls


# -- opening the file ------------------------------------------------------------------------

_HELD = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
_FILE_HEADERS_BYTES = 3 * 4096  # DuckDB's main header and its two database headers


def _check_place(path: Path, *, read_only: bool) -> None:
    """A writer needs to write the file's folder: DuckDB writes its log, <file>.wal, there."""
    if read_only:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise file_error(exc, f"cannot create the warehouse folder {path.parent}") from None
    if not os.access(path.parent, os.W_OK):  # checked now: DuckDB would fail at the commit
        raise PathAccessError(
            f"cannot write the warehouse {path}: its folder {path.parent} is read-only for "
            "this user (DuckDB writes its log there); `olist status` can still read it"
        )


def _connect(path: str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(path, read_only=read_only)
    except duckdb.Error as exc:
        message = str(exc)
        held = _HELD.search(message)
        if held is not None:
            raise WarehouseBusyError(
                f"the warehouse {path} is open in {held['program']} (PID {held['pid']})",
                pid=int(held["pid"]),
                program=held["program"],
            ) from None
        # Not a DuckDB file, one written by a newer DuckDB, a file it may not open.
        reason = (message.splitlines() or [type(exc).__name__])[0]
        doing = f"cannot open the warehouse {path}"
        problem = _file_problem(message, f"{doing}: {reason}")
        if problem is not None:
            raise problem from None
        if "not a valid DuckDB database file" in message or "Could not read enough" in message:
            raise DamagedWarehouseError(f"{doing}: {reason}") from None
        raise WarehouseError(f"{doing}: {reason}") from None


def _check_complete(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a truncated file now, rather than at whichever query first reads past its end.

    Every block in use lies in the file, so the file is at least its headers and its used
    blocks long (free blocks may be cut off the end: only used ones count).
    """
    block_size, used_blocks = con.execute(
        "select block_size, used_blocks from pragma_database_size() "
        "where database_name = current_database()"
    ).fetchone() or (0, 0)
    needed = _FILE_HEADERS_BYTES + int(block_size) * int(used_blocks)
    size = path.stat().st_size
    if size < needed:
        raise DamagedWarehouseError(
            f"the warehouse {path} is truncated: {size:,} bytes, where its {used_blocks:,} "
            f"blocks in use need {needed:,}; restore it from a copy, or move it away and "
            "rebuild it with `olist run-all`"
        )


def _file_problem(message: str, doing: str) -> OlistError | None:
    """The error for a file problem a person can fix, from the text of DuckDB's error (it
    carries no errno); None for any other."""
    if "No space left on device" in message or "Disk quota exceeded" in message:
        return DiskFullError(f"{doing} (free some space and run again)")
    if any(
        reason in message
        for reason in ("Permission denied", "Read-only file system", "Is a directory")
    ):
        return PathAccessError(doing)
    return None


def _commit_problem(path: Path | str, exc: duckdb.Error) -> OlistError | None:
    """A COMMIT that could not write (a full disk, say), or whose checkpoint could not."""
    message = str(exc)
    reason = " ".join(message.split())
    if "COMMIT succeeded and is durable" in message:
        # The work is in the log (<file>.wal): the next open of the file replays it.
        cause = reason.split("because of error: ", 1)[-1]
        return CheckpointError(
            f"the run's changes are committed to the log of the warehouse {path}, but "
            f"DuckDB could not write them into the file: {cause}; free some space: the "
            "next run replays the log"
        )
    reason = reason.split("Failed to commit: ", 1)[-1]  # DuckDB's own words, without its prefix
    return _file_problem(message, f"cannot commit to the warehouse {path}: {reason}")


def _configure_session(con: duckdb.DuckDBPyConnection) -> None:
    """Settings every connection and cursor of the warehouse needs."""
    # Timestamps in the files carry no zone: keep every session in UTC so that casts and
    # date parts never depend on the machine's zone.
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB draws its own progress bar on stdout for any statement over 2 s, terminal or
    # not: it would break `--log-format json` lines and fill cron logs. olist reports
    # progress itself.
    con.execute("SET enable_progress_bar = false")


# Columns the reader reads as text, for ``_typed`` to cast without rounding.
_CHECKED_CASTS = {ColumnType.INT64: INT64_PATTERN, ColumnType.NUMERIC: NUMERIC_PATTERN}


def _typed(columns: Sequence[Column], reader: str) -> str:
    """A SELECT of the file's rows typed by ``columns``, refusing what a cast would change.

    DuckDB's reader rounds ``1.5`` to the INT64 2 and ``1.999`` to the money 2.00, and
    keeps NUL bytes in text. So integer and money columns are read as text and cast here
    only when they match their pattern (see csv_values), and text is checked for NUL;
    anything else raises ``error()`` naming the column, and the error path finds the line.
    What it costs: README, Performance.
    """
    selected = []
    for column in columns:
        name = quote_ident(column.name)
        refused = "'" + (REFUSED + column.name).replace("'", "''") + "'"
        pattern = _CHECKED_CASTS.get(column.type)
        if pattern is not None:
            type_ = DUCKDB_TYPES[column.type]
            selected.append(
                f"CASE WHEN {name} IS NULL OR regexp_full_match({name}, '{pattern}') "
                f"THEN CAST({name} AS {type_}) ELSE CAST(error({refused}) AS {type_}) END "
                f"AS {name}"
            )
        elif column.type is ColumnType.STRING:
            selected.append(
                f"CASE WHEN contains({name}, chr(0)) THEN error({refused}) ELSE {name} END "
                f"AS {name}"
            )
        else:
            selected.append(name)
    return f"SELECT {', '.join(selected)} FROM {reader}"


def _csv_reader(columns: Sequence[Column], *, buffer_bytes: int | None = None) -> str:
    """DuckDB's CSV reader for the Olist files, typed by ``columns`` (integers and money as
    text, for ``_typed``); the path is its parameter.

    A record may be up to 10 MB long. DuckDB sizes its read buffer at 16 times that, which
    suits a table created from the file (a full load at scale 10: 3.4 s, against 3.9-4.1 s
    with 32 MiB buffers). ``buffer_bytes`` sets it instead: a comparison with a table, which
    keeps only the differing rows, reads faster with 32 MiB (scale 1: 0.14-0.16 s for the
    five changed files instead of 0.17-0.18 s; allocating 160 MB costs 15 ms a file there).
    """
    spec = ", ".join(
        f"'{c.name}': '{'VARCHAR' if c.type in _CHECKED_CASTS else DUCKDB_TYPES[c.type]}'"
        for c in columns
    )
    spec = "{" + spec + "}"
    buffer = f", buffer_size = {buffer_bytes}" if buffer_bytes else ""
    return (
        f"read_csv(?, header = true, columns = {spec}, auto_detect = false, "
        "delim = ',', quote = '\"', escape = '\"', nullstr = '', "
        "timestampformat = '%Y-%m-%d %H:%M:%S', strict_mode = true, "
        f"max_line_size = {MAX_RECORD_CHARS}{buffer})"
    )
