"""Plain helpers shared by the test modules; the shared fixtures are in conftest.py.

Test modules import them as ``from helpers import ...``: tests/ has no __init__.py, so
pytest's default ("prepend") import mode puts tests/ itself on sys.path, as it does for
``bigquery_emulator`` and ``fakes``.

The CLI and the engine are imported inside the functions that use them, so importing this
module (conftest does) loads nothing of olist_cli.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

if TYPE_CHECKING:
    from typer.testing import Result

    from olist_cli.engine.results import ModelResult, TestResult
    from olist_cli.settings import Settings

REPO = Path(__file__).resolve().parents[1]
REPO_SQL = REPO / "sql"
# Every model of the SQL project, by name (one file each under staging/ and warehouse/).
MODELS = frozenset(
    p.stem for layer in ("staging", "warehouse") for p in (REPO_SQL / layer).glob("*.sql")
)

# The schemas the models build into with the default target schema (dev_warehouse).
WAREHOUSE = "dev_warehouse_warehouse"
STAGING = "dev_warehouse_staging"
WAREHOUSE_TABLES = [
    "dim_customer",
    "dim_product",
    "dim_seller",
    "dim_date",
    "fact_orders",
    "fact_order_items",
]
STAGING_VIEWS = [
    "stg_orders",
    "stg_customers",
    "stg_products",
    "stg_order_items",
    "stg_payments",
    "stg_sellers",
    "stg_reviews",
]

ORDERS_FILE = "olist_orders_dataset.csv"
ITEMS_FILE = "olist_order_items_dataset.csv"
PAYMENTS_FILE = "olist_order_payments_dataset.csv"


# -- environment and the CLI ---------------------------------------------------------------


def clear_olist_env(mp: pytest.MonkeyPatch) -> None:
    """Remove every OLIST_* variable of the caller's environment (until ``mp`` undoes it)."""
    for name in list(os.environ):
        if name.startswith("OLIST_"):
            mp.delenv(name)


@contextmanager
def isolated(folder: Path) -> Iterator[Path]:
    """Work in ``folder`` with no OLIST_* setting, as conftest's autouse fixture does per
    test: for module- and session-scoped builds, which outlive a test's monkeypatch."""
    with pytest.MonkeyPatch.context() as mp:
        clear_olist_env(mp)
        mp.chdir(folder)
        yield folder


def olist(args: list[str], data_dir: Path | None = None, **env: str) -> Result:
    """``olist <args>`` in this process, with OLIST_DATA_DIR=data_dir (when given) and
    ``env``; exceptions propagate instead of becoming an exit code."""
    from typer.testing import CliRunner

    from olist_cli.cli import app

    environment = {} if data_dir is None else {"OLIST_DATA_DIR": str(data_dir)}
    environment.update(env)
    return CliRunner().invoke(app, args, env=environment, catch_exceptions=False)


# -- files ------------------------------------------------------------------------------------


def generate(folder: Path, *, scale: float, seed: int, as_of: dt.date | None = None) -> Path:
    """The sample generator's files in ``folder``."""
    from olist_cli.sources.sample import generate_sample

    generate_sample(folder, scale=scale, seed=seed, as_of=as_of, progress=False)
    return folder


def sample_snapshots(folder: Path, *, scale: float, seed: int, as_of: dt.date) -> tuple[Path, Path]:
    """What two successive downloads give: (the files as of ``as_of``, the full files)."""
    previous = generate(folder / "previous", scale=scale, seed=seed, as_of=as_of)
    return previous, generate(folder / "full", scale=scale, seed=seed)


