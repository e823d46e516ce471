"""The world as known at a moment ``t``: which rows exist and what they say, as CSV bytes.

Rules (the full sample is the snapshot at the end of the data's last day):
- an order exists once purchased; its customer, items and payments exist with it;
- a date field is filled once its event has happened (and the data kept it);
- the status moves only at an event the file shows: created → approved → shipped →
  delivered; stuck orders take their final status at approval, canceled/unavailable ones
  at their last shown event (see ``status_at``);
- a review exists once created (its creation date is midnight of a day ≤ ``t``); its
  answer timestamp is empty until answered.
"""

from __future__ import annotations

import numpy as np

from olist_cli.dataset import CUSTOMERS, ORDER_ITEMS, ORDERS, PAYMENTS, REVIEWS
from olist_cli.sources.sample import cells
from olist_cli.sources.sample.geo import CITY_CELLS, STATE_CELLS, zip_cells
from olist_cli.sources.sample.orders import (
    APPROVED,
    CANCELED,
    CREATED,
    DELIVERED,
    INVOICED,
    NEVER,
    PAYMENT_TYPES,
    PROCESSING,
    SHIPPED,
    STATUSES,
    UNAVAILABLE,
    Orders,
)
from olist_cli.sources.sample.world import Chunk, World

STATUS_CELLS = cells.text_pool(STATUSES)
PAYMENT_TYPE_CELLS = cells.text_pool(PAYMENT_TYPES)


def status_at(o: Orders, t: int) -> np.ndarray:
    """Each order's status at ``t`` (codes of ``STATUSES``).

    A status changes only at an event whose timestamp the file shows (purchase, approval,
    carrier, delivery). A change with no visible timestamp would be invisible to anyone
    reading the files incrementally, and the real data shows none either: stuck orders
    (approved, processing, invoiced) take their status at approval; canceled and unavailable
    ones at their last shown event; an order whose delivery date was lost becomes delivered
    at its carrier date.
    """
    approved = np.where(o.approved_shown, o.approved, NEVER)
    carrier = np.where(o.carrier_shown, o.carrier, NEVER)
    delivered = np.where(o.delivered_shown, o.delivered, NEVER)
    lost_delivery = (o.fate == DELIVERED) & ~o.delivered_shown
    delivered[lost_delivery] = carrier[lost_delivery]

    status = np.full(len(o), CREATED, dtype=np.int64)
    progressing = np.isin(o.fate, (SHIPPED, DELIVERED))
    for code, when in ((APPROVED, approved), (SHIPPED, carrier), (DELIVERED, delivered)):
        reached = progressing & (when <= t)
        status[reached] = np.maximum(status[reached], code)

    stuck = np.isin(o.fate, (APPROVED, PROCESSING, INVOICED))
    settled = stuck & (approved <= t)
    status[settled] = o.fate[settled]

    ends = np.isin(o.fate, (CANCELED, UNAVAILABLE))
    last_shown = np.where(approved < NEVER, approved, o.purchase)
    ended = ends & (last_shown <= t)
    status[ended] = o.fate[ended]
    return status


def chunk_bytes(world: World, chunk: Chunk, t: int) -> dict[str, bytes]:
    """The rows of one chunk known at ``t``, keyed by file name."""
    o = chunk.orders
    placed = o.purchase <= t
    order_ids = cells.hex_ids(o.raw_id)
    customer_ids = cells.hex_ids(o.customer_raw_id)

    sel = np.flatnonzero(placed)
    orders = [
        order_ids[sel],
        customer_ids[sel],
        STATUS_CELLS[status_at(o, t)[sel]],
        cells.timestamps(o.purchase[sel]),
    ]
    for when, shown in (
        (o.approved, o.approved_shown),
        (o.carrier, o.carrier_shown),
        (o.delivered, o.delivered_shown),
    ):
        orders.append(cells.timestamps(when[sel], ~(shown[sel] & (when[sel] <= t))))
    orders.append(cells.timestamps(o.estimated[sel]))

    person = o.person[sel]
    zip_index = world.people.zip_index[person]
    customers = [
        customer_ids[sel],
        cells.hex_ids(world.people.unique_ids(person)),
        zip_cells(world.universe.prefix[zip_index]),
        CITY_CELLS[world.universe.city[zip_index]],
        STATE_CELLS[world.universe.state[zip_index]],
    ]

    it = chunk.items
    i = np.flatnonzero(placed[it.order])
    items = [
        order_ids[it.order[i]],
        cells.integers(it.seq[i]),
        world.product_id_cells[it.product[i]],
        world.seller_id_cells[it.seller[i]],
        cells.timestamps(it.shipping_limit[i]),
        cells.money(it.price_cents[i]),
        cells.money(it.freight_cents[i]),
    ]

    pay = chunk.payments
    p = np.flatnonzero(placed[pay.order])
    payments = [
        order_ids[pay.order[p]],
        cells.integers(pay.seq[p]),
        PAYMENT_TYPE_CELLS[pay.method[p]],
        cells.integers(pay.installments[p]),
        cells.money(pay.value_cents[p]),
    ]

    rv = chunk.reviews
    r = np.flatnonzero(placed[rv.order] & (rv.created <= t))
    reviews = [
        cells.hex_ids(rv.raw_id[r]),
        order_ids[rv.order[r]],
        cells.integers(rv.score[r]),
        world.text.titles[rv.title[r]],
        world.text.messages[rv.message[r]],
        cells.timestamps(rv.created[r]),
        cells.timestamps(rv.answered[r], rv.answered[r] > t),
    ]
    return {
        ORDERS.file_name: cells.join_rows(orders),
        CUSTOMERS.file_name: cells.join_rows(customers),
        ORDER_ITEMS.file_name: cells.join_rows(items),
        PAYMENTS.file_name: cells.join_rows(payments),
        REVIEWS.file_name: cells.join_rows(reviews),
    }
