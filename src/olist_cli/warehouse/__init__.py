"""Warehouse adapters behind one Protocol, and the registry that picks one from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from olist_cli.settings import Settings
    from olist_cli.warehouse.base import Warehouse


def connect(settings: Settings) -> Warehouse:
    """Open the warehouse named by ``settings.warehouse``; heavy clients import lazily."""
    if settings.warehouse == "duckdb":
        from olist_cli.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(settings.duckdb_file)
    from olist_cli.errors import UsageError

    raise UsageError(
        f"OLIST_WAREHOUSE={settings.warehouse}: this engine is not available yet; use duckdb"
    )
