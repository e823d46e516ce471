"""The report's seven questions: the SQL that answers each, and a reading of the answer.

The SQL is written once for every engine: plain joins, CASE, EXTRACT, COUNT/SUM/AVG,
a window over an aggregate and LIMIT, which DuckDB and BigQuery both accept; table names
come from the warehouse adapter (``relation``), so they are quoted the engine's way.
Shares and rates are computed in Python from the counts, so integer division never
differs between engines.

Each reading is one sentence computed from the rows: the numbers in it are the data's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Rows = list[tuple[Any, ...]]
Relation = Callable[[str], str]  # model name -> quoted, qualified table name

MIN_STATE_ORDERS = 20  # a state's late rate on fewer delivered orders is mostly noise
TOP_CATEGORIES = 10
CANCELLED = ("canceled", "unavailable")
SEGMENT_ORDER = ("One-time", "Repeat", "Loyal")
TIER_ORDER = ("High", "Medium", "Low", "No sales")


@dataclass
class Answer:
    """What one question produced: the reading, the data to draw, a table to show."""

    reading: str
    columns: list[str]
    rows: Rows
    plot: dict[str, Any] = field(default_factory=dict)  # the chart function's arguments


@dataclass(frozen=True)
class Question:
    key: str
    title: str
    caption: str  # how to read the chart: definitions, not findings
    models: tuple[str, ...]  # the tables it reads, checked before any query runs
    sql: Callable[[Relation], str]
    answer: Callable[[list[str], Rows], Answer]
    chart: str  # name of the drawing function in report_charts


def num(value: Any) -> float:
    """A SQL number (int, Decimal, None) as a float."""
    if value is None:
        return 0.0
    return float(value) if isinstance(value, Decimal | int | float) else float(str(value))


def pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


def brl(value: float) -> str:
    """Brazilian reais, short: R$ 1.26M, R$ 512k, R$ 980 (a no-break space after R$)."""
    if abs(value) >= 1e6:
        return f"R$\u00a0{value / 1e6:,.2f}M"
    if abs(value) >= 1e4:
        return f"R$\u00a0{value / 1e3:,.0f}k"
    return f"R$\u00a0{value:,.0f}"


def _ordered(rows: Rows, order: Sequence[str]) -> Rows:
    rank = {name: i for i, name in enumerate(order)}
    return sorted(rows, key=lambda r: (rank.get(r[0], len(order)), str(r[0])))


def _shares(
    data: list[tuple[str, int, int, float]],
    count_total: int,
    value_total: float,
    labels: tuple[str, str],
) -> tuple[Rows, dict[str, Any]]:
    """(label, count, other count, value) rows as table rows with the count's and the
    value's shares appended, and the paired-bar plot of those two shares."""
    table: Rows = [
        (k, n, o, round(v, 2), round(pct(n, count_total), 1), round(pct(v, value_total), 1))
        for k, n, o, v in data
    ]
    plot = {
        "labels": [d[0] for d in data],
        "first": [pct(d[1], count_total) for d in data],
        "second": [pct(d[3], value_total) for d in data],
        "first_label": labels[0],
        "second_label": labels[1],
    }
    return table, plot


# -- 1. monthly orders and revenue -----------------------------------------------------


def _monthly_sql(rel: Relation) -> str:
    return f"""select
    extract(year from order_purchase_date_day) as order_year,
    extract(month from order_purchase_date_day) as order_month,
    count(*) as orders,
    sum(case when order_status in ('canceled', 'unavailable') then 0
             else total_order_value end) as revenue
from {rel("fact_orders")}
group by 1, 2
order by 1, 2"""


