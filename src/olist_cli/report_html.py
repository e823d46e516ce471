"""The report's page: one HTML file, styles inline, charts as data: URIs, nothing external.

Rendered with Jinja autoescape, so readings, labels and SQL are escaped.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="olist {{ version }}">
<title>Olist analytics report</title>
<style>
  :root { --text: #1f2933; --muted: #627d98; --border: #e1e6ec; --accent: #2f6fde; }
  * { box-sizing: border-box; }
  body { margin: 0; background: #f5f7fa; color: var(--text);
    font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
  header { background: #102a43; color: #f0f4f8; padding: 28px 0 24px; }
  .wrap { max-width: 1040px; margin: 0 auto; padding: 0 24px; }
  header h1 { margin: 0 0 4px; font-size: 26px; }
  header p { margin: 0; color: #9fb3c8; font-size: 13.5px; }
  .kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px;
    margin: 18px 0 0; }
  .kpi { background: rgba(255, 255, 255, .08); border-radius: 10px; padding: 10px 14px; }
  .kpi b { display: block; font-size: 21px; }
  .kpi span { font-size: 12px; color: #bcccdc; text-transform: uppercase; letter-spacing: .05em; }
  nav.toc { margin: 22px 0 6px; font-size: 13.5px; }
  nav.toc a { color: var(--accent); text-decoration: none; margin-right: 14px;
    white-space: nowrap; }
  section.chart { background: #fff; border: 1px solid var(--border); border-radius: 12px;
    padding: 20px 22px 14px; margin: 18px 0; box-shadow: 0 1px 2px rgba(16, 42, 67, .05); }
  section.chart h2 { margin: 0 0 6px; font-size: 18px; }
  section.chart h2 .n { color: var(--muted); font-weight: normal; margin-right: 6px; }
  p.reading { margin: 0 0 12px; font-size: 15.5px; font-weight: 600; color: #102a43;
    border-left: 4px solid var(--accent); padding: 2px 0 2px 12px; }
  figure { margin: 0; }
  figure img { display: block; width: 100%; height: auto; }
  figcaption { color: var(--muted); font-size: 13px; margin: 8px 0 10px; }
  details { border: 1px solid var(--border); border-radius: 8px; margin: 8px 0 0; }
  details > summary { cursor: pointer; padding: 7px 12px; font-size: 13.5px; font-weight: 600;
    color: #334e68; }
  pre { margin: 0; padding: 12px 14px; background: #fbfcfd; border-top: 1px solid var(--border);
    overflow-x: auto; font: 12.5px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { padding: 5px 10px; border-top: 1px solid #f0f3f6; text-align: left; }
  th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; }
  td + td, th + th { text-align: right; font-variant-numeric: tabular-nums; }
  footer { color: var(--muted); font-size: 12.5px; margin: 26px 0 40px; }
</style>
</head>
<body>
<header><div class="wrap">
  <h1>Olist analytics report</h1>
  <p>Orders from {{ headline.period }} · {{ engine }} warehouse · generated {{ generated }}</p>
  <div class="kpis">
    <div class="kpi"><b>{{ headline.orders }}</b><span>orders</span></div>
    <div class="kpi"><b>{{ headline.customers }}</b><span>customers</span></div>
    <div class="kpi"><b>{{ headline.sellers }}</b><span>sellers</span></div>
    <div class="kpi"><b>{{ headline.paid }}</b><span>paid by customers</span></div>
  </div>
</div></header>
<main class="wrap">
<nav class="toc">{% for c in charts %}<a href="#{{ c.key }}">{{ loop.index }}. {{ c.title }}</a>
{% endfor %}</nav>
{% for c in charts %}
<section class="chart" id="{{ c.key }}">
  <h2><span class="n">{{ loop.index }}.</span>{{ c.title }}</h2>
  <p class="reading">{{ c.reading }}</p>
  <figure>
    <img src="{{ c.image }}" alt="{{ c.title }}: {{ c.reading }}">
    <figcaption>{{ c.caption }}</figcaption>
  </figure>
  <details class="sql"><summary>SQL behind this chart</summary>
    <pre><code>{{ c.sql }}</code></pre></details>
  <details class="data"><summary>Data ({{ c.rows | length }} rows)</summary>
    <table><thead><tr>
    {% for h in c.columns %}<th>{{ h }}</th>{% endfor %}
    </tr></thead><tbody>
    {% for row in c.rows %}<tr>
    {% for v in row %}<td>{{ fmt(v) }}</td>{% endfor %}
    </tr>{% endfor %}
    </tbody></table>
  </details>
</section>
{% endfor %}
<footer>Made by olist {{ version }} from the warehouse tables. Every reading is computed from
the rows its chart draws; the SQL runs unchanged on DuckDB and BigQuery.</footer>
</main>
</body>
</html>
"""


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def render(**context: Any) -> str:
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(TEMPLATE).render(fmt=_fmt, **context)
