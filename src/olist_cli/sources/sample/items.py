"""Order items: which products each order holds, their sellers, prices and freight.

An item is fixed when the order is placed, so its row (the seller's shipping deadline
included) is the same in every snapshot that holds the order.

Every product of the catalogue is sold at least once, as in the real data (and so is every
seller, each of whom has a product). Before any chunk is made, ``first_sales`` deals the
whole catalogue out to the chunks: each chunk gets a share of the products, no more than
it has orders with items. The chunk then gives each product of its share one item of its
own (its "first sale", at a random free slot); every other item is drawn by popularity.
So coverage is exact and does not depend on chance or on how the orders are chunked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from olist_cli.sources.sample.calendar import day_start
from olist_cli.sources.sample.catalogue import Products
from olist_cli.sources.sample.orders import (
    CANCELED,
    DAY,
    DELIVERED,
    HOUR,
    UNAVAILABLE,
    Orders,
    pick,
)
from olist_cli.sources.sample.scaling import apportion_capped

# Real orders by number of items (orders without items aside).
ITEMS_PER_ORDER = {
    1: 88863, 2: 7516, 3: 1322, 4: 505, 5: 204, 6: 198, 7: 22, 8: 8, 9: 3, 10: 8, 11: 4,
    12: 5, 13: 1, 14: 2, 15: 2, 20: 2, 21: 1,
}  # fmt: skip
SAME_PRODUCT_SHARE = 0.55  # of an order's further items that repeat its first product
REPEAT_PRICE_LIMIT = 1_000_00  # cents: a dearer first product is not repeated
FREIGHT_MEDIAN = 16.0
# log freight = log 16 + 0.2 log(weight / 700 g) + N(0, 0.55): sigma ≈ 0.63 in all, so the
# mean is ≈ 16 * exp(0.63^2 / 2) ≈ 19.5, the real ≈ 20.

# A few items of delivered 2017 orders carry a shipping limit in 2020 (the real file has 4,
# in February and April 2020, the latest 2020-04-09 22:35:08), an oddity kept as it is.
FAR_LIMIT_ORDERS = (day_start(dt.date(2017, 1, 1)), day_start(dt.date(2018, 1, 1)))
FAR_LIMIT_DAYS = (day_start(dt.date(2020, 2, 1)), day_start(dt.date(2020, 4, 9)))


def first_sales(
    n_products: int, sizes: list[int], quirks: list[dict[str, int]], rng: np.random.Generator
) -> list[np.ndarray]:
    """Per chunk, the products it must sell once: all products, dealt out by chunk size.

    A chunk never gets more products than it has orders with items (its orders less its
    orders without items, which are at most its ``no_items`` or ``unavailable`` quirk
    count), so every product fits as long as the whole data has that many such orders:
    at every scale, since there are ≈ 0.33 products per order.
    """
    room = [
        max(0, size - max(q["no_items"], q["unavailable"]))
        for size, q in zip(sizes, quirks, strict=True)
    ]
    shares = apportion_capped(n_products, sizes, np.array(room))
    return np.split(rng.permutation(n_products), np.cumsum(shares)[:-1])


@dataclass(frozen=True)
class Items:
    dearest: np.ndarray  # orders holding two of the dearest product, paid in one row
    order: np.ndarray  # index of the item's order in the chunk
    seq: np.ndarray  # order_item_id: 1, 2, ... within the order
    product: np.ndarray
    seller: np.ndarray
    shipping_limit: np.ndarray
    price_cents: np.ndarray
    freight_cents: np.ndarray

    def __len__(self) -> int:
        return len(self.order)


def _dearest_orders(
    orders: Orders,
    count: np.ndarray,
    first_row: np.ndarray,
    first_sale: np.ndarray,
    k: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Delivered two-item orders paid in one row whose items are no product's first sale:
    they will hold two of the dearest product (the real largest payment, 13,664.08, is
    about twice the dearest price plus freight)."""
    taken = np.zeros(int(count.sum()), dtype=bool)
    taken[first_sale] = True
    pair = np.flatnonzero((count == 2) & (orders.fate == DELIVERED) & (orders.pay_rows == 1))
    pair = pair[~taken[first_row[pair]] & ~taken[first_row[pair] + 1]]
    return np.sort(pick(pair, k, rng))


