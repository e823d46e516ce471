"""How many rows of each kind a given scale asks for.

Orders and everything hanging off them (customers, items, payments, reviews) grow
linearly with the scale. The catalogue (products, sellers) and the zip prefixes grow
linearly up to scale 1 and then sub-linearly, as a marketplace's catalogue does: its
buyers multiply faster than its sellers. Quirks keep their real rate, and any quirk the
real data has at least once appears at least once from scale 0.01 up, so small samples
still exercise every oddity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

REAL_ORDERS = 99_441
REAL_PRODUCTS = 32_951
REAL_SELLERS = 3_095
REAL_ZIP_PREFIXES = 19_015
GEO_ROWS_PER_PREFIX = 1_000_163 / REAL_ZIP_PREFIXES
MAX_ZIP_PREFIXES = 70_000  # of the ~99,000 five-digit prefixes Brazil's CEP ranges hold

QUIRK_FLOOR_SCALE = 0.01  # from this scale up, every real quirk occurs at least once

CHUNK_ORDERS = 200_000  # orders generated and written per chunk: bounds memory


def n_orders(scale: float) -> int:
    return max(1, round(REAL_ORDERS * scale))


def catalogue_factor(scale: float) -> float:
    """Linear below scale 1, ``scale ** 0.7`` above."""
    return scale if scale <= 1 else scale**0.7


def n_products(scale: float) -> int:
    return max(1, round(REAL_PRODUCTS * catalogue_factor(scale)))


def n_sellers(scale: float) -> int:
    return max(1, round(REAL_SELLERS * catalogue_factor(scale)))


def n_zip_prefixes(scale: float) -> int:
    """Linear below scale 1, ``scale ** 0.5`` above, capped; at least one per state (27)."""
    factor = scale if scale <= 1 else scale**0.5
    return int(min(MAX_ZIP_PREFIXES, max(60, round(REAL_ZIP_PREFIXES * factor))))


def n_geolocation_rows(n_prefixes: int) -> int:
    """Bounded by the prefixes: the real mean number of points per prefix."""
    return round(GEO_ROWS_PER_PREFIX * n_prefixes)


def quirk_count(real_count: float, scale: float) -> int:
    """A quirk's count at this scale: its real count scaled, at least 1 from scale 0.01."""
    count = round(real_count * scale)
    if scale >= QUIRK_FLOOR_SCALE and real_count > 0:
        count = max(count, 1)
    return count


def apportion(total: int, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder).

    Deterministic: ties go to the earlier weight.
    """
    w = np.asarray(weights, dtype=np.float64)
    exact = total * w / w.sum()
    parts = np.floor(exact).astype(np.int64)
    short = total - int(parts.sum())
    if short > 0:
        order = np.argsort(-(exact - parts), kind="stable")
        parts[order[:short]] += 1
    return parts


def apportion_capped(
    total: int, weights: Sequence[float] | np.ndarray, caps: np.ndarray
) -> np.ndarray:
    """``apportion`` with each part at most its cap: what a part cannot hold goes to the others.

    Deterministic. If the caps add up to less than ``total``, every part is at its cap.
    """
    caps = np.asarray(caps, dtype=np.int64)
    parts = np.minimum(apportion(total, weights), caps)
    while (left := min(total, int(caps.sum())) - int(parts.sum())) > 0:
        room = caps - parts
        parts += np.minimum(apportion(left, room), room)
    return parts


def chunk_sizes(total_orders: int) -> list[int]:
    """Orders per chunk: full chunks of CHUNK_ORDERS, then the rest."""
    sizes = [CHUNK_ORDERS] * (total_orders // CHUNK_ORDERS)
    if total_orders % CHUNK_ORDERS:
        sizes.append(total_orders % CHUNK_ORDERS)
    return sizes
