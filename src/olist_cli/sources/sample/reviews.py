"""Reviews: the satisfaction survey sent when an order arrives (or should have).

A review is created at 00:00:00 on the day after the order was delivered, canceled, or
(for an order stuck on its way) due; it is answered a day or two later. Late and
undelivered orders score far lower. Some orders get two or three reviews, some none;
and a few hundred review ids cover two orders placed minutes apart (one survey for both).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from olist_cli.sources.sample.calendar import DATA_END_DAY, end_of_day
from olist_cli.sources.sample.orders import CANCELED, DAY, DELIVERED, HOUR, UNAVAILABLE, Orders
from olist_cli.sources.sample.text import ReviewText

SCORE_SHARE = {5: 0.578, 4: 0.193, 3: 0.082, 2: 0.032, 1: 0.115}  # all reviews
# Late deliveries (published on the full data: mean 2.3-2.6 stars, 54% give 1-2 stars; the
# on-time share solved below then gives 4.3 stars and 9% of 1-2 stars).
LATE_SCORE_SHARE = {5: 0.20, 4: 0.10, 3: 0.16, 2: 0.12, 1: 0.42}
UNDELIVERED_SCORE_SHARE = {5: 0.10, 4: 0.05, 3: 0.08, 2: 0.07, 1: 0.70}
DATA_END = end_of_day(DATA_END_DAY)
LATE_SHARE, UNDELIVERED_SHARE = 0.078, 0.03  # of reviews, roughly


def _on_time_share() -> np.ndarray:
    """Scores of on-time orders, solved so that all reviews together match SCORE_SHARE."""
    share = [
        (SCORE_SHARE[s] - LATE_SHARE * LATE_SCORE_SHARE[s])
        - UNDELIVERED_SHARE * UNDELIVERED_SCORE_SHARE[s]
        for s in range(1, 6)
    ]
    return np.array(share) / sum(share)


SCORE_P = {
    "on_time": _on_time_share(),
    "late": np.array([LATE_SCORE_SHARE[s] for s in range(1, 6)]),
    "undelivered": np.array([UNDELIVERED_SCORE_SHARE[s] for s in range(1, 6)]),
}
MESSAGE_P = np.array([0.75, 0.70, 0.50, 0.33, 0.33])  # chance of a message, by score 1-5
TITLE_P = np.array([0.20, 0.20, 0.15, 0.10, 0.10])
MOOD = np.array([2, 2, 1, 0, 0])
# Among late orders, the later the lower: scores go out by days late, with this much noise
# (standard deviation of the log of the days late).
LATENESS_NOISE = 2.5


@dataclass(frozen=True)
class Reviews:
    raw_id: np.ndarray  # (m, 16) uint8
    order: np.ndarray  # index of the review's order in the chunk
    score: np.ndarray
    title: np.ndarray  # row of ReviewText.titles
    message: np.ndarray  # row of ReviewText.messages
    created: np.ndarray  # midnight
    answered: np.ndarray

    def __len__(self) -> int:
        return len(self.order)


def _reviews_per_order(n: int, quirks: dict[str, int], rng: np.random.Generator) -> np.ndarray:
    count = np.ones(n, dtype=np.int64)
    pool = rng.permutation(n)
    cuts = np.cumsum([quirks["no_review"], quirks["two_reviews"], quirks["three_reviews"]])
    count[pool[: cuts[0]]] = 0
    count[pool[cuts[0] : cuts[1]]] = 2
    count[pool[cuts[1] : cuts[2]]] = 3
    return count


def make_reviews(
    orders: Orders, text: ReviewText, quirks: dict[str, int], rng: np.random.Generator
) -> Reviews:
    n = len(orders)
    count = _reviews_per_order(n, quirks, rng)
    order = np.repeat(np.arange(n), count)
    m = len(order)
    nth = np.arange(m) - (np.cumsum(count) - count)[order]

    # The survey goes out when the order arrives, ends, or is due.
    fate = orders.fate[order]
    sent = np.select(
        [fate == DELIVERED, np.isin(fate, (CANCELED, UNAVAILABLE))],
        [orders.delivered[order], orders.cancel[order]],
        orders.estimated[order],
    )
    later = np.where(rng.random(m) < 0.15, rng.integers(1, 4, m), 0)  # some answer late
    created = (sent // DAY + 1 + later + 3 * nth) * DAY
    answered = created + rng.integers(2 * HOUR, 5 * DAY, m)

    kind = np.where(
        fate != DELIVERED, 2, np.where(orders.late[order], 1, 0)
    )  # 0 on time, 1 late, 2 undelivered
    score = np.empty(m, dtype=np.int64)
    u = rng.random(m)
    for k, name in enumerate(("on_time", "late", "undelivered")):
        cdf = np.cumsum(SCORE_P[name])
        sel = kind == k
        score[sel] = 1 + np.minimum(np.searchsorted(cdf, u[sel], side="right"), 4)

    _by_lateness(score, np.flatnonzero(kind == 1), orders, order, rng)

    mood = MOOD[score - 1]
    has_title = rng.random(m) < TITLE_P[score - 1]
    has_message = rng.random(m) < MESSAGE_P[score - 1]
    title = mood * text.titles_per_mood + rng.integers(0, text.titles_per_mood, m)
    message = mood * text.messages_per_mood + rng.integers(0, text.messages_per_mood, m)
    reviews = Reviews(
        raw_id=rng.integers(0, 256, size=(m, 16), dtype=np.uint8),
        order=order,
        score=score,
        title=np.where(has_title, title, text.null_title),
        message=np.where(has_message, message, text.null_message),
        created=created,
        answered=answered,
    )
    _share_ids(reviews, orders, count, quirks["shared_review_id"], rng)
    return reviews


def _by_lateness(
    score: np.ndarray,
    late: np.ndarray,
    orders: Orders,
    order: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Give the late reviews' scores (already drawn) back out by lateness: the best to the
    least late, with noise, so the mix of late scores is unchanged and falls with delay."""
    days = (orders.delivered[order[late]] - orders.estimated[order[late]]) / DAY
    key = np.log(days) + rng.normal(0, LATENESS_NOISE, len(late))
    score[late[np.argsort(key, kind="stable")]] = np.sort(score[late])[::-1]


def _share_ids(
    r: Reviews, orders: Orders, count: np.ndarray, pairs: int, rng: np.random.Generator
) -> None:
    """One review for two orders placed one after the other: same id, score and text."""
    # Review rows of single-review orders, created within the data (so every pair is seen).
    single = np.flatnonzero((count[r.order] == 1) & (r.created <= DATA_END))
    single = single[np.argsort(orders.purchase[r.order[single]], kind="stable")]
    k = min(pairs, len(single) // 2)
    pos = 2 * rng.choice(len(single) // 2, size=k, replace=False)
    first, second = single[pos], single[pos + 1]
    for field in (r.raw_id, r.score, r.title, r.message):
        field[second] = field[first]
    for field in (r.created, r.answered):
        latest = np.maximum(field[first], field[second])
        field[first] = latest
        field[second] = latest
