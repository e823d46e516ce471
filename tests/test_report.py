"""`olist report`: seven charts, each a real image with a reading computed from the data."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import duckdb
import pytest
from PIL import Image

from helpers import SampleWarehouse
from olist_cli.report import ReportError, build_report
from olist_cli.report_charts import draw
from olist_cli.report_queries import QUESTIONS, brl
from olist_cli.settings import load_settings
from olist_cli.warehouse.duckdb import DuckDBWarehouse

EXTERNAL_URL = re.compile(r"https?://(?!(?:localhost|127\.0\.0\.1)[:/])", re.IGNORECASE)
SECTION = re.compile(r'<section class="chart" id="(\w+)">(.*?)</section>', re.DOTALL)
# Spellings one engine accepts and the other does not; the report's SQL must avoid them.
NOT_PORTABLE = ("::", "date_trunc", "strftime", "ilike", "datediff", "date_diff", "string_agg")


@pytest.fixture(scope="module")
def report(sample_warehouse: SampleWarehouse, tmp_path_factory: pytest.TempPathFactory) -> str:
    warehouse = DuckDBWarehouse(sample_warehouse.database)
    try:
        out = tmp_path_factory.mktemp("report") / "nested" / "report.html"
        assert build_report(sample_warehouse.settings, warehouse, out) == out
    finally:
        warehouse.close()
    return out.read_text(encoding="utf-8")


def _sections(report: str) -> dict[str, str]:
    return dict(SECTION.findall(report))


def test_every_chart_is_a_decodable_non_blank_png(report: str) -> None:
    sections = _sections(report)
    assert list(sections) == [q.key for q in QUESTIONS]
    for key, body in sections.items():
        images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', body)
        assert len(images) == 1, key
        data = base64.b64decode(images[0], validate=True)
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), key
        image = Image.open(io.BytesIO(data))
        image.load()
        assert image.width >= 1000 and image.height >= 300, (key, image.size)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 50, f"{key}: the chart looks blank"
    assert report.count("<img ") == len(QUESTIONS), "no other image, so none broken"


def test_every_chart_has_a_reading_and_its_sql(report: str) -> None:
    for key, body in _sections(report).items():
        reading = re.search(r'<p class="reading">([^<]+)</p>', body)
        assert reading and re.search(r"\d", reading.group(1)), key
        assert html.unescape(reading.group(1)).rstrip().endswith("."), key
        sql = re.search(r'<details class="sql">.*?<code>(.*?)</code>', body, re.DOTALL)
        assert sql, key
        text = html.unescape(sql.group(1)).lower()
        assert text.lstrip().startswith("select") and '"dev_warehouse_' in text, key


def test_readings_are_computed_from_the_data(
    report: str, sample_warehouse: SampleWarehouse
) -> None:
    sections = _sections(report)
    con = duckdb.connect(str(sample_warehouse.database), read_only=True)
    try:
        month, orders = con.execute(
            "select strftime(order_purchase_date_day, '%Y-%m') as m, count(*) as n "
            "from dev_warehouse_warehouse.fact_orders group by 1 order by n desc, m limit 1"
        ).fetchone()
        category, revenue = con.execute(
            "select p.product_category_english, sum(i.price) as r "
            "from dev_warehouse_warehouse.fact_order_items i "
            "join dev_warehouse_warehouse.dim_product p using (product_key) "
            "group by 1 order by r desc, 1 limit 1"
        ).fetchone()
        payment = con.execute(
            "select payment_type from dev_warehouse_staging.stg_payments "
            "group by 1 order by sum(payment_value) desc limit 1"
        ).fetchone()[0]
    finally:
        con.close()
    assert f"Orders peaked in {month} with {orders:,} orders" in sections["monthly"]
    assert (
        f"The top category, {category}, made {html.escape(brl(float(revenue)))}"
        in (sections["top_categories"])
    )
    assert f"Payments by {payment} carried" in sections["payment_mix"]


def test_the_headline_figures_are_the_warehouse_s(
    report: str, sample_warehouse: SampleWarehouse
) -> None:
    con = duckdb.connect(str(sample_warehouse.database), read_only=True)
    try:
        figures = con.execute(
            "select (select count(*) from dev_warehouse_warehouse.fact_orders), "
            "(select count(*) from dev_warehouse_warehouse.dim_customer), "
            "(select count(*) from dev_warehouse_warehouse.dim_seller), "
            "(select sum(total_order_value) from dev_warehouse_warehouse.fact_orders)"
        ).fetchone()
    finally:
        con.close()
    orders, customers, sellers, paid = figures
    kpis = dict(
        (label, html.unescape(value))
        for value, label in re.findall(
            r'<div class="kpi"><b>([^<]+)</b><span>([^<]+)</span>', report
        )
    )
    assert kpis == {
        "orders": f"{orders:,}",
        "customers": f"{customers:,}",
        "sellers": f"{sellers:,}",
        "paid by customers": brl(float(paid)),
    }


def test_the_sql_is_portable_and_the_file_self_contained(report: str) -> None:
    for question in QUESTIONS:
        sql = question.sql(lambda name: f"`project.dataset.{name}`").lower()
        assert '"' not in sql, question.key  # identifiers come from the adapter only
        assert not [bad for bad in NOT_PORTABLE if bad in sql], question.key
    assert not EXTERNAL_URL.findall(report)
    assert "<script" not in report and "<link" not in report


def test_empty_answers_still_draw_a_chart() -> None:
    for question in QUESTIONS:
        answer = question.answer([], [])
        assert answer.reading.endswith(".") and not answer.plot
        assert draw(question.chart, answer.plot, "no data").startswith(b"\x89PNG")


def test_a_warehouse_without_the_models_is_a_one_line_error(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    warehouse = DuckDBWarehouse(":memory:")
    try:
        with pytest.raises(ReportError, match=r"not built in this warehouse; run `olist run-all`"):
            build_report(settings, warehouse, tmp_path / "report.html")
    finally:
        warehouse.close()
    assert not (tmp_path / "report.html").exists()
