"""Zip prefixes (the universe every address is drawn from) and the geolocation table.

Every customer and seller takes its zip prefix from the universe, and geolocation holds
at least one row for each prefix of the universe, so every address joins. Each prefix
belongs to one town of its state: a town with a CEP range of its own (the capitals,
Greater São Paulo) takes its prefixes there; the others share the rest of the state's
ranges in contiguous blocks, in the order ``towns`` lists them, as CEP ranges do. Prefixes
go to towns by their size, at least one each while the state has enough.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from olist_cli.sources.sample import cells
from olist_cli.sources.sample.places import CITIES, STATES
from olist_cli.sources.sample.scaling import apportion, apportion_capped, n_geolocation_rows

GEO_DUPLICATE_SHARE = 0.26  # of geolocation rows that repeat another row exactly
GEO_ACCENTED_SHARE = 0.12  # of rows of an accentable city spelt with accents
_DEGREE_UNITS = 10**14  # coordinates are written with 14 decimals, as the real file
# A town's prefixes lie within this many degrees times the square root of its people
# (thousands) from its centre: about 0.2 degree for São Paulo, 0.01 for a town of 30,000.
TOWN_RADIUS = 0.0018
MIN_TOWN_RADIUS = 0.005
POINT_SPREAD = 0.006  # degrees: how far a prefix's points lie from its centre


@dataclass(frozen=True)
class ZipUniverse:
    prefix: np.ndarray  # (U,) int64, sorted
    state: np.ndarray  # (U,) int64 index into STATES
    city: np.ndarray  # (U,) int64 index into CITIES
    popularity: np.ndarray  # (U,) float64 relative share of the people living there
    lat: np.ndarray  # (U,) float64 centre of the prefix
    lng: np.ndarray


def _span(ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    return np.concatenate([np.arange(lo, hi + 1) for lo, hi in ranges])


def _state_prefix_counts(total: int) -> np.ndarray:
    """Prefixes per state: half by customers, half by CEP range size; 2 or more each."""
    cust = np.array([s.customers for s in STATES], dtype=np.float64)
    size = np.array([len(_span(s.zip_ranges)) for s in STATES], float)
    weight = cust / cust.sum() + size / size.sum()
    counts = np.maximum(2, apportion(total - 2 * len(STATES), weight) + 2)
    return np.minimum(counts, size.astype(np.int64))


def _town_prefix_counts(n: int, people: np.ndarray, own: np.ndarray, rest: int) -> np.ndarray:
    """Prefixes per town of a state: one each (the largest first while ``n`` is short), the
    rest by size; a town with its own ranges holds at most their ``own`` size, the others
    together at most the ``rest`` of the state's ranges."""
    k = len(people)
    counts = np.zeros(k, dtype=np.int64)
    if n <= k:
        counts[np.argsort(-people, kind="stable")[:n]] = 1
        return counts
    caps = np.where(own > 0, own, rest) - 1
    counts = 1 + apportion_capped(n - k, people, caps)
    shared = own == 0
    while (excess := int(counts[shared].sum()) - rest) > 0:  # only near a full state
        room = np.flatnonzero(~shared & (counts < own))
        give = min(excess, len(room))
        counts[room[:give]] += 1
        largest = np.argsort(-np.where(shared, counts, -1), kind="stable")[:give]
        counts[largest] -= 1
    return counts


