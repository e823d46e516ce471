"""Order items: which products each order holds, their sellers, prices and freight.

An item is fixed when the order is placed, so its row (the seller's shipping deadline
included) is the same in every snapshot that holds the order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from olist_cli.sources.sample.catalogue import Products
from olist_cli.sources.sample.orders import CANCELED, DAY, HOUR, UNAVAILABLE, Orders

# Real orders by number of items (orders without items aside).
ITEMS_PER_ORDER = {
    1: 88863, 2: 7516, 3: 1322, 4: 505, 5: 204, 6: 198, 7: 22, 8: 8, 9: 3, 10: 8, 11: 4,
    12: 5, 13: 1, 14: 2, 15: 2, 20: 2, 21: 1,
}  # fmt: skip
SAME_PRODUCT_SHARE = 0.55  # of an order's further items that repeat its first product
FREIGHT_MEDIAN = 16.0
# log freight = log 16 + 0.2 log(weight / 700 g) + N(0, 0.55): sigma ≈ 0.63 in all, so the
# mean is ≈ 16 * exp(0.63^2 / 2) ≈ 19.5, the real ≈ 20.


@dataclass(frozen=True)
class Items:
    order: np.ndarray  # index of the item's order in the chunk
    seq: np.ndarray  # order_item_id: 1, 2, ... within the order
    product: np.ndarray
    seller: np.ndarray
    shipping_limit: np.ndarray
    price_cents: np.ndarray
    freight_cents: np.ndarray

    def __len__(self) -> int:
        return len(self.order)


def make_items(
    orders: Orders, products: Products, quirks: dict[str, int], rng: np.random.Generator
) -> Items:
    n = len(orders)
    table = np.array(list(ITEMS_PER_ORDER))
    p = np.array(list(ITEMS_PER_ORDER.values()), float)
    count = table[rng.choice(len(table), size=n, p=p / p.sum())]
    # No items: every unavailable order, then canceled ones up to the quirk's count.
    empty = np.flatnonzero(orders.fate == UNAVAILABLE)
    canceled = np.flatnonzero(orders.fate == CANCELED)
    more = max(0, quirks["no_items"] - len(empty))
    empty = np.concatenate([empty, rng.choice(canceled, min(more, len(canceled)), replace=False)])
    count[empty] = 0

    order = np.repeat(np.arange(n), count)
    first_row = np.cumsum(count) - count
    seq = np.arange(len(order)) - first_row[order] + 1
    pop = products.popularity
    product = rng.choice(len(pop), size=len(order), p=pop / pop.sum())
    repeat = (seq > 1) & (rng.random(len(order)) < SAME_PRODUCT_SHARE)
    product[repeat] = product[first_row[order[repeat]]]

    # Heavier products cost more to ship.
    weight = np.where(products.size_null, 700, np.maximum(products.weight_g, 1))[product]
    log_freight = np.log(FREIGHT_MEDIAN) + 0.2 * np.log(weight / 700.0)
    freight = np.exp(log_freight + rng.normal(0, 0.55, len(order)))
    freight_cents = np.maximum(1, np.round(freight * 100)).astype(np.int64)
    freight_cents[rng.choice(len(order), min(quirks["freight_zero"], len(order)), False)] = 0

    deadline = orders.purchase + 6 * DAY + rng.integers(0, 30 * HOUR, n)
    return Items(
        order=order,
        seq=seq,
        product=product,
        seller=products.seller[product],
        shipping_limit=deadline[order],
        price_cents=products.price_cents[product],
        freight_cents=freight_cents,
    )
