"""The two warehouses `olist diff` compares: what a side's text names, and reading it.

A side is written ``LOCATION[@TARGET[/RAW]]``:

- LOCATION: a DuckDB file; a data dir (its ``olist.duckdb``); ``bigquery`` or
  ``bigquery:PROJECT`` (the datasets of the settings' BigQuery project, or of PROJECT);
  or nothing, for the warehouse the settings name (OLIST_WAREHOUSE and its settings).
- TARGET: the target schema its models were built under (OLIST_TARGET_SCHEMA), so
  that ``@ci`` reads ``ci_staging`` and ``ci_warehouse``; default the settings' own.
- RAW: the raw dataset beside them (OLIST_RAW_DATASET), where the record of each raw
  file's last load tells which files the side was built from; default the settings' own.

Every side ends up as a catalog of one DuckDB connection, where the comparison runs in
SQL: a DuckDB file ATTACHed read-only, or a BigQuery side's tables copied into a scratch
DuckDB file first (see bigquery_side.py).
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from olist_cli.errors import OlistError
from olist_cli.settings import IDENTIFIER, Settings

if TYPE_CHECKING:
    import duckdb

Engine = Literal["duckdb", "bigquery"]
DUCKDB_FILE_IN_DATA_DIR = "olist.duckdb"
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file
BIGQUERY = "bigquery"


class DiffError(OlistError):
    """The diff could not be made as asked: exit 2, so that 1 always means "differs"."""

    exit_code = 2


@dataclass(frozen=True)
class SideSpec:
    """One side as written, resolved against the settings."""

    text: str
    engine: Engine
    target: str  # target schema: models of layer L are in <target>_<L>
    raw_dataset: str
    path: Path | None = None  # DuckDB file
    project: str | None = None  # BigQuery project; None: the one the credentials name

    @property
    def label(self) -> str:
        where = str(self.path) if self.path is not None else f"bigquery:{self.project or ''}"
        return f"{where.rstrip(':')}@{self.target}/{self.raw_dataset}"

    def schema(self, layer: str) -> str:
        return f"{self.target}_{layer}"

    def same_place(self, other: SideSpec) -> bool:
        if (self.engine, self.target, self.raw_dataset) != (
            other.engine,
            other.target,
            other.raw_dataset,
        ):
            return False
        if self.path is not None and other.path is not None:
            return self.path.resolve() == other.path.resolve()
        return self.project == other.project


def parse_side(text: str, settings: Settings) -> SideSpec:
    """``LOCATION[@TARGET[/RAW]]`` as a SideSpec; a DiffError naming the side when wrong."""
    location, target, raw = text, settings.target_schema, settings.raw_dataset
    if "@" in text and not Path(text).exists():
        location, _, schemas = text.rpartition("@")
        target, _, named_raw = schemas.partition("/")
        raw = named_raw or raw
        for name, what in ((target, "a target schema"), (raw, "a raw dataset")):
            if not IDENTIFIER.match(name):
                raise DiffError(
                    f"{text!r}: {name!r} after '@' is not {what} (letters, digits and underscores)"
                )
    if location == "":
        if settings.warehouse == BIGQUERY:
            return SideSpec(text, BIGQUERY, target, raw, project=settings.bq_project)
        return SideSpec(text, "duckdb", target, raw, path=_duckdb_file(settings.duckdb_file))
    if location == BIGQUERY or location.startswith(BIGQUERY + ":"):
        project = location.partition(":")[2] or settings.bq_project
        return SideSpec(text, BIGQUERY, target, raw, project=project)
    return SideSpec(text, "duckdb", target, raw, path=_duckdb_file(Path(location)))


def _duckdb_file(path: Path) -> Path:
    if path.is_dir():
        inside = path / DUCKDB_FILE_IN_DATA_DIR
        if not inside.is_file():
            raise DiffError(f"{path}: no {DUCKDB_FILE_IN_DATA_DIR} in this folder (a data dir?)")
        return inside
    if not path.exists():
        raise DiffError(f"{path}: no such file or folder")
    if not path.is_file():
        raise DiffError(f"{path}: not a file")
    return path


@dataclass(frozen=True)
class Relation:
    """A model's table or view as one side holds it, inside the comparison connection."""

    catalog: str
    schema: str
    name: str
    kind: Literal["table", "view"]
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type), in table order
    shown: str  # as the side's engine names it, for people: schema.name, project.dataset.name

    @property
    def sql(self) -> str:
        return ".".join(quote(part) for part in (self.catalog, self.schema, self.name))


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Side:
    """One side, attached to the comparison connection as ``catalog``."""

    spec: SideSpec
    catalog: str
    con: duckdb.DuckDBPyConnection
    raw_md5: dict[str, str] = field(default_factory=dict)  # raw table -> MD5 of its last load
    shown_prefix: str = ""

    def relation(self, schema: str, name: str) -> Relation | None:
        found = self.con.execute(
            "select 'table' from duckdb_tables() "
            "where database_name = ? and schema_name = ? and table_name = ? "
            "union all select 'view' from duckdb_views() "
            "where database_name = ? and schema_name = ? and view_name = ?",
            [self.catalog, schema, name] * 2,
        ).fetchall()
        if not found:
            return None
        columns = self.con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where database_name = ? and schema_name = ? and table_name = ? "
            "order by column_index",
            [self.catalog, schema, name],
        ).fetchall()
        return Relation(
            self.catalog,
            schema,
            name,
            found[0][0],
            tuple((str(c), str(t)) for c, t in columns),
            f"{self.shown_prefix}{schema}.{name}",
        )

    def absent(self, schema: str, name: str) -> DiffError:
        """The one-line error for a model this side does not hold, with what it does."""
        held = [
            r[0]
            for r in self.con.execute(
                "select table_name from duckdb_tables() where database_name = ? "
                "and schema_name = ? union all select view_name from duckdb_views() "
                "where database_name = ? and schema_name = ?",
                [self.catalog, schema] * 2,
            ).fetchall()
        ]
        where = f"{self.shown_prefix}{schema}.{name}"
        if not held:
            return DiffError(
                f"{self.spec.label}: no model {name}: there is no {self.shown_prefix}{schema} "
                "at all; built under another target schema? Name it with @TARGET"
            )
        close = difflib.get_close_matches(name, held, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return DiffError(
            f"{self.spec.label}: no model {name} ({where} is absent){hint}; "
            "build it there, or leave it out with --select"
        )


def _attach_duckdb(con: duckdb.DuckDBPyConnection, spec: SideSpec, catalog: str) -> None:
    import duckdb

    assert spec.path is not None
    try:
        with spec.path.open("rb") as file:
            header = file.read(12)
    except OSError as exc:
        raise DiffError(f"cannot read {spec.path}: {exc.strerror or exc}") from None
    if header[8:12] != DUCKDB_MAGIC:
        raise DiffError(f"{spec.path} is not a DuckDB database file")
    try:
        con.execute(f"attach {literal(str(spec.path))} as {quote(catalog)} (read_only)")
    except duckdb.Error as exc:
        text = str(exc)
        if "lock" in text.lower():
            reason = "another program is writing it (an olist run?); try again when it ends"
        else:
            reason = (text.strip().splitlines() or [type(exc).__name__])[0]
        raise DiffError(f"cannot read {spec.path} as a DuckDB warehouse: {reason}") from None


def _read_raw_md5(side: Side) -> None:
    """Each raw table's MD5 at its last load (``_load_metadata``), to tell whether the two
    sides were built from the same files."""
    from olist_cli.dataset import LOAD_METADATA_TABLE
    from olist_cli.load import latest_loads

    reader = _CatalogReader(side.con, side.catalog)
    if not reader.table_exists(side.spec.raw_dataset, LOAD_METADATA_TABLE):
        return
    loads = latest_loads(reader, side.spec.raw_dataset)  # type: ignore[arg-type]
    side.raw_md5 = {table: load.md5 for table, load in loads.items()}


@dataclass
class _CatalogReader:
    """The read-only part of the warehouse Protocol on one attached catalog."""

    con: duckdb.DuckDBPyConnection
    catalog: str

    def relation(self, schema: str, name: str) -> str:
        return ".".join(quote(p) for p in (self.catalog, schema, name))

    def table_exists(self, schema: str, name: str) -> bool:
        return bool(
            self.con.execute(
                "select count(*) from duckdb_tables() "
                "where database_name = ? and schema_name = ? and table_name = ?",
                [self.catalog, schema, name],
            ).fetchone()[0]  # type: ignore[index]
        )

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params).fetchall()


