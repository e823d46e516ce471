"""When orders are placed: the real monthly curve, weekdays, Black Friday, hours of the day.

The data starts with the first purchase on 2016-09-04 and ends on 2018-10-17, the day of
the last purchase: the full sample is the world as known at the end of that day.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt

import numpy as np

from olist_cli.sources.sample.scaling import apportion

FIRST_PURCHASE_DAY = dt.date(2016, 9, 4)
DATA_END_DAY = dt.date(2018, 10, 17)
EPOCH = dt.datetime(1970, 1, 1)
DAY = 86_400


def end_of_day(day: dt.date) -> int:
    """Unix seconds of ``day`` at 23:59:59."""
    return int((dt.datetime.combine(day, dt.time(23, 59, 59)) - EPOCH).total_seconds())


def day_start(day: dt.date) -> int:
    return (day - EPOCH.date()).days * DAY


# Real orders per purchase month.
MONTHLY_ORDERS: dict[tuple[int, int], int] = {
    (2016, 9): 4, (2016, 10): 324, (2016, 12): 1,
    (2017, 1): 800, (2017, 2): 1780, (2017, 3): 2682, (2017, 4): 2404, (2017, 5): 3700,
    (2017, 6): 3245, (2017, 7): 4026, (2017, 8): 4331, (2017, 9): 4285, (2017, 10): 4631,
    (2017, 11): 7544, (2017, 12): 5673,
    (2018, 1): 7269, (2018, 2): 6728, (2018, 3): 7211, (2018, 4): 6939, (2018, 5): 6873,
    (2018, 6): 6167, (2018, 7): 6292, (2018, 8): 6512, (2018, 9): 16, (2018, 10): 4,
}  # fmt: skip

# Days whose real count is known; the rest of their month shares what is left.
FIXED_DAYS: dict[dt.date, float] = {
    dt.date(2016, 9, 4): 1, dt.date(2016, 9, 5): 1, dt.date(2016, 9, 13): 1,
    dt.date(2016, 9, 15): 1, dt.date(2016, 12, 23): 1,
    dt.date(2017, 11, 24): 1176, dt.date(2017, 11, 25): 499, dt.date(2017, 11, 26): 391,
    dt.date(2017, 11, 27): 403,
    dt.date(2018, 10, 1): 1, dt.date(2018, 10, 3): 1, dt.date(2018, 10, 16): 1,
    dt.date(2018, 10, 17): 1,
}  # fmt: skip

# Months whose orders fall only on some days (the rest of the month is empty).
ACTIVE_DAYS: dict[tuple[int, int], range] = {
    (2016, 10): range(2, 11),
    (2018, 8): range(1, 30),
}

WEEKDAY_WEIGHT = (1.16, 1.15, 1.11, 1.07, 1.01, 0.78, 0.86)  # Monday first
HOUR_WEIGHT = (
    2.4, 1.1, 0.5, 0.3, 0.2, 0.2, 0.5, 1.2, 3.0, 4.8, 6.2, 6.6,
    6.0, 6.6, 6.7, 6.4, 6.7, 6.1, 5.8, 5.9, 6.2, 6.2, 5.8, 4.1,
)  # fmt: skip


def _day_weights() -> tuple[np.ndarray, np.ndarray]:
    """(first second of each day, its share of all orders), FIRST_PURCHASE_DAY onwards."""
    starts: list[int] = []
    weights: list[float] = []
    for (year, month), total in MONTHLY_ORDERS.items():
        days = [dt.date(year, month, d) for d in range(1, _cal.monthrange(year, month)[1] + 1)]
        fixed = {d: FIXED_DAYS[d] for d in days if d in FIXED_DAYS}
        rest = total - sum(fixed.values())
        active = ACTIVE_DAYS.get((year, month))
        free = [d for d in days if d not in fixed and (active is None or d.day in active)]
        if rest <= 0:
            free = []
        free_weight = sum(WEEKDAY_WEIGHT[d.weekday()] for d in free)
        for d in days:
            if d in fixed:
                w = fixed[d]
            elif d in free:
                w = rest * WEEKDAY_WEIGHT[d.weekday()] / free_weight
            else:
                continue
            starts.append(day_start(d))
            weights.append(w)
    w = np.array(weights)
    return np.array(starts, dtype=np.int64), w / w.sum()


_DAY_STARTS, _DAY_P = _day_weights()
_HOUR_P = np.array(HOUR_WEIGHT) / sum(HOUR_WEIGHT)


def purchase_times(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unix seconds of ``n`` purchases, in random order.

    Days get their exact share of ``n`` (largest remainder), so the monthly curve, the
    Black Friday peak and the last purchase day hold exactly at scale 1.
    """
    day = rng.permutation(np.repeat(np.arange(len(_DAY_STARTS)), apportion(n, _DAY_P)))
    hour = rng.choice(24, size=n, p=_HOUR_P)
    return _DAY_STARTS[day] + hour * 3600 + rng.integers(0, 3600, n)
