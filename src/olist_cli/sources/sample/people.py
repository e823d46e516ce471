"""The people behind the orders: who buys once and who comes back.

Olist gives every order its own customer_id; the person is customer_unique_id. The
orders of all people are dealt out in one shuffled list before any order is generated,
so a repeat buyer's orders land in any chunk, and a person keeps one address.
Their ids are a keyed hash of the person's number (no table of ids is held in memory).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from olist_cli.sources.sample.geo import ZipUniverse, draw_prefixes
from olist_cli.sources.sample.places import STATES
from olist_cli.sources.sample.scaling import quirk_count

# People who bought k times (k >= 2) in the real data; everyone else bought once.
REPEAT_BUYERS: tuple[tuple[int, int], ...] = (
    (2, 2745), (3, 203), (4, 30), (5, 8), (6, 6), (7, 3), (9, 1), (17, 1),
)  # fmt: skip


@dataclass(frozen=True)
class People:
    order_person: np.ndarray  # (orders,) the person who placed each order
    zip_index: np.ndarray  # (people,) index into the zip universe
    id_keys: tuple[int, int]  # keys of the hash that makes customer_unique_id

    def unique_ids(self, person: np.ndarray) -> np.ndarray:
        """customer_unique_id bytes ``(n, 16)`` of the given people (distinct per person)."""
        x = person.astype(np.uint64)
        halves = [_splitmix64(x ^ np.uint64(key)) for key in self.id_keys]
        return np.stack(halves, axis=1).astype(">u8").view(np.uint8).reshape(len(x), 16)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """A bijection on uint64 (so distinct people get distinct ids); wraps on overflow."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def make_people(
    n_orders: int, scale: float, universe: ZipUniverse, rng: np.random.Generator
) -> People:
    habits: list[int] = []
    people: list[int] = []
    budget = n_orders
    for k, real in REPEAT_BUYERS:
        # Twice and thrice always occur from scale 0.01; rarer habits only at their rate.
        count = quirk_count(real, scale) if k <= 3 else round(real * scale)
        count = min(count, budget // k)
        habits.append(k)
        people.append(count)
        budget -= k * count
    orders_per_person = np.repeat(np.array(habits + [1]), people + [budget])
    n_people = len(orders_per_person)
    order_person = rng.permutation(np.repeat(np.arange(n_people), orders_per_person))
    weights = np.array([s.customers for s in STATES], dtype=np.float64)
    zip_index = draw_prefixes(universe, weights, n_people, rng)
    keys = rng.integers(0, 2**63, size=2)
    return People(order_person, zip_index, (int(keys[0]), int(keys[1])))
