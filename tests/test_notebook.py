"""notebooks/olist_analysis.ipynb runs top to bottom on a sample warehouse and draws its charts."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from helpers import SampleWarehouse

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "olist_analysis.ipynb"
FIGURES = 7  # one per question, as in `olist report`


def test_notebook_runs_on_sample_data(
    sample_warehouse: SampleWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sample_warehouse.data_dir  # built by `olist --quiet run-all --scale 0.01`
    # The kernel inherits this process's environment: that is how it finds the warehouse.
    monkeypatch.setenv("OLIST_DATA_DIR", str(data))
    monkeypatch.setenv("OLIST_DUCKDB_PATH", str(data / "olist.duckdb"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in notebook.cells if c.cell_type == "code"), (
        "commit the notebook without outputs"
    )

    # Cells run in the notebook's own folder, as in Jupyter; an error raises here.
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()

    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) == FIGURES
    assert all(len(f["data"]["image/png"]) > 10_000 for f in figures)
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert f"DuckDB warehouse {data / 'olist.duckdb'}" in printed
    assert "Orders peaked in" in printed