def make_items(
    orders: Orders,
    products: Products,
    must_sell: np.ndarray,
    quirks: dict[str, int],
    rng: np.random.Generator,
) -> Items:
    n = len(orders)
    table = np.array(list(ITEMS_PER_ORDER))
    p = np.array(list(ITEMS_PER_ORDER.values()), float)
    count = table[rng.choice(len(table), size=n, p=p / p.sum())]
    # No items: every unavailable order, then canceled ones up to the quirk's count.
    empty = np.flatnonzero(orders.fate == UNAVAILABLE)
    canceled = np.flatnonzero(orders.fate == CANCELED)
    more = max(0, quirks["no_items"] - len(empty))
    empty = np.concatenate([empty, pick(canceled, more, rng)])
    count[empty] = 0

    order = np.repeat(np.arange(n), count)
    first_row = np.cumsum(count) - count
    seq = np.arange(len(order)) - first_row[order] + 1
    pop = products.popularity
    product = rng.choice(len(pop), size=len(order), p=pop / pop.sum())
    repeat = (seq > 1) & (rng.random(len(order)) < SAME_PRODUCT_SHARE)
    # First sales: each product of the chunk's share takes one item that is not a repeat
    # (every order with items has one, and ``first_sales`` gave no more products than that).
    free = np.flatnonzero(~repeat)
    k = min(len(must_sell), len(free))
    first_sale = rng.choice(free, size=k, replace=False)
    product[first_sale] = must_sell[:k]
    # Nobody buys four of a 3,000 BRL product at once: only cheaper ones repeat.
    repeat &= products.price_cents[product[first_row[order]]] <= REPEAT_PRICE_LIMIT
    product[repeat] = product[first_row[order[repeat]]]
    dearest = _dearest_orders(orders, count, first_row, first_sale, quirks["dearest_order"], rng)
    product[first_row[dearest]] = product[first_row[dearest] + 1] = products.dearest

    # Heavier products cost more to ship.
    weight = np.where(products.size_null, 700, np.maximum(products.weight_g, 1))[product]
    log_freight = np.log(FREIGHT_MEDIAN) + 0.2 * np.log(weight / 700.0)
    freight = np.exp(log_freight + rng.normal(0, 0.55, len(order)))
    freight_cents = np.maximum(1, np.round(freight * 100)).astype(np.int64)
    freight_cents[pick(np.arange(len(order)), quirks["freight_zero"], rng)] = 0

    deadline = orders.purchase + 6 * DAY + rng.integers(0, 30 * HOUR, n)
    shipping_limit = deadline[order]
    # Shipping limits years ahead: on the only item of some delivered orders from 2017.
    lo, hi = FAR_LIMIT_ORDERS
    single = np.bincount(order, minlength=n) == 1
    pool = np.flatnonzero(
        single & (orders.fate == DELIVERED) & (orders.purchase >= lo) & (orders.purchase < hi)
    )
    far = first_row[pick(pool, quirks["shipping_limit_2020"], rng)]
    first_day, last_day = FAR_LIMIT_DAYS
    days = rng.integers(0, (last_day - first_day) // DAY + 1, len(far))
    shipping_limit[far] = first_day + days * DAY + shipping_limit[far] % DAY
    return Items(
        dearest=dearest,
        order=order,
        seq=seq,
        product=product,
        seller=products.seller[product],
        shipping_limit=shipping_limit,
        price_cents=products.price_cents[product],
        freight_cents=freight_cents,
    )
