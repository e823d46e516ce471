"""A BigQuery side of `olist diff`: its models' tables copied into a scratch DuckDB file.

The comparison then runs in DuckDB, as between two DuckDB files. Rows come through the
official client page by page (``list_rows``, the free tabledata API, for a table; a
query for a view), each page written to the scratch file before the next is read: memory
holds one page, the disk the copy (deleted when the diff ends). Values travel as text
and are cast back to the column's type in DuckDB, exactly: NUMERIC as DECIMAL(38,9),
DATETIME as TIMESTAMP, TIMESTAMP as TIMESTAMPTZ (UTC), FLOAT64 by its shortest exact
repr; BIGNUMERIC (wider than any DuckDB decimal) and nested types stay text.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olist_cli.diff.sides import DiffError, Side, literal, quote
from olist_cli.settings import Settings

if TYPE_CHECKING:
    from google.cloud import bigquery

PAGE_ROWS = 20_000
# BigQuery type (standard or legacy name) -> the DuckDB type its text is cast to.
DUCKDB_TYPE = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "INTEGER": "BIGINT",
    "FLOAT64": "DOUBLE",
    "FLOAT": "DOUBLE",
    "NUMERIC": "DECIMAL(38,9)",
    "BOOL": "BOOLEAN",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "DATETIME": "TIMESTAMP",
    "TIMESTAMP": "TIMESTAMPTZ",
    "TIME": "TIME",
}


def _text(value: Any) -> str | None:
    """A value as text that DuckDB casts back to the same value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same double
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _one_line(what: str, exc: BaseException) -> DiffError:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return DiffError(f"BigQuery: {what}: {str(message).strip().splitlines()[0]}")


def copy_bigquery_side(
    settings: Settings, side: Side, scratch: Path, wanted: list[tuple[str, str]]
) -> None:
    """Copy the models ``wanted`` (layer, name) of a BigQuery side into a scratch DuckDB
    file attached as ``side.catalog``; a model it lacks is left absent. Also reads the
    MD5 of each raw table's last load."""
    from olist_cli.errors import OlistError
    from olist_cli.load import latest_loads
    from olist_cli.warehouse import connect

    spec = side.spec
    overrides: dict[str, Any] = {"warehouse": "bigquery"}
    if spec.project:
        overrides["bq_project"] = spec.project
    bq_settings = settings.model_copy(update=overrides)
    warehouse = connect(bq_settings)
    try:
        # The adapter's official client: list_rows pages a table for free, no query job.
        client: bigquery.Client = warehouse.client  # type: ignore[attr-defined]
        side.shown_prefix = f"{client.project}."
        side.con.execute(
            f"attach {literal(str(scratch / f'{side.catalog}.duckdb'))} as {quote(side.catalog)}"
        )
        for layer, name in wanted:
            _copy_one(side, client, bq_settings, spec.schema(layer), name)
        try:
            loads = latest_loads(warehouse, spec.raw_dataset)
        except OlistError:
            loads = {}
        side.raw_md5 = {table: load.md5 for table, load in loads.items()}
    finally:
        warehouse.close()


def _copy_one(
    side: Side, client: bigquery.Client, settings: Settings, dataset: str, name: str
) -> None:
    from google.api_core import exceptions as api_exceptions
    from google.cloud import bigquery

    ref = f"{client.project}.{dataset}.{name}"
    try:
        table = client.get_table(ref)
    except api_exceptions.NotFound:
        return  # absent: the caller names it, with what this side holds
    except Exception as exc:
        raise _one_line(f"get {ref}", exc) from None
    fields = list(table.schema)
    if not fields:
        raise DiffError(f"BigQuery: {ref} has no columns")
    types = [
        "VARCHAR" if f.mode == "REPEATED" else DUCKDB_TYPE.get(f.field_type, "VARCHAR")
        for f in fields
    ]
    target = ".".join(quote(p) for p in (side.catalog, dataset, name))
    side.con.execute(f"create schema if not exists {quote(side.catalog)}.{quote(dataset)}")
    columns = ", ".join(f"{quote(f.name)} {t}" for f, t in zip(fields, types, strict=True))
    side.con.execute(f"create table {target} ({columns})")
    try:
        if table.table_type == "TABLE":
            rows = client.list_rows(table, page_size=PAGE_ROWS)
        else:  # a view (or a materialized one): its rows exist only as a query's result
            config = bigquery.QueryJobConfig(labels=dict(settings.bq_job_labels))
            if settings.bq_maximum_bytes_billed is not None:
                config.maximum_bytes_billed = settings.bq_maximum_bytes_billed
            job = client.query(
                f"SELECT * FROM `{ref}`", job_config=config, location=settings.bq_location
            )
            rows = job.result(page_size=PAGE_ROWS, timeout=settings.bq_job_timeout_s)
        copied = _write_pages(side, target, fields, types, (list(page) for page in rows.pages))
    except DiffError:
        raise
    except Exception as exc:
        raise _one_line(f"read {ref}", exc) from None
    expected = rows.total_rows
    if expected is not None and copied != expected:
        raise DiffError(
            f"BigQuery: {ref}: read {copied:,} rows of the {expected:,} it holds; "
            "was it written meanwhile? Run the diff again"
        )


def _write_pages(
    side: Side,
    target: str,
    fields: list[Any],
    types: list[str],
    pages: Iterable[list[Any]],
) -> int:
    import pandas as pd

    names = [f.name for f in fields]
    cast = ", ".join(
        f"cast({quote(f'c{i}')} as {t})" if t != "VARCHAR" else quote(f"c{i}")
        for i, t in enumerate(types)
    )
    copied = 0
    for page in pages:
        if not page:
            continue
        columns = {
            f"c{i}": pd.Series([_text(row[i]) for row in page], dtype=object)
            for i in range(len(names))
        }
        frame = pd.DataFrame(columns)
        side.con.register("olist_bigquery_page", frame)
        try:
            side.con.execute(f"insert into {target} select {cast} from olist_bigquery_page")
        finally:
            side.con.unregister("olist_bigquery_page")
        copied += len(page)
    return copied
