"""Orders as they happen: each order's fate and the moment of each of its events.

The times here are the *latent* history, some of it later than the end of the data;
``snapshot`` turns it into what was known at a given moment. Every time is Unix seconds,
``NEVER`` for an event that does not happen. ``*_shown`` is False where the real data
lost a date although the event happened (the status still moved on).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from olist_cli.sources.sample.calendar import DAY, day_start, purchase_times

NEVER = np.iinfo(np.int64).max // 2
HOUR = 3600

# Status codes in the order an order moves through them; canceled and unavailable end it.
STATUSES = (
    "created",
    "approved",
    "processing",
    "invoiced",
    "shipped",
    "delivered",
    "canceled",
    "unavailable",
)
CREATED, APPROVED, PROCESSING, INVOICED, SHIPPED, DELIVERED, CANCELED, UNAVAILABLE = range(8)
# Fates other than delivered, in the order they are dealt out.
RARE_FATES = (
    ("shipped", SHIPPED),
    ("unavailable", UNAVAILABLE),
    ("invoiced", INVOICED),
    ("processing", PROCESSING),
    ("created", CREATED),
    ("approved", APPROVED),
    ("canceled", CANCELED),
)
# Orders placed from here on are canceled: the real data's last weeks are cancellations.
TAIL_START = day_start(dt.date(2018, 9, 1))
# Date quirks go to orders delivered before this, so that their dates fall inside the data.
QUIRK_BEFORE = day_start(dt.date(2018, 8, 1))

# Payment method of an order's first payment row.
PAYMENT_TYPES = ("credit_card", "boleto", "voucher", "debit_card", "not_defined")
CREDIT_CARD, BOLETO, VOUCHER, DEBIT_CARD, NOT_DEFINED = range(5)
# Real orders by number of payment rows (rows 2+ are vouchers).
PAYMENT_ROWS = {
    1: 96479, 2: 2382, 3: 301, 4: 108, 5: 52, 6: 36, 7: 28, 8: 11, 9: 9, 10: 5, 11: 8,
    12: 8, 13: 3, 14: 2, 15: 2, 19: 2, 21: 1, 22: 1, 23: 1, 26: 1, 29: 1,
}  # fmt: skip
# First-row method of single-row and of multi-row orders, solved so that rows come out as
# credit_card 73.9%, boleto 19.0%, voucher 5.6%, debit_card 1.5%.
SINGLE_ROW_METHOD = (0.773, 0.205, 0.006, 0.0159)
MULTI_ROW_METHOD = (0.75, 0.0, 0.25, 0.0)


@dataclass
class Orders:
    raw_id: np.ndarray  # (n, 16) uint8
    customer_raw_id: np.ndarray  # (n, 16) uint8
    person: np.ndarray
    fate: np.ndarray  # final status code
    purchase: np.ndarray
    estimated: np.ndarray  # estimated delivery date, 00:00:00
    approved: np.ndarray
    carrier: np.ndarray
    delivered: np.ndarray
    cancel: np.ndarray  # when a canceled/unavailable order ended (dates its review)
    approved_shown: np.ndarray
    carrier_shown: np.ndarray
    delivered_shown: np.ndarray
    pay_method: np.ndarray  # method of the first payment row
    pay_rows: np.ndarray  # number of payment rows

    def __len__(self) -> int:
        return len(self.fate)

    @property
    def late(self) -> np.ndarray:
        """Delivered after the estimated date (or never delivered)."""
        return self.delivered > self.estimated


def pick(pool: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` distinct members of ``pool`` (fewer if the pool is smaller)."""
    return rng.choice(pool, size=min(k, len(pool)), replace=False)


def _fates(purchase: np.ndarray, quirks: dict[str, int], rng: np.random.Generator) -> np.ndarray:
    fate = np.full(len(purchase), DELIVERED, dtype=np.int64)
    tail = purchase >= TAIL_START
    fate[tail] = CANCELED
    for name, code in RARE_FATES:
        k = quirks[name] - (int(tail.sum()) if code == CANCELED else 0)
        fate[pick(np.flatnonzero((fate == DELIVERED) & ~tail), max(k, 0), rng)] = code
    return fate