def copy_data_dir(source: Path, target: Path) -> Path:
    """A private copy of a data dir (its warehouse, raw files, caches), without the lock."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock"))
    return target


def csv_records(path: Path) -> tuple[str, list[str]]:
    """A CSV file's header line and each record's raw text (quoted newlines kept inside)."""
    header, *lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    records, pending = [], ""
    for line in lines:
        pending += line
        if pending.count('"') % 2 == 0:  # every quote closed: the record ends here
            records.append(pending)
            pending = ""
    assert not pending, f"{path}: a quote is never closed"
    return header, records


def cell(value: str) -> str:
    """A cell as the generator writes it: quoted when it starts with a digit or needs it."""
    if value == "":
        return ""
    needs = value[0].isdigit() or any(c in value for c in ',"\n')
    return '"' + value.replace('"', '""') + '"' if needs else value


def field_of(record: str, index: int) -> str:
    return next(csv.reader(io.StringIO(record, newline="")))[index]


def remove_orders(folder: Path, order_ids: set[str]) -> dict[str, int]:
    """Take orders out of a snapshot: their order, item, payment and review rows, and the
    customer row of each (customer_id is per order). Returns the rows removed per file."""
    customers = set()
    removed = {}
    by_file = {
        "olist_orders_dataset.csv": 0,
        "olist_order_items_dataset.csv": 0,
        "olist_order_payments_dataset.csv": 0,
        "olist_order_reviews_dataset.csv": 1,
    }
    for name, column in by_file.items():
        header, records = csv_records(folder / name)
        kept = [r for r in records if field_of(r, column) not in order_ids]
        if name == "olist_orders_dataset.csv":
            customers = {field_of(r, 1) for r in records if field_of(r, 0) in order_ids}
        (folder / name).write_text(header + "".join(kept), encoding="utf-8")
        removed[name] = len(records) - len(kept)
    header, records = csv_records(folder / "olist_customers_dataset.csv")
    kept = [r for r in records if field_of(r, 0) not in customers]
    (folder / "olist_customers_dataset.csv").write_text(header + "".join(kept), encoding="utf-8")
    removed["olist_customers_dataset.csv"] = len(records) - len(kept)
    return removed


def edit_field(folder: Path, file_name: str, index: int, column: int, value: str) -> str:
    """Set one field of the data record at ``index``; returns that record's first field."""
    header, records = csv_records(folder / file_name)
    fields = next(csv.reader(io.StringIO(records[index], newline="")))
    fields[column] = value
    records[index] = ",".join(cell(f) for f in fields) + "\n"
    (folder / file_name).write_text(header + "".join(records), encoding="utf-8")
    return fields[0]


def duplicate_a_line(folder: Path, file_name: str, *, containing: str | None = None) -> str:
    """Append a copy of one data line (the first, or the first holding ``containing``)."""
    path = folder / file_name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(x for x in lines[1:] if containing is None or containing in x)
    path.write_text("".join(lines) + line, encoding="utf-8")
    return line


def replace_field(path: Path, line: int, column: int, value: str) -> None:
    """Set one comma-separated field of a CSV file's line (0 is the header; -1 the last)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[line].rstrip("\r\n").split(",")
    fields[column] = value
    lines[line] = ",".join(fields) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def edited_sql(folder: Path, model: str, old: str, new: str) -> Path:
    """A copy of sql/ with one replacement, of text found exactly once, in one model file;
    runs use it through OLIST_SQL_DIR (olist would find a ./sql of the working folder itself).
    """
    shutil.copytree(REPO_SQL, folder)
    path = next(folder.glob(f"*/{model}.sql"))
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def write_sql(root: Path, files: dict[str, str]) -> Path:
    """Write a SQL project under root/sql ({relative path: text}); returns root/sql."""
    for name, text in files.items():
        path = root / "sql" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "sql"


def engine_settings(root: Path, **overrides: Any) -> Settings:
    """Settings for an engine test: root/sql, root/w.duckdb, datasets `raw` and `t`."""
    from olist_cli.settings import Settings

    return Settings(
        _env_file=None,
        sql_dir=root / "sql",
        duckdb_path=root / "w.duckdb",
        raw_dataset="raw",
        target_schema="t",
        **overrides,
    )


# -- what the engine did -------------------------------------------------------------------


@dataclass
class Builds:
    """The engine's own results (ModelResult/TestResult) of each build and test run."""

    models: list[list[ModelResult]] = field(default_factory=list)
    tests: list[list[TestResult]] = field(default_factory=list)

    def statuses(self) -> dict[str, str]:
        """name -> status of the last build: success, up to date, error or skipped."""
        assert self.models, "no build seen: does the pipeline still call engine.build?"
        return {r.name: r.status for r in self.models[-1]}


