"""The analytics report (``olist report``): one self-contained HTML file of seven charts.

Each chart answers one question from the warehouse tables (report_queries), is drawn
with matplotlib (report_charts), and is embedded as a base64 PNG beside a one-sentence
reading computed from the same rows and the SQL behind it. The file references nothing
outside itself, so it can be mailed, archived or opened offline.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from olist_cli import __version__
from olist_cli.errors import OlistError
from olist_cli.report_queries import QUESTIONS, Answer, Question, brl, num
from olist_cli.settings import Settings
from olist_cli.warehouse.base import Warehouse


class ReportError(OlistError):
    """The report could not be made: tables missing, or the file not written (exit 1)."""


@dataclass(frozen=True)
class Chart:
    question: Question
    sql: str
    answer: Answer
    png: bytes


def _relations(settings: Settings) -> dict[str, tuple[str, str]]:
    """(schema, name) of every model, from the project's layers: no schema is hard-coded."""
    from olist_cli.engine import load_project

    project = load_project(settings)
    return {
        name: (settings.layer_schema(model.layer), name) for name, model in project.models.items()
    }


def collect_charts(settings: Settings, warehouse: Warehouse) -> tuple[list[Chart], dict[str, Any]]:
    """Every question answered and drawn, and the headline figures."""
    from olist_cli.report_charts import draw

    relations = _relations(settings)
    needed = sorted({m for q in QUESTIONS for m in q.models})
    missing = [m for m in needed if m not in relations or not warehouse.table_exists(*relations[m])]
    if missing:
        raise ReportError(
            f"the report needs {', '.join(missing)}, not built in this warehouse; "
            "run `olist run-all` (or `olist transform`) first"
        )

    def rel(model: str) -> str:
        return warehouse.relation(*relations[model])

    charts = []
    for question in QUESTIONS:
        sql = question.sql(rel)
        try:
            columns, rows = warehouse.query_columns(sql)
        except Exception as exc:  # an engine error: name the chart, keep one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ReportError(f"report chart '{question.key}': {first}") from None
        answer = question.answer(columns, rows)
        charts.append(Chart(question, sql, answer, draw(question.chart, answer.plot, "no data")))
    return charts, _headline(warehouse, relations, rel)


def _headline(
    warehouse: Warehouse, relations: dict[str, tuple[str, str]], rel: Any
) -> dict[str, Any]:
    (orders, first, last, paid), *_ = warehouse.query(
        "select count(*), min(order_purchase_date_day), max(order_purchase_date_day), "
        f"sum(total_order_value) from {rel('fact_orders')}"
    )
    # The adapter's count: table metadata on BigQuery, no query.
    customers = warehouse.row_count(*relations["dim_customer"])
    sellers = warehouse.row_count(*relations["dim_seller"])
    return {
        "orders": f"{int(orders):,}",
        "customers": f"{customers:,}",
        "sellers": f"{sellers:,}",
        "paid": brl(num(paid)),
        "period": f"{first} to {last}" if first else "no orders yet",
    }


def build_report(settings: Settings, warehouse: Warehouse, out_file: Path) -> Path:
    """Write the report to ``out_file`` (parents created); return its path."""
    from olist_cli.report_html import render

    charts, headline = collect_charts(settings, warehouse)
    html = render(
        charts=[
            {
                "key": c.question.key,
                "title": c.question.title,
                "caption": c.question.caption,
                "reading": c.answer.reading,
                "sql": c.sql,
                "columns": c.answer.columns,
                "rows": c.answer.rows,
                "image": "data:image/png;base64," + base64.b64encode(c.png).decode("ascii"),
            }
            for c in charts
        ],
        headline=headline,
        engine=warehouse.name,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )
    try:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write the report to {out_file}: {exc.strerror or exc}") from None
    return out_file