@contextmanager
def open_sides(
    settings: Settings,
    base: SideSpec,
    candidate: SideSpec,
    wanted: list[tuple[str, str]],
) -> Iterator[tuple[Side, Side]]:
    """Both sides attached to one DuckDB connection; a BigQuery side copies just the
    models ``wanted``, as (layer, name).

    The connection and any scratch copy are gone when the block ends.
    """
    import duckdb

    if base.same_place(candidate):
        raise DiffError(
            f"both sides are {base.label}: name two warehouses, or one with @TARGET "
            "for a candidate built under another target schema"
        )
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="olist-diff-")))
        con = duckdb.connect(":memory:")
        stack.callback(con.close)
        con.execute("set TimeZone = 'UTC'")  # TIMESTAMPTZ compared as instants, shown in UTC
        con.execute(f"set temp_directory = {literal(str(scratch / 'spill'))}")
        if settings.duckdb_memory_limit:  # validated by Settings: digits and a unit
            con.execute(f"set memory_limit = '{settings.duckdb_memory_limit}'")
        sides = []
        attached: dict[Path, str] = {}
        for spec, catalog in ((base, "base"), (candidate, "candidate")):
            side = Side(spec, catalog, con)
            if spec.engine == "duckdb":
                assert spec.path is not None
                same_file = attached.get(spec.path.resolve())
                if same_file is not None:  # one file, two targets: attach it once
                    side.catalog = same_file
                else:
                    _attach_duckdb(con, spec, catalog)
                    attached[spec.path.resolve()] = catalog
                _read_raw_md5(side)
            else:
                from olist_cli.diff.bigquery_side import copy_bigquery_side

                copy_bigquery_side(settings, side, scratch, wanted)
            sides.append(side)
        yield sides[0], sides[1]