def spy_on_builds(mp: pytest.MonkeyPatch) -> Builds:
    """Record what `olist_cli.engine.build` and `run_tests` return, whatever is printed."""
    import olist_cli.engine as engine

    spy = Builds()
    real_build, real_tests = engine.build, engine.run_tests

    def build(*args: Any, **kwargs: Any) -> list[ModelResult]:
        spy.models.append(real_build(*args, **kwargs))
        return spy.models[-1]

    def run_tests(*args: Any, **kwargs: Any) -> list[TestResult]:
        spy.tests.append(real_tests(*args, **kwargs))
        return spy.tests[-1]

    mp.setattr(engine, "build", build)
    mp.setattr(engine, "run_tests", run_tests)
    return spy


# -- what a DuckDB warehouse holds ---------------------------------------------------------


def query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    """The rows of one query on a DuckDB file, opened read-only for just that."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def list_relations(
    con: duckdb.DuckDBPyConnection,
    *,
    kind: str | None = None,
    schema: str | None = None,
    schema_like: str | None = None,
) -> list[tuple[str, str]]:
    """(schema, name) of the tables and views, sorted; only ``kind`` ('BASE TABLE' or
    'VIEW'), only in ``schema``, only in the schemas matching the LIKE ``schema_like``."""
    where, params = ["true"], []
    for condition, value in (
        ("table_type = ?", kind),
        ("table_schema = ?", schema),
        ("table_schema like ?", schema_like),
    ):
        if value is not None:
            where.append(condition)
            params.append(value)
    return con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where {' and '.join(where)} order by 1, 2",
        params,
    ).fetchall()


def relations(db: Path, **where: str) -> list[tuple[str, str]]:
    """``list_relations`` of a DuckDB file."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return list_relations(con, **where)
    finally:
        con.close()


def rows_md5(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> str:
    """An order-independent digest of every row of a table or view (its values' repr)."""
    rows = con.execute(f'select * from "{schema}"."{name}"').fetchall()
    return hashlib.md5("\n".join(sorted(map(repr, rows))).encode()).hexdigest()


def digests(
    db: Path, *, skip: Callable[[str], object] = lambda name: False, **where: str
) -> dict[str, str]:
    """ "schema.name" -> ``rows_md5`` of the relations ``list_relations`` finds with ``where``,
    but those whose name ``skip`` holds for."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            f"{s}.{n}": rows_md5(con, s, n) for s, n in list_relations(con, **where) if not skip(n)
        }
    finally:
        con.close()


def recorded_state(db: Path) -> list[tuple]:
    """Every row of `_olist_state`, sorted: what the engine believes it has built and tested."""
    return sorted(query(db, "select * from staging._olist_state"), key=repr)


# -- the small sample warehouse --------------------------------------------------------------


@dataclass(frozen=True)
class SampleWarehouse:
    """A warehouse that `olist run-all --scale 0.01` built; tests only read it."""

    data_dir: Path
    database: Path
    settings: Settings  # as the CLI reads them for that data dir, in a clean environment


def build_sample_warehouse(work: Path) -> SampleWarehouse:
    """`olist run-all` on a small generated sample into work/data, in a clean environment."""
    from olist_cli.settings import load_settings

    data_dir = work / "data"
    with isolated(work):
        result = olist(["--quiet", "run-all", "--scale", "0.01"], data_dir)
        assert result.exit_code == 0, result.output
        database = data_dir / "olist.duckdb"
        settings = load_settings(data_dir=data_dir, duckdb_path=database)
    return SampleWarehouse(data_dir, database, settings)