def _months_between(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    months, (y, m) = [], first
    while (y, m) <= last:
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def _monthly(columns: list[str], rows: Rows) -> Answer:
    if not rows:
        return Answer("There are no orders in the warehouse yet.", columns, rows)
    by_month = {(int(r[0]), int(r[1])): (int(r[2]), num(r[3])) for r in rows}
    # Months without an order are drawn as zero, so the time axis has no gaps.
    months = _months_between(min(by_month), max(by_month))
    orders = [by_month.get(m, (0, 0.0))[0] for m in months]
    revenue = [by_month.get(m, (0, 0.0))[1] for m in months]
    labels = [f"{y}-{m:02d}" for y, m in months]
    top = max(range(len(months)), key=lambda i: (orders[i], -i))
    rich = max(range(len(months)), key=lambda i: (revenue[i], -i))
    reading = (
        f"Orders peaked in {labels[top]} with {orders[top]:,} orders, and revenue in "
        f"{labels[rich]} at {brl(revenue[rich])}, out of {sum(orders):,} orders and "
        f"{brl(sum(revenue))} over {len(months)} months."
    )
    table = [(labels[i], orders[i], round(revenue[i], 2)) for i in range(len(months))]
    plot = {"months": labels, "orders": orders, "revenue": revenue}
    return Answer(reading, ["month", "orders", "revenue"], table, plot)


# -- 2. late deliveries by customer state ----------------------------------------------


def _late_sql(rel: Relation) -> str:
    return f"""select
    c.customer_state,
    count(*) as delivered_orders,
    sum(case when f.is_late_delivery then 1 else 0 end) as late_orders
from {rel("fact_orders")} as f
join {rel("stg_customers")} as c
    on c.customer_id = f.customer_id
where f.order_status = 'delivered'
  and f.delivery_date is not null
group by c.customer_state
order by c.customer_state"""


def _late(columns: list[str], rows: Rows) -> Answer:
    if not rows:
        return Answer("No order has been delivered yet.", columns, rows)
    all_delivered = sum(int(r[1]) for r in rows)
    all_late = sum(int(r[2]) for r in rows)
    overall = pct(all_late, all_delivered)
    kept = [(r[0], int(r[1]), int(r[2])) for r in rows if int(r[1]) >= MIN_STATE_ORDERS]
    kept = kept or [(r[0], int(r[1]), int(r[2])) for r in rows]  # a tiny warehouse: all
    kept.sort(key=lambda r: (-pct(r[2], r[1]), r[0]))
    worst, best = kept[0], kept[-1]
    reading = (
        f"{worst[0]} had the highest late-delivery rate, {pct(worst[2], worst[1]):.1f}% of "
        f"{worst[1]:,} delivered orders, against {overall:.1f}% overall; {best[0]} had the "
        f"lowest, {pct(best[2], best[1]):.1f}%, among the {len(kept)} states with at least "
        f"{min(MIN_STATE_ORDERS, min(r[1] for r in kept))} delivered orders."
    )
    table = [(s, n, late, round(pct(late, n), 1)) for s, n, late in kept]
    plot = {
        "states": [r[0] for r in kept],
        "rates": [pct(r[2], r[1]) for r in kept],
        "counts": [r[1] for r in kept],
        "overall": overall,
    }
    return Answer(reading, ["state", "delivered orders", "late", "late %"], table, plot)


# -- 3. delivery time vs review score --------------------------------------------------

BUCKETS = ((7, "0-7 days"), (14, "8-14 days"), (21, "15-21 days"), (30, "22-30 days"))
LAST_BUCKET = "over 30 days"


def _reviews_sql(rel: Relation) -> str:
    cases = "\n".join(
        f"        when f.delivery_time_days <= {days} then '{label}'" for days, label in BUCKETS
    )
    return f"""select
    case
{cases}
        else '{LAST_BUCKET}'
    end as delivery_time,
    min(f.delivery_time_days) as fastest_days,
    count(*) as orders,
    avg(r.review_score) as avg_score,
    sum(case when r.review_score <= 2 then 1 else 0 end) as low_scores
from {rel("fact_orders")} as f
join {rel("stg_reviews")} as r
    on r.order_id = f.order_id
where r.is_latest_order_review
  and f.delivery_time_days is not null
group by 1
order by 2"""


def _reviews(columns: list[str], rows: Rows) -> Answer:
    if not rows:
        return Answer("No delivered order has a review yet.", columns, rows)
    data = [(r[0], int(r[2]), num(r[3]), int(r[4])) for r in rows]
    first, last = data[0], data[-1]
    reading = (
        f"Orders delivered in {first[0]} averaged {first[2]:.2f} stars "
        f"({pct(first[3], first[1]):.0f}% rated 1-2), against {last[2]:.2f} stars for those "
        f"taking {last[0]} ({pct(last[3], last[1]):.0f}% rated 1-2)."
    )
    table = [(b, n, round(s, 2), round(pct(low, n), 1)) for b, n, s, low in data]
    plot = {
        "buckets": [d[0] for d in data],
        "scores": [d[2] for d in data],
        "counts": [d[1] for d in data],
        "low_share": [pct(d[3], d[1]) for d in data],
    }
    return Answer(reading, ["delivery time", "orders", "avg score", "1-2 stars %"], table, plot)


# -- 4. customer segments --------------------------------------------------------------


def _segments_sql(rel: Relation) -> str:
    return f"""select
    customer_segment,
    count(*) as customers,
    sum(total_orders) as orders,
    sum(total_spent) as spent
from {rel("dim_customer")}
group by customer_segment"""


def _segments(columns: list[str], rows: Rows) -> Answer:
    if not rows:
        return Answer("There are no customers in the warehouse yet.", columns, rows)
    data = [(r[0], int(r[1]), int(r[2]), num(r[3])) for r in _ordered(rows, SEGMENT_ORDER)]
    customers = sum(d[1] for d in data)
    spent = sum(d[3] for d in data)
    big = max(data, key=lambda d: d[1])
    avg = {d[0]: d[3] / d[1] for d in data if d[1]}
    best = max(data, key=lambda d: avg.get(d[0], 0.0))
    reading = (
        f"{big[0]} customers are {pct(big[1], customers):.1f}% of customers and made "
        f"{pct(big[3], spent):.1f}% of spending"
    )
    if best[0] != big[0]:
        reading += (
            f"; a {best[0]} customer spent {brl(avg[best[0]])} on average, "
            f"{avg[best[0]] / avg[big[0]]:.1f}× a {big[0]} customer"
        )
    reading += "."
    table, plot = _shares(data, customers, spent, ("share of customers", "share of spending"))
    cols = ["segment", "customers", "orders", "spent", "customers %", "spending %"]
    return Answer(reading, cols, table, plot)


# -- 5. top categories by revenue ------------------------------------------------------


def _categories_sql(rel: Relation) -> str:
    return f"""select
    p.product_category_english as category,
    count(*) as items,
    sum(i.price) as revenue,
    sum(sum(i.price)) over () as all_revenue
from {rel("fact_order_items")} as i
join {rel("dim_product")} as p
    on p.product_key = i.product_key
group by p.product_category_english
order by revenue desc, category
limit {TOP_CATEGORIES}"""


def _categories(columns: list[str], rows: Rows) -> Answer:
    if not rows:
        return Answer("No item has been sold yet.", columns, rows)
    data = [(r[0], int(r[1]), num(r[2])) for r in rows]
    total = num(rows[0][3])
    lead = data[0]
    reading = (
        f"The top category, {lead[0]}, made {brl(lead[2])} from {lead[1]:,} items "
        f"({pct(lead[2], total):.1f}% of item revenue); the top {len(data)} categories made "
        f"{pct(sum(d[2] for d in data), total):.0f}% of it."
    )
    table = [(c, n, round(v, 2), round(pct(v, total), 1)) for c, n, v in data]
    plot = {"categories": [d[0] for d in data], "revenue": [d[2] for d in data]}
    return Answer(reading, ["category", "items", "revenue", "revenue %"], table, plot)


# -- 6. payment-type mix ---------------------------------------------------------------


def _payments_sql(rel: Relation) -> str:
    return f"""select
    payment_type,
    count(*) as payments,
    count(distinct order_id) as orders,
    sum(payment_value) as paid,
    avg(payment_installments) as avg_installments
from {rel("stg_payments")}
group by payment_type
order by paid desc, payment_type"""


def _payments(columns: list[str], rows: Rows) -> Answer:
    if not rows:
        return Answer("There are no payments in the warehouse yet.", columns, rows)
    data = [(r[0], int(r[1]), int(r[2]), num(r[3]), num(r[4])) for r in rows]
    payments = sum(d[1] for d in data)
    paid = sum(d[3] for d in data)
    lead = data[0]
    reading = (
        f"Payments by {lead[0]} carried {pct(lead[3], paid):.1f}% of the value paid in "
        f"{pct(lead[1], payments):.1f}% of payments, at {lead[4]:.1f} instalments on average"
    )
    if len(data) > 1:
        reading += f"; {data[1][0]} came second with {pct(data[1][3], paid):.1f}%"
    reading += "."
    table = [
        (t, n, o, round(v, 2), round(pct(n, payments), 1), round(pct(v, paid), 1), round(a, 1))
        for t, n, o, v, a in data
    ]
    plot = {
        "labels": [d[0] for d in data],
        "first": [pct(d[3], paid) for d in data],
        "second": [pct(d[1], payments) for d in data],
        "first_label": "share of value paid",
        "second_label": "share of payments",
    }
    cols = ["payment type", "payments", "orders", "paid", "payments %", "value %", "instalments"]
    return Answer(reading, cols, table, plot)


# -- 7. seller volume tiers ------------------------------------------------------------


def _sellers_sql(rel: Relation) -> str:
    return f"""select
    seller_volume_tier,
    count(*) as sellers,
    sum(total_items_sold) as items,
    sum(total_revenue) as revenue
from {rel("dim_seller")}
group by seller_volume_tier"""


def _sellers(columns: list[str], rows: Rows) -> Answer:
    if not rows:
        return Answer("There are no sellers in the warehouse yet.", columns, rows)
    data = [(r[0], int(r[1]), int(r[2]), num(r[3])) for r in _ordered(rows, TIER_ORDER)]
    sellers = sum(d[1] for d in data)
    revenue = sum(d[3] for d in data)
    first, last = data[0], data[-1]
    reading = (
        f"{first[0]}-volume sellers are {pct(first[1], sellers):.1f}% of sellers and made "
        f"{pct(first[3], revenue):.1f}% of item revenue"
    )
    if last[0] != first[0]:
        reading += (
            f", while {last[0]}-volume sellers, {pct(last[1], sellers):.1f}% of sellers, made "
            f"{pct(last[3], revenue):.1f}%"
        )
    reading += "."
    table, plot = _shares(data, sellers, revenue, ("share of sellers", "share of item revenue"))
    cols = ["tier", "sellers", "items sold", "revenue", "sellers %", "revenue %"]
    return Answer(reading, cols, table, plot)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "monthly",
        "Monthly orders and revenue",
        "Bars: orders placed per month, every status. Line: revenue, the payments of orders "
        "that were not canceled or unavailable, by purchase month.",
        ("fact_orders",),
        _monthly_sql,
        _monthly,
        "monthly",
    ),
    Question(
        "late_by_state",
        "Late deliveries by customer state",
        f"Share of delivered orders that arrived after the estimated day, by the state of "
        f"the order's customer; states with fewer than {MIN_STATE_ORDERS} delivered orders "
        "are left out. The dashed line is the rate over all states.",
        ("fact_orders", "stg_customers"),
        _late_sql,
        _late,
        "rates",
    ),
    Question(
        "delivery_vs_review",
        "Delivery time vs review score",
        "Average review score (1-5) of delivered orders by days from purchase to delivery, "
        "using each order's latest review; the line is the share of 1-2 star reviews.",
        ("fact_orders", "stg_reviews"),
        _reviews_sql,
        _reviews,
        "scores",
    ),
    Question(
        "segments",
        "Customer segments",
        "Customers are people (customer_unique_id): One-time = 1 order, Repeat = 2, "
        "Loyal = 3 or more. Spending is the sum of their payments.",
        ("dim_customer",),
        _segments_sql,
        _segments,
        "shares",
    ),
    Question(
        "top_categories",
        "Top categories by revenue",
        f"The {TOP_CATEGORIES} product categories (English names) with the most item revenue: "
        "item prices, freight excluded, every order status.",
        ("fact_order_items", "dim_product"),
        _categories_sql,
        _categories,
        "categories",
    ),
    Question(
        "payment_mix",
        "Payment-type mix",
        "Each payment type's share of the value paid and of the payment rows; an order "
        "can be paid in several payments (a voucher and a card, say).",
        ("stg_payments",),
        _payments_sql,
        _payments,
        "shares",
    ),
    Question(
        "seller_tiers",
        "Seller volume tiers",
        "Sellers by items sold: High = 100 or more, Medium = 10-99, Low = 1-9. Revenue is "
        "the sum of their item prices.",
        ("dim_seller",),
        _sellers_sql,
        _sellers,
        "shares",
    ),
)
