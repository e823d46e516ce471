"""The real data's oddities, with their real counts, dealt out to the chunks.

Each quirk's total follows ``scaling.quirk_count`` (its real count scaled, at least one
from scale 0.01); the total is split over the chunks by their sizes, and each chunk
applies exactly its share. So the counts are exact and do not depend on chance.
"""

from __future__ import annotations

import numpy as np

from olist_cli.sources.sample.scaling import apportion, quirk_count

REAL_COUNTS: dict[str, int] = {
    # order fates other than delivered
    "shipped": 1107,
    "canceled": 625,
    "unavailable": 609,
    "invoiced": 314,
    "processing": 301,
    "created": 5,
    "approved": 2,
    # missing or out-of-order dates
    "canceled_not_approved": 141,
    "delivered_not_approved": 14,
    "delivered_no_carrier_date": 2,
    "delivered_no_customer_date": 8,
    "delivered_before_approval": 61,
    "delivered_before_carrier": 23,
    # items
    "no_items": 775,
    "freight_zero": 380,
    "shipping_limit_2020": 4,
    "dearest_order": 1,  # two of the dearest product: the largest payment
    # payments
    "payment_mismatch": 250,
    "single_row_sequential_2": 80,
    "not_defined": 3,
    "zero_voucher": 6,
    "credit_card_0_installments": 2,
    # reviews
    "no_review": 770,
    "two_reviews": 540,
    "three_reviews": 5,
    "shared_review_id": 800,
}


def chunk_quirks(scale: float, sizes: list[int]) -> list[dict[str, int]]:
    """Per chunk, how many times to apply each quirk."""
    shares: dict[str, np.ndarray] = {
        name: apportion(quirk_count(real, scale), sizes) for name, real in REAL_COUNTS.items()
    }
    # Exactly one order without payment rows, whatever the scale: in the first chunk.
    shares["no_payment"] = np.array([1] + [0] * (len(sizes) - 1))
    return [{name: int(share[c]) for name, share in shares.items()} for c in range(len(sizes))]
