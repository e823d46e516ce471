"""Zip prefixes (the universe every address is drawn from) and the geolocation table.

Every customer and seller takes its zip prefix from the universe, and geolocation holds
at least one row for each prefix of the universe, so every address joins. Each prefix
belongs to one city of its state: a state's sorted prefixes are cut into contiguous
blocks, the largest city getting the largest block, as CEP ranges do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from olist_cli.sources.sample import cells
from olist_cli.sources.sample.places import CITIES, STATES, accented
from olist_cli.sources.sample.scaling import apportion, n_geolocation_rows

GEO_DUPLICATE_SHARE = 0.26  # of geolocation rows that repeat another row exactly
GEO_ACCENTED_SHARE = 0.12  # of rows of an accentable city spelt with accents
_DEGREE_UNITS = 10**14  # coordinates are written with 14 decimals, as the real file


@dataclass(frozen=True)
class ZipUniverse:
    prefix: np.ndarray  # (U,) int64, sorted
    state: np.ndarray  # (U,) int64 index into STATES
    city: np.ndarray  # (U,) int64 index into CITIES
    popularity: np.ndarray  # (U,) float64 relative share of the people living there
    lat: np.ndarray  # (U,) float64 centre of the prefix
    lng: np.ndarray


def _state_prefix_counts(total: int) -> np.ndarray:
    """Prefixes per state: half by customers, half by CEP range size; 2 or more each."""
    cust = np.array([s.customers for s in STATES], dtype=np.float64)
    size = np.array([sum(hi - lo + 1 for lo, hi in s.zip_ranges) for s in STATES], float)
    weight = cust / cust.sum() + size / size.sum()
    counts = np.maximum(2, apportion(total - 2 * len(STATES), weight) + 2)
    return np.minimum(counts, size.astype(np.int64))


def make_universe(n_prefixes: int, rng: np.random.Generator) -> ZipUniverse:
    counts = _state_prefix_counts(n_prefixes)
    city_base = np.cumsum([0] + [len(s.cities) for s in STATES])
    prefixes, states, cities, lats, lngs = [], [], [], [], []
    for s, state in enumerate(STATES):
        span = np.concatenate([np.arange(lo, hi + 1) for lo, hi in state.zip_ranges])
        chosen = np.sort(rng.choice(span, size=int(counts[s]), replace=False))
        n_cities = len(state.cities)
        # Zipf-like city sizes: the first city (the capital) holds the most prefixes.
        per_city = apportion(len(chosen), 1.0 / np.arange(1, n_cities + 1) ** 1.2)
        city = np.repeat(np.arange(n_cities), per_city) + city_base[s]
        city_lat = state.lat + rng.normal(0, state.spread, n_cities)
        city_lng = state.lng + rng.normal(0, state.spread, n_cities)
        local = city - city_base[s]
        prefixes.append(chosen)
        states.append(np.full(len(chosen), s))
        cities.append(city)
        lats.append(city_lat[local] + rng.normal(0, 0.04, len(chosen)))
        lngs.append(city_lng[local] + rng.normal(0, 0.04, len(chosen)))
    n = int(counts.sum())
    return ZipUniverse(
        prefix=np.concatenate(prefixes).astype(np.int64),
        state=np.concatenate(states).astype(np.int64),
        city=np.concatenate(cities).astype(np.int64),
        popularity=rng.lognormal(0.0, 1.0, n),
        lat=np.concatenate(lats),
        lng=np.concatenate(lngs),
    )


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
_HAS_ACCENTS = np.array([accented(c.name) != c.name for c in CITIES])
STATE_CELLS = cells.text_pool([s.code for s in STATES])
# Geolocation's city cells: row ``city`` as customers spell it, ``len(CITIES) + city``
# with accents.
_GEO_CITY_CELLS = cells.text_pool([c.name for c in CITIES] + [accented(c.name) for c in CITIES])


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
    lat = universe.lat[zip_index] + rng.normal(0, 0.01, n_unique)
    lng = universe.lng[zip_index] + rng.normal(0, 0.01, n_unique)
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
