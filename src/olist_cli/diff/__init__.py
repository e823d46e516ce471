"""`olist diff`: compare the models of two warehouses, row by row, exactly.

report = diff_warehouses(settings, project, ["data-main", "data-branch"], select="layer:warehouse")
print(to_text(report)); json.dumps(to_json(report))

sides.py names and attaches the two warehouses, compare.py compares one model in SQL,
run.py walks the selected models, output.py prints the result.
"""

from __future__ import annotations

from olist_cli.diff.output import to_json, to_text
from olist_cli.diff.run import DiffReport, diff_warehouses
from olist_cli.diff.sides import DiffError

__all__ = ["DiffError", "DiffReport", "diff_warehouses", "to_json", "to_text"]
