"""Payments: one or more rows per order that add up to its items' price plus freight.

Rows after the first are vouchers. Apart from the quirk orders whose total is off by more
than 1 BRL (interest, in the real data), the rows of an order with items sum to its
items' price + freight to the cent. Like items, payments are fixed at purchase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from olist_cli.sources.sample.items import Items
from olist_cli.sources.sample.orders import (
    CREDIT_CARD,
    DELIVERED,
    NOT_DEFINED,
    VOUCHER,
    Orders,
    pick,
)
from olist_cli.sources.sample.scaling import apportion

# Credit-card rows by number of installments: the real counts (other methods pay in 1;
# the real file's 2 card rows in 0 installments are a quirk of their own). 19 never occurs.
CREDIT_CARD_INSTALLMENTS = {
    1: 25455, 2: 12413, 3: 10461, 4: 7098, 5: 5239, 6: 3920, 7: 1626, 8: 4268, 9: 644,
    10: 5328, 11: 23, 12: 133, 13: 16, 14: 15, 15: 74, 16: 5, 17: 8, 18: 27, 20: 17, 21: 3,
    22: 1, 23: 1, 24: 18,
}  # fmt: skip


@dataclass(frozen=True)
class Payments:
    order: np.ndarray  # index of the row's order in the chunk
    seq: np.ndarray  # payment_sequential
    method: np.ndarray  # index into PAYMENT_TYPES
    installments: np.ndarray
    value_cents: np.ndarray

    def __len__(self) -> int:
        return len(self.order)


def make_payments(
    orders: Orders, items: Items, quirks: dict[str, int], rng: np.random.Generator
) -> Payments:
    n = len(orders)
    item_sum = np.bincount(items.order, items.price_cents + items.freight_cents, minlength=n)
    total = np.round(item_sum).astype(np.int64)
    has_items = np.bincount(items.order, minlength=n) > 0
    # An order without items was still paid for before it was canceled.
    unpaid_value = np.round(rng.lognormal(np.log(100.0), 0.8, n) * 100).astype(np.int64)
    total[~has_items] = unpaid_value[~has_items]

    rows = orders.pay_rows.copy()
    dearest = np.zeros(n, dtype=bool)
    dearest[items.dearest] = True  # the largest payment is exactly its items' total
    normal = np.flatnonzero(has_items & (orders.fate == DELIVERED) & ~dearest)
    off = pick(normal, quirks["payment_mismatch"], rng)
    interest = np.round(total[off] * rng.uniform(0.03, 0.2, len(off))).astype(np.int64)
    total[off] += np.maximum(101, interest)
    is_off = np.zeros(n, dtype=bool)
    is_off[off] = True
    rows[pick(normal[~is_off[normal]], quirks["no_payment"], rng)] = 0
    undefined = pick(np.flatnonzero(~has_items), quirks["not_defined"], rng)
    rows[undefined] = 1

    order = np.repeat(np.arange(n), rows)
    first_row = np.cumsum(rows) - rows
    seq = np.arange(len(order)) - first_row[order] + 1
    first = seq == 1
    method = np.where(first, orders.pay_method[order], VOUCHER)

    # Split each total at random; the first row takes what the others leave.
    weight = rng.random(len(order)) + 0.05
    share = weight / np.bincount(order, weight, minlength=n)[order]
    value = (total[order] * share).astype(np.int64)
    value[first] = 0
    value[first] = (total - np.bincount(order, value, minlength=n).astype(np.int64))[order[first]]

    # Installments are dealt out to the chunk's card rows in the real proportions, exactly,
    # so the rare counts (22 and 23 occur once in the real data) are there at scale 1.
    installments = np.ones(len(order), dtype=np.int64)
    card_rows = np.flatnonzero(method == CREDIT_CARD)
    counts = apportion(len(card_rows), list(CREDIT_CARD_INSTALLMENTS.values()))
    dealt = np.repeat(np.array(list(CREDIT_CARD_INSTALLMENTS)), counts)
    installments[card_rows] = rng.permutation(dealt)

    # Row quirks: 'not_defined' rows of 0.00; vouchers of 0.00 (their share moved to the
    # first row); an order's only row numbered 2; credit cards in 0 installments.
    undefined_rows = first_row[undefined]
    method[undefined_rows] = NOT_DEFINED
    value[undefined_rows] = 0
    installments[undefined_rows] = 1
    multi = np.flatnonzero(rows >= 2)
    zeroed = first_row[pick(multi, quirks["zero_voucher"], rng)]
    value[zeroed] += value[zeroed + 1]
    value[zeroed + 1] = 0
    is_undefined = np.zeros(n, dtype=bool)
    is_undefined[undefined] = True
    single = np.flatnonzero((rows == 1) & ~is_undefined)
    seq[first_row[pick(single, quirks["single_row_sequential_2"], rng)]] = 2
    cards = np.flatnonzero(method == CREDIT_CARD)
    installments[pick(cards, quirks["credit_card_0_installments"], rng)] = 0
    return Payments(order, seq, method, installments, value)
