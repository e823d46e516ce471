"""Shared fixtures: every test runs in its own folder with no OLIST_* setting leaking in.

The plain helpers they use, and that test modules import, are in helpers.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from helpers import Builds, SampleWarehouse, build_sample_warehouse, clear_olist_env, isolated
from helpers import spy_on_builds as _spy_on_builds

if TYPE_CHECKING:
    from olist_cli.warehouse.duckdb import DuckDBWarehouse


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A clean working folder and environment: no .env, no OLIST_* from the caller."""
    clear_olist_env(monkeypatch)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.fixture(scope="module")
def module_dir(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """A clean folder and environment for a module's shared builds (what `isolated_env`
    does per test), named after the module."""
    name = request.module.__name__.removeprefix("test_")
    with isolated(tmp_path_factory.mktemp(name)) as folder:
        yield folder


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Builds:
    """What the engine's build and run_tests return during the test (see helpers.Builds)."""
    return _spy_on_builds(monkeypatch)


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> SampleWarehouse:
    """`olist run-all --scale 0.01`, built once for the session; readers must not change it
    (copy the database file to change one)."""
    return build_sample_warehouse(tmp_path_factory.mktemp("sample-warehouse"))


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    """A DuckDB warehouse in the test's folder (w.duckdb, as `helpers.engine_settings` says)."""
    from olist_cli.warehouse.duckdb import DuckDBWarehouse

    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    yield warehouse
    warehouse.close()
