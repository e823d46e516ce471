"""The report's charts, drawn with matplotlib into PNG bytes.

matplotlib is imported only here, inside the functions, and through its object API
(Figure + the Agg canvas) rather than pyplot: no global figure state, no GUI backend,
nothing for `olist --help` to pay for.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from olist_cli.report_queries import brl

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

BLUE = "#2f6fde"
BLUE_LIGHT = "#a9c4f5"
AMBER = "#e08a00"
RED = "#d64545"
GREY = "#8795a1"
INK = "#243b53"
SIZE = (9.6, 4.3)  # inches; at 150 dpi, 1440 px wide: sharp on a high-density screen
DPI = 150


def _figure(height: float = SIZE[1]) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(SIZE[0], height), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    _style(ax)
    return fig, ax


def _style(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#bcccdc")
    ax.tick_params(colors=INK, labelsize=9)
    ax.grid(axis="y", color="#e4e7eb", linewidth=0.8)
    ax.set_axisbelow(True)


def _png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    # No Software/URL text chunks: the report must carry no external reference.
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


def _empty(message: str) -> bytes:
    fig, ax = _figure(2.0)
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", color=GREY, fontsize=12)
    return _png(fig)


def monthly(months: list[str], orders: list[int], revenue: list[float]) -> bytes:
    fig, ax = _figure()
    x = list(range(len(months)))
    ax.bar(x, orders, color=BLUE_LIGHT, width=0.8, label="orders")
    ax.set_ylabel("orders per month", color=INK, fontsize=9)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    right = ax.twinx()
    _style(right)
    right.grid(False)
    right.spines["right"].set_visible(True)
    right.spines["right"].set_color("#bcccdc")
    right.plot(x, revenue, color=AMBER, linewidth=2.2, marker="o", markersize=3, label="revenue")
    right.set_ylabel("revenue (R$)", color=AMBER, fontsize=9)
    right.yaxis.set_major_formatter(lambda v, _: brl(v))
    right.set_ylim(bottom=0)
    step = max(1, len(months) // 12)
    ax.set_xticks(x[::step], [months[i] for i in x[::step]], rotation=45, ha="right")
    ax.set_xlim(-0.7, len(months) - 0.3)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles, ["orders", "revenue"], loc="upper left", frameon=False, fontsize=9)
    return _png(fig)


def rates(states: list[str], rates: list[float], counts: list[int], overall: float) -> bytes:
    fig, ax = _figure(max(3.2, 0.26 * len(states) + 1.2))
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e4e7eb", linewidth=0.8)
    y = list(range(len(states)))[::-1]  # the highest rate on top
    colours = [RED if i == 0 else BLUE for i in range(len(states))]
    ax.barh(y, rates, color=colours, height=0.7)
    ax.set_yticks(y, states)
    ax.axvline(overall, color=INK, linestyle="--", linewidth=1)
    ax.text(overall, max(y) + 0.9, f" overall {overall:.1f}%", color=INK, fontsize=8.5)
    for yi, rate, n in zip(y, rates, counts, strict=True):
        ax.text(rate, yi, f" {rate:.1f}%  (n={n:,})", va="center", fontsize=8, color=INK)
    ax.set_xlabel("late deliveries, % of delivered orders", color=INK, fontsize=9)
    ax.set_xlim(0, max(rates + [overall]) * 1.3 + 0.5)
    ax.set_ylim(-0.7, max(y) + 1.4)
    return _png(fig)


def scores(
    buckets: list[str], scores: list[float], counts: list[int], low_share: list[float]
) -> bytes:
    from matplotlib import colormaps

    fig, ax = _figure()
    x = list(range(len(buckets)))
    cmap = colormaps["RdYlGn"]
    colours = [cmap((s - 1) / 4 * 0.8 + 0.1) for s in scores]
    ax.bar(x, scores, color=colours, width=0.62, edgecolor="#52606d", linewidth=0.6)
    ax.set_xticks(x, buckets)
    ax.set_ylim(1, 5.2)
    ax.set_ylabel("average review score", color=INK, fontsize=9)
    ax.set_xlabel("days from purchase to delivery", color=INK, fontsize=9)
    right = ax.twinx()
    _style(right)
    right.grid(False)
    right.spines["right"].set_visible(True)
    right.plot(x, low_share, color=RED, marker="o", linewidth=1.8, zorder=1)
    right.set_ylim(0, max(100.0, max(low_share) * 1.1))
    right.yaxis.set_major_formatter(lambda v, _: f"{v:.0f}%")
    right.set_ylabel("1-2 star reviews", color=RED, fontsize=9)
    # The labels go on the twin axes (drawn last), in the bars' coordinates, so that the
    # red line never covers a score.
    for xi, score, n in zip(x, scores, counts, strict=True):
        right.text(
            xi,
            score + 0.07,
            f"{score:.2f}★",
            transform=ax.transData,
            ha="center",
            fontsize=9.5,
            color=INK,
            zorder=5,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
        )
        ax.text(xi, 1.08, f"n={n:,}", ha="center", fontsize=8, color="#334e68")
    return _png(fig)


def shares(
    labels: list[str],
    first: list[float],
    second: list[float],
    first_label: str,
    second_label: str,
) -> bytes:
    fig, ax = _figure(max(2.6, 0.62 * len(labels) + 1.0))
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e4e7eb", linewidth=0.8)
    y = list(range(len(labels)))[::-1]
    h = 0.38
    ax.barh([v + h / 2 for v in y], first, height=h, color=BLUE, label=first_label)
    ax.barh([v - h / 2 for v in y], second, height=h, color=AMBER, label=second_label)
    for yi, a, b in zip(y, first, second, strict=True):
        ax.text(a, yi + h / 2, f" {a:.1f}%", va="center", fontsize=8.5, color=INK)
        ax.text(b, yi - h / 2, f" {b:.1f}%", va="center", fontsize=8.5, color=INK)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 112)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0f}%")
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    return _png(fig)


def categories(categories: list[str], revenue: list[float]) -> bytes:
    fig, ax = _figure(max(3.0, 0.34 * len(categories) + 1.0))
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e4e7eb", linewidth=0.8)
    y = list(range(len(categories)))[::-1]
    ax.barh(y, revenue, color=[BLUE] + [BLUE_LIGHT] * (len(categories) - 1), height=0.7)
    for yi, value in zip(y, revenue, strict=True):
        ax.text(value, yi, f" {brl(value)}", va="center", fontsize=8.5, color=INK)
    ax.set_yticks(y, categories)
    ax.xaxis.set_major_formatter(lambda v, _: brl(v))
    ax.set_xlim(0, max(revenue) * 1.18)
    ax.set_xlabel("item revenue (R$)", color=INK, fontsize=9)
    return _png(fig)


CHARTS: dict[str, Callable[..., bytes]] = {
    "monthly": monthly,
    "rates": rates,
    "scores": scores,
    "shares": shares,
    "categories": categories,
}


def draw(kind: str, plot: dict[str, Any], empty_message: str) -> bytes:
    """The chart as PNG bytes; a labelled placeholder when there is nothing to draw."""
    if not plot:
        return _empty(empty_message)
    return CHARTS[kind](**plot)