def make_orders(person: np.ndarray, quirks: dict[str, int], rng: np.random.Generator) -> Orders:
    n = len(person)
    raw_id = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    customer_raw_id = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    purchase = purchase_times(n, rng)
    fate = _fates(purchase, quirks, rng)

    rows_table = np.array(list(PAYMENT_ROWS))
    rows_p = np.array(list(PAYMENT_ROWS.values()), float)
    pay_rows = rows_table[rng.choice(len(rows_table), size=n, p=rows_p / rows_p.sum())]
    single = np.array(SINGLE_ROW_METHOD) / sum(SINGLE_ROW_METHOD)
    pay_method = np.where(
        pay_rows == 1,
        rng.choice(4, size=n, p=single),
        rng.choice(4, size=n, p=MULTI_ROW_METHOD),
    )

    # Approval: minutes for cards, a day or more for boleto (a bank slip paid later).
    quick = rng.random(n) < 0.85
    card_delay = np.where(
        quick, 120 + rng.exponential(12 * 60, n), rng.lognormal(np.log(10 * HOUR), 0.8, n)
    )
    boleto_delay = rng.lognormal(np.log(30 * HOUR), 0.5, n)
    approved = purchase + np.where(pay_method == BOLETO, boleto_delay, card_delay).astype(np.int64)

    # Delivery: a part known at purchase (distance) drives the estimate too; the rest is
    # luck. Tuned to median 10 days, mean 12.5, estimate 23-24 days, ~8% late.
    expected_days = 10.0 * np.exp(0.40 * rng.standard_normal(n))
    actual_days = expected_days * np.exp(0.53 * rng.standard_normal(n))
    estimate_days = np.maximum(3, np.round(13.5 + expected_days + rng.normal(0, 3, n)))
    estimated = purchase // DAY * DAY + estimate_days.astype(np.int64) * DAY
    delivered = np.maximum(
        purchase + (actual_days * DAY).astype(np.int64),
        approved + 6 * HOUR + rng.integers(0, 12 * HOUR, n),
    )
    carrier = approved + (rng.beta(2.0, 4.0, n) * (delivered - approved)).astype(np.int64)
    cancel = np.full(n, NEVER, dtype=np.int64)

    # Each fate keeps only the events it reaches.
    stuck = np.isin(fate, (CREATED, APPROVED, PROCESSING, INVOICED, CANCELED, UNAVAILABLE))
    carrier[stuck] = NEVER
    delivered[fate != DELIVERED] = NEVER
    approved[fate == CREATED] = NEVER
    ends = np.isin(fate, (CANCELED, UNAVAILABLE))
    tail = purchase >= TAIL_START
    cancel_delay = np.where(
        tail, rng.lognormal(np.log(6 * HOUR), 0.5, n), rng.lognormal(np.log(2 * DAY), 1.0, n)
    )
    cancel[ends] = (np.minimum(approved, purchase + DAY) + cancel_delay.astype(np.int64))[ends]

    orders = Orders(
        raw_id=raw_id,
        customer_raw_id=customer_raw_id,
        person=person,
        fate=fate,
        purchase=purchase,
        estimated=estimated,
        approved=approved,
        carrier=carrier,
        delivered=delivered,
        cancel=cancel,
        approved_shown=np.ones(n, dtype=bool),
        carrier_shown=np.ones(n, dtype=bool),
        delivered_shown=np.ones(n, dtype=bool),
        pay_method=pay_method,
        pay_rows=pay_rows,
    )
    _date_quirks(orders, quirks, rng)
    return orders


def _date_quirks(o: Orders, quirks: dict[str, int], rng: np.random.Generator) -> None:
    """Missing and out-of-order dates, each on its own delivered orders."""
    canceled = np.flatnonzero((o.fate == CANCELED) & (o.purchase < TAIL_START))
    lost = pick(canceled, quirks["canceled_not_approved"], rng)
    o.approved[lost] = NEVER
    o.cancel[lost] = np.minimum(o.cancel[lost], o.purchase[lost] + 2 * DAY)

    delivered = np.flatnonzero((o.fate == DELIVERED) & (o.delivered < QUIRK_BEFORE))
    pool = rng.permutation(delivered)
    start = 0

    def take(name: str) -> np.ndarray:
        nonlocal start
        picked = pool[start : start + quirks[name]]
        start += len(picked)
        return picked

    o.approved_shown[take("delivered_not_approved")] = False
    o.carrier_shown[take("delivered_no_carrier_date")] = False
    o.delivered_shown[take("delivered_no_customer_date")] = False
    # Approval recorded after the delivery (a late payment confirmation).
    idx = take("delivered_before_approval")
    o.approved[idx] = o.delivered[idx] + rng.integers(HOUR, 5 * DAY, len(idx))
    # The carrier's scan dated after the customer got the parcel.
    idx = take("delivered_before_carrier")
    o.carrier[idx] = o.delivered[idx] + rng.integers(HOUR, 3 * DAY, len(idx))
