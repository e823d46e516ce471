"""Product measures: name and description lengths, photos, weight and box size.

Each measure follows the real products file's percentiles (docs/sample-generator.md lists
the figures and the tolerances the tests hold them to). Most are drawn through a quantile
function (``Quantiles``): straight lines between known percentiles, so the percentiles the
profile names come out as they are, and a flat stretch makes a pile of equal values, such
as the boxes at the postal minimum of 16 × 11 cm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from olist_cli.sources.sample.scaling import apportion


@dataclass(frozen=True)
class Quantiles:
    """A quantile function through ``(share, value)`` points, rounded to integers."""

    points: tuple[tuple[float, float], ...]

    def at(self, u: np.ndarray) -> np.ndarray:
        shares, values = zip(*self.points, strict=True)
        return np.round(np.interp(u, shares, values)).astype(np.int64)


# Real: p1 20, median 51, mean 48.5, p99 63, from 5 to 76 characters (a long left tail).
NAME_LENGTH = Quantiles(
    ((0, 5), (0.01, 20.8), (0.05, 29), (0.10, 35), (0.25, 43), (0.5, 51), (0.75, 56.5),
     (0.99, 63), (1, 76))
)  # fmt: skip
# Boxes, in cm. Length: 0.4% under 16 cm (the postal minimum), a pile at 16, p10/p50/p90
# 16/25/53. Width: 0.2% under 11 cm, a pile at 11, p10/p50 11/20. Height: p50/p90 13/33,
# mean 16.9. The ends are the real extremes (7-105, 6-118, 2-105).
LENGTH = Quantiles(
    ((0, 6.5), (0.004, 15.49), (0.0041, 15.5), (0.16, 16.49), (0.25, 18.5), (0.5, 25.4),
     (0.75, 37), (0.9, 53.4), (0.98, 80), (0.995, 100), (1, 105.4))
)  # fmt: skip
WIDTH = Quantiles(
    ((0, 5.5), (0.002, 10.49), (0.0021, 10.5), (0.12, 11.49), (0.25, 15.4), (0.5, 20.4),
     (0.75, 30), (0.9, 38), (0.98, 52), (0.995, 90), (1, 118.4))
)  # fmt: skip
HEIGHT = Quantiles(
    ((0, 1.5), (0.10, 4), (0.25, 8.4), (0.5, 13.4), (0.75, 21), (0.9, 33.4), (0.95, 40),
     (0.99, 60), (1, 105.4))
)  # fmt: skip
# How closely a box follows its product's weight (correlation of the normal scores).
SIZE_FOLLOWS_WEIGHT = 0.6

# Photos per product: 1 to 20, a table shaped like the real counts (mean 2.19, median 1).
PHOTOS = {
    1: 16489, 2: 6263, 3: 3860, 4: 2428, 5: 1484, 6: 968, 7: 343, 8: 192, 9: 105, 10: 95,
    11: 46, 12: 35, 13: 10, 14: 5, 15: 8, 16: 3, 17: 4, 18: 1, 19: 1, 20: 1,
}  # fmt: skip

# Weights: log-normal with a heavier upper side (p10 175 g, median 700 g, p90 6,300 g),
# typed to the nearest 50 g, 10 g or gram (84% come out as multiples of 50 g, and about
# 2,200 distinct weights at scale 1, as in the real file).
WEIGHT_MAX = 40425
WEIGHT_STEPS = {50: 0.81, 10: 0.16, 1: 0.03}


@dataclass(frozen=True)
class Measures:
    name_len: np.ndarray
    description_len: np.ndarray
    photos: np.ndarray
    weight_g: np.ndarray
    length_cm: np.ndarray
    height_cm: np.ndarray
    width_cm: np.ndarray


def _dealt(n: int, counts: dict[int, int], rng: np.random.Generator) -> np.ndarray:
    """``n`` values in the table's proportions, exactly (largest remainder), shuffled."""
    values = np.repeat(np.array(list(counts)), apportion(n, list(counts.values())))
    return rng.permutation(values)


def _ranks(z: np.ndarray) -> np.ndarray:
    """Each value's rank as a share in (0, 1): the exact spread of a uniform draw."""
    rank = np.empty(len(z), dtype=np.float64)
    rank[np.argsort(z, kind="stable")] = np.arange(len(z))
    return (rank + 0.5) / len(z)


def _weights(z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(z)
    log_weight = np.log(700) + z * np.where(z < 0, 1.08, 1.71)
    grams = np.exp(log_weight)
    steps = np.array(list(WEIGHT_STEPS))
    step = steps[rng.choice(len(steps), size=n, p=list(WEIGHT_STEPS.values()))]
    weight = np.maximum(step, np.round(grams / step) * step)
    return np.minimum(weight, WEIGHT_MAX - WEIGHT_MAX % step).astype(np.int64)


def make_measures(n: int, rng: np.random.Generator) -> Measures:
    name_len = NAME_LENGTH.at(rng.random(n))
    description_len = np.clip(np.round(rng.lognormal(np.log(595), 0.75, n)), 4, 3992)
    photos = _dealt(n, PHOTOS, rng)
    z = rng.standard_normal(n)
    weight = _weights(z, rng)
    # A box follows its weight loosely: each side's normal score is correlated with the
    # weight's, and its rank among the products picks its size from the side's quantiles.
    rho = SIZE_FOLLOWS_WEIGHT
    sides = []
    for quantiles in (LENGTH, HEIGHT, WIDTH):
        score = rho * z + np.sqrt(1 - rho**2) * rng.standard_normal(n)
        sides.append(quantiles.at(_ranks(score)))
    length, height, width = sides
    return Measures(
        name_len=name_len,
        description_len=description_len.astype(np.int64),
        photos=photos.astype(np.int64),
        weight_g=weight,
        length_cm=length,
        height_cm=height,
        width_cm=width,
    )