def _state_prefixes(s: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The prefixes of state ``s`` and the town (index into CITIES) of each."""
    towns = np.array([i for i, c in enumerate(CITIES) if c.state == s])
    people = np.array([CITIES[i].people for i in towns], dtype=np.float64)
    own_ranges = [CITIES[i].zip_ranges for i in towns]
    own = np.array([len(_span(r)) if r else 0 for r in own_ranges])
    taken = np.concatenate([_span(r) for r in own_ranges if r] or [np.array([], int)])
    rest = np.setdiff1d(_span(STATES[s].zip_ranges), taken)
    counts = _town_prefix_counts(n, people, own, len(rest))
    shared = np.flatnonzero((own == 0) & (counts > 0))
    blocks = np.split(rest, np.cumsum(apportion(len(rest), counts[shared]))[:-1])
    block_of = dict(zip(shared.tolist(), blocks, strict=True))
    prefixes, town = [], []
    for t in np.flatnonzero(counts):
        pool = _span(own_ranges[t]) if own[t] else block_of[int(t)]
        prefixes.append(rng.choice(pool, size=int(counts[t]), replace=False))
        town.append(np.full(int(counts[t]), towns[t]))
    return np.concatenate(prefixes), np.concatenate(town)


def make_universe(n_prefixes: int, rng: np.random.Generator) -> ZipUniverse:
    counts = _state_prefix_counts(n_prefixes)
    parts = [_state_prefixes(s, int(counts[s]), rng) for s in range(len(STATES))]
    prefix = np.concatenate([p for p, _ in parts]).astype(np.int64)
    city = np.concatenate([t for _, t in parts]).astype(np.int64)
    order = np.argsort(prefix, kind="stable")
    prefix, city = prefix[order], city[order]
    n = len(prefix)
    # Each prefix's centre: somewhere in its town, the larger the town the farther out.
    people = np.array([c.people for c in CITIES], dtype=np.float64)
    radius = np.maximum(MIN_TOWN_RADIUS, TOWN_RADIUS * np.sqrt(people))[city]
    distance = radius * np.sqrt(rng.random(n))
    angle = rng.uniform(0, 2 * np.pi, n)
    town_lat = np.array([c.lat for c in CITIES])[city]
    town_lng = np.array([c.lng for c in CITIES])[city]
    return ZipUniverse(
        prefix=prefix,
        state=np.array([c.state for c in CITIES], dtype=np.int64)[city],
        city=city,
        popularity=rng.lognormal(0.0, 1.0, n),
        lat=town_lat + distance * np.sin(angle),
        lng=town_lng + distance * np.cos(angle),
    )


def draw_in_cities(universe: ZipUniverse, city: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each entry of ``city`` (index into CITIES, a town the universe holds), one of
    its prefixes (index into the universe), by popularity."""
    order = np.argsort(universe.city, kind="stable")
    towns = universe.city[order]
    cum = np.cumsum(universe.popularity[order])
    start = np.searchsorted(towns, city, side="left")
    stop = np.searchsorted(towns, city, side="right")
    before = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    target = before + rng.random(len(city)) * (cum[stop - 1] - before)
    pos = np.clip(np.searchsorted(cum, target, side="right"), start, stop - 1)
    return order[pos]


def draw_prefixes(
    universe: ZipUniverse, state_weights: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Indices into the universe for ``n`` addresses with the given state mix."""
    by_state = np.bincount(universe.state, weights=universe.popularity, minlength=len(STATES))
    share = np.asarray(state_weights, float) / np.sum(state_weights)
    p = universe.popularity * (share / by_state)[universe.state]
    return rng.choice(len(universe.prefix), size=n, p=p / p.sum())


def zip_cells(prefix: np.ndarray) -> cells.Cells:
    """Zip prefixes as quoted five-digit strings with leading zeros (``"01046"``)."""
    digits = cells.integers(prefix + 100_000)[:, 1:]  # the leading 1 keeps the zeros
    quote = np.full((len(prefix), 1), cells.QUOTE, np.uint8)
    return np.hstack([quote, digits, quote])


# Pre-formatted cells of every city and state name, indexed like CITIES and STATES.
CITY_CELLS = cells.text_pool([c.name for c in CITIES])
_HAS_ACCENTS = np.array([c.spelling != c.name for c in CITIES])
STATE_CELLS = cells.text_pool([s.code for s in STATES])
# Geolocation's city cells: row ``city`` as customers spell it, ``len(CITIES) + city``
# with accents.
_GEO_CITY_CELLS = cells.text_pool([c.name for c in CITIES] + [c.spelling for c in CITIES])


@dataclass(frozen=True)
class Geolocation:
    """The geolocation rows, ready to format in slices."""

    zip_index: np.ndarray  # (R,) index into the universe
    lat: np.ndarray  # (R,) int64 in 1e-14 degrees
    lng: np.ndarray
    accented: np.ndarray  # (R,) bool: city spelt with accents

    def __len__(self) -> int:
        return len(self.zip_index)


def make_geolocation(universe: ZipUniverse, rng: np.random.Generator) -> Geolocation:
    n_prefix = len(universe.prefix)
    total = n_geolocation_rows(n_prefix)
    n_unique = max(n_prefix, round(total * (1 - GEO_DUPLICATE_SHARE)))
    extra = rng.multinomial(n_unique - n_prefix, universe.popularity / universe.popularity.sum())
    zip_index = np.repeat(np.arange(n_prefix), 1 + extra)
    lat = universe.lat[zip_index] + rng.normal(0, POINT_SPREAD, n_unique)
    lng = universe.lng[zip_index] + rng.normal(0, POINT_SPREAD, n_unique)
    accent = _HAS_ACCENTS[universe.city[zip_index]] & (rng.random(n_unique) < GEO_ACCENTED_SHARE)
    # Exact duplicates: copies of random rows, then every row sorted by prefix like the
    # real file (ties in a random order, so copies do not always sit next to each other).
    rows = np.concatenate([np.arange(n_unique), rng.integers(0, n_unique, total - n_unique)])
    rows = rows[np.lexsort((rng.random(len(rows)), zip_index[rows]))]
    return Geolocation(
        zip_index=zip_index[rows],
        lat=np.round(lat * _DEGREE_UNITS).astype(np.int64)[rows],
        lng=np.round(lng * _DEGREE_UNITS).astype(np.int64)[rows],
        accented=accent[rows],
    )


def geolocation_bytes(geo: Geolocation, universe: ZipUniverse, start: int, stop: int) -> bytes:
    """Rows ``start:stop`` of the geolocation file."""
    z = geo.zip_index[start:stop]
    city = universe.city[z] + len(CITIES) * geo.accented[start:stop]
    return cells.join_rows(
        [
            zip_cells(universe.prefix[z]),
            cells.decimals(geo.lat[start:stop], 14),
            cells.decimals(geo.lng[start:stop], 14),
            _GEO_CITY_CELLS[city],
            STATE_CELLS[universe.state[z]],
        ]
    )
