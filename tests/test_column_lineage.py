"""Column lineage: `olist lineage --column MODEL.COLUMN` and the docs site's "computed from".

Every column's inputs come from parsing the project's rendered SQL, so the tests check
known answers (a total down to the payments file, the late flag down to the orders
file's two dates, a column passed straight through), that the answer follows the SQL
when the SQL changes, that every column of the project is traced to raw columns or says
what it is computed from instead, and the errors.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO, SampleWarehouse, edited_sql, olist, write_sql
from olist_cli.column_lineage import ColumnLineage, ColumnRef, build_column_lineage
from olist_cli.dataset import BY_RAW_TABLE
from olist_cli.engine import Project, load_project
from olist_cli.settings import Settings, load_settings

PAYMENTS_FILE = "olist_order_payments_dataset.csv"
ORDERS_FILE = "olist_orders_dataset.csv"


@pytest.fixture(scope="module")
def settings(module_dir: Path) -> Settings:
    return load_settings(sql_dir=REPO / "sql", data_dir=module_dir / "data")


@pytest.fixture(scope="module")
def project(settings: Settings) -> Project:
    return load_project(settings)


@pytest.fixture(scope="module")
def lineage(settings: Settings, project: Project) -> ColumnLineage:
    return build_column_lineage(settings, project)


def lineage_of(spec: str, *args: str, **env: str):  # -> typer Result
    return olist(["lineage", "--column", spec, *args], OLIST_SQL_DIR=str(REPO / "sql"), **env)


# -- the known answers ------------------------------------------------------------------------


def test_total_spent_leads_to_the_payments_files_payment_value(lineage: ColumnLineage) -> None:
    ref = ColumnRef("dim_customer", "total_spent")
    assert lineage.raw(ref) == [ColumnRef("payments_raw", "payment_value", "source")]
    assert lineage.raw(ref)[0].file == PAYMENTS_FILE
    assert lineage.upstream(ref) == [
        ColumnRef("fact_orders", "total_order_value"),
        ColumnRef("stg_payments", "payment_value"),
        ColumnRef("payments_raw", "payment_value", "source"),
    ]


def test_the_late_flag_leads_to_the_orders_files_two_dates(lineage: ColumnLineage) -> None:
    ref = ColumnRef("fact_orders", "is_late_delivery")
    assert set(lineage.inputs(ref).inputs) == {  # type: ignore[union-attr]
        ColumnRef("stg_orders", "order_delivered_date"),
        ColumnRef("stg_orders", "order_estimated_delivery_date_day"),
    }
    assert lineage.raw(ref) == [
        ColumnRef("orders_raw", "order_delivered_customer_date", "source"),
        ColumnRef("orders_raw", "order_estimated_delivery_date", "source"),
    ]
    assert {r.file for r in lineage.raw(ref)} == {ORDERS_FILE}


def test_a_column_passed_straight_through_keeps_its_name_at_every_step(
    lineage: ColumnLineage,
) -> None:
    """fact_order_items.seller_id: select * from stg_order_items, which selects the raw
    column as it is; one input at each step, the same column all the way."""
    ref = ColumnRef("fact_order_items", "seller_id")
    assert lineage.upstream(ref) == [
        ColumnRef("stg_order_items", "seller_id"),
        ColumnRef("order_items_raw", "seller_id", "source"),
    ]
    for step in (ref, ColumnRef("stg_order_items", "seller_id")):
        assert lineage.inputs(step).other == ()  # type: ignore[union-attr]


def test_every_column_of_every_model_is_traced(lineage: ColumnLineage, project: Project) -> None:
    """No model left untraced; each column reaches raw columns, or says what it is
    computed from instead (a count); each input names a column its model really has."""
    assert lineage.problems == {}
    assert set(lineage.columns) == set(project.models)
    for model, columns in lineage.columns.items():
        assert columns, model
        for column, found in columns.items():
            ref = ColumnRef(model, column)
            assert found.inputs or found.other, ref.label
            assert lineage.raw(ref) or found.other, ref.label
            for up in found.inputs:
                if up.kind == "source":
                    assert up.column in BY_RAW_TABLE[up.relation].column_names, up.label
                else:
                    assert up.column in lineage.columns[up.relation], up.label
    counted = lineage.inputs(ColumnRef("dim_customer", "total_orders"))
    assert counted is not None and counted.inputs == () and counted.other == ("COUNT(*)",)
    # dim_date's days are generated between bounds read from the facts' dates
    days = lineage.raw(ColumnRef("dim_date", "date_day"))
    assert ColumnRef("orders_raw", "order_purchase_timestamp", "source") in days


def test_the_lineage_follows_the_sql(tmp_path: Path) -> None:
    sql = edited_sql(
        tmp_path / "sql",
        "dim_seller",
        "    s.seller_city,\n",
        "    s.seller_state as seller_city,\n",
    )
    settings = load_settings(sql_dir=sql, data_dir=tmp_path / "data")
    found = build_column_lineage(settings, load_project(settings))
    assert found.raw(ColumnRef("dim_seller", "seller_city")) == [
        ColumnRef("sellers_raw", "seller_state", "source")
    ]


# -- the command --------------------------------------------------------------------------------


def test_the_cli_prints_the_chain_down_to_the_raw_file() -> None:
    result = lineage_of("dim_customer.total_spent")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "dim_customer.total_spent",
        "└── fact_orders.total_order_value",
        "    └── stg_payments.payment_value",
        f"        └── payments_raw.payment_value  ({PAYMENTS_FILE})",
    ]
    assert lines[-2:] == ["raw columns:", f"  {PAYMENTS_FILE}: payment_value"]
    assert not Path("data").exists(), "a lineage query leaves no data dir behind"

    late = lineage_of("fact_orders.is_late_delivery")
    assert late.exit_code == 0, late.output
    assert late.stdout.splitlines()[-1] == (
        f"  {ORDERS_FILE}: order_delivered_customer_date, order_estimated_delivery_date"
    )


def test_json_and_mermaid() -> None:
    result = lineage_of("fact_orders.is_late_delivery", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["column"] == "fact_orders.is_late_delivery"
    assert sorted(document["inputs"]) == [
        "stg_orders.order_delivered_date",
        "stg_orders.order_estimated_delivery_date_day",
    ]
    assert document["raw"] == [
        {"file": ORDERS_FILE, "table": "orders_raw", "column": "order_delivered_customer_date"},
        {"file": ORDERS_FILE, "table": "orders_raw", "column": "order_estimated_delivery_date"},
    ]
    upstream = {u["column"]: u for u in document["upstream"]}
    assert upstream["stg_orders.order_delivered_date"]["inputs"] == [
        "orders_raw.order_delivered_customer_date"
    ]

    mermaid = lineage_of("dim_customer.total_spent", "-f", "mermaid")
    assert mermaid.exit_code == 0, mermaid.output
    lines = mermaid.stdout.strip().splitlines()
    assert lines[0] == "flowchart LR"
    labels = dict(re.findall(r'^  (c\d+)\[\(?"([^"]+)"\)?\]$', mermaid.stdout, re.MULTILINE))
    edges = re.findall(r"^  (c\d+) --> (c\d+)$", mermaid.stdout, re.MULTILINE)
    assert len(labels) + len(edges) == len(lines) - 1, "every line is a node or an edge"
    named = {(labels[a].split("<br/>")[0], labels[b].split("<br/>")[0]) for a, b in edges}
    assert named == {
        ("fact_orders.total_order_value", "dim_customer.total_spent"),
        ("stg_payments.payment_value", "fact_orders.total_order_value"),
        ("payments_raw.payment_value", "stg_payments.payment_value"),
    }


def _one_line_error(result) -> str:  # a typer Result
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def test_an_unknown_model_or_column_is_one_line_with_the_closest_name() -> None:
    error = _one_line_error(lineage_of("dim_customer.total_spend"))
    assert (
        "dim_customer has no column total_spend; did you mean 'dim_customer.total_spent'?" in error
    )
    error = _one_line_error(lineage_of("dim_custmer.total_spent"))
    assert "no model dim_custmer; did you mean 'dim_customer'?" in error
    error = _one_line_error(lineage_of("dim_seller.zzz"))
    assert "its columns: seller_key, seller_id" in error
    assert "write MODEL.COLUMN" in _one_line_error(lineage_of("total_spent"))
    assert "is a raw table" in _one_line_error(lineage_of("orders_raw.order_id"))
    assert "--format 'dot' with --column" in _one_line_error(
        lineage_of("fact_orders.order_id", "-f", "dot")
    )
    both = olist(["lineage", "-c", "fact_orders.order_id", "-s", "fact_orders"])
    assert "--column and --select" in _one_line_error(both)


def test_sql_that_sqlglot_cannot_read_is_named_not_a_traceback(tmp_path: Path) -> None:
    sql = write_sql(
        tmp_path,
        {
            "staging/stg_a.sql": "select order_id from {{ source('raw', 'orders') }}",
            "warehouse/b.sql": "select order_id as x from {{ ref('stg_a') }} where ((",
        },
    )
    settings = load_settings(sql_dir=sql, data_dir=tmp_path / "data")
    found = build_column_lineage(settings, load_project(settings))
    assert found.raw(ColumnRef("stg_a", "order_id")) == [
        ColumnRef("orders_raw", "order_id", "source")
    ]
    assert "sqlglot could not trace its SQL" in found.problems["b"]
    result = olist(["lineage", "--column", "b.x"], OLIST_SQL_DIR=str(sql))
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = [x for x in result.output.splitlines() if x.strip()]
    assert line.startswith("error: --column b.x: no lineage for b: sqlglot could not trace")


def test_help_and_the_model_dag_do_not_import_sqlglot() -> None:
    code = (
        "import sys\n"
        "from olist_cli.cli import app\n"
        "for args in (['--help'], ['lineage']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, exc.code\n"
        "print(sorted(m for m in ('sqlglot', 'duckdb', 'pandas') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "OLIST_SQL_DIR": str(REPO / "sql")},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


# -- the docs site -------------------------------------------------------------------------------


def test_each_model_page_lists_what_each_column_is_computed_from(
    sample_warehouse: SampleWarehouse, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    result = olist(["--quiet", "docs", "--out", str(out)], sample_warehouse.data_dir)
    assert result.exit_code == 0, result.output
    page = (out / "models" / "dim_customer.html").read_text(encoding="utf-8")
    row = re.search(r'<tr id="col-total_spent">(.*?)</tr>', page, re.DOTALL)
    assert row, "the total_spent row"
    cell = re.search(r'<td class="lineage-cell">(.*?)</td>', row.group(1), re.DOTALL).group(1)  # type: ignore[union-attr]
    assert re.findall(r'href="([^"]+)"><code>([^<]+)</code>', cell) == [
        ("../models/fact_orders.html#col-total_order_value", "fact_orders.total_order_value")
    ]
    assert f"<code>{PAYMENTS_FILE}</code> payment_value" in cell

    # the links land on a row of the page they point at, down to the raw table's page
    facts = (out / "models" / "fact_orders.html").read_text(encoding="utf-8")
    assert '<tr id="col-total_order_value">' in facts
    staging = (out / "models" / "stg_payments.html").read_text(encoding="utf-8")
    assert 'href="../sources/payments_raw.html#col-payment_value"' in staging
    raw = (out / "sources" / "payments_raw.html").read_text(encoding="utf-8")
    assert '<tr id="col-payment_value">' in raw
    counted = (out / "models" / "dim_customer.html").read_text(encoding="utf-8")
    row = re.search(r'<tr id="col-total_orders">(.*?)</tr>', counted, re.DOTALL)
    assert row and "no column: <code>COUNT(*)</code>" in row.group(1)
