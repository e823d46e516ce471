"""Warehouse adapters behind one Protocol, and the registry that picks one from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from olist_cli.settings import Settings
    from olist_cli.warehouse.base import Warehouse


def connect(settings: Settings, *, read_only: bool = False) -> Warehouse:
    """Open the warehouse named by ``settings.warehouse``; heavy clients import lazily.

    ``read_only``: for commands that only read (status, docs, report). DuckDB then opens
    the file read-only (it works on a read-only file or folder, and creates none); on
    BigQuery the credentials decide what a command may do.
    """
    if settings.warehouse == "duckdb":
        from olist_cli.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(
            settings.duckdb_file, memory_limit=settings.duckdb_memory_limit, read_only=read_only
        )
    if settings.warehouse == "bigquery":
        try:
            from olist_cli.warehouse.bigquery import BigQueryWarehouse
        except ImportError as exc:  # the optional [gcp] extra is not installed
            from olist_cli.errors import UsageError

            raise UsageError(
                f"OLIST_WAREHOUSE=bigquery needs google-cloud-bigquery ({exc.name} is missing): "
                "pip install 'olist-cli[gcp]'"
            ) from None
        return BigQueryWarehouse(settings)
    from olist_cli.errors import UsageError

    raise UsageError(
        f"OLIST_WAREHOUSE={settings.warehouse}: unknown engine; use duckdb or bigquery"
    )
