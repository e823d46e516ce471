"""Products and sellers: the catalogue every order item points into.

Generated once per run, before any order, and written whole: as-of snapshots carry the
full catalogue (a dimension, not an event), so products and sellers files are the same
for every ``as_of`` of one seed and scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from olist_cli.sources.sample import cells
from olist_cli.sources.sample.categories import PRODUCTS_PER_CATEGORY
from olist_cli.sources.sample.geo import STATE_CELLS, ZipUniverse, draw_prefixes, zip_cells
from olist_cli.sources.sample.places import CITIES, STATES, accented
from olist_cli.sources.sample.scaling import apportion, quirk_count

NO_CATEGORY = len(PRODUCTS_PER_CATEGORY)  # category index of a product without one
CATEGORY_CELLS = cells.text_pool([name for name, _ in PRODUCTS_PER_CATEGORY] + [None])

PRICE_MEDIAN = 75.0
PRICE_SIGMA = 0.98  # lognormal: mean = 75 * exp(sigma^2 / 2) ≈ 121, the real mean
PRICE_MAX = 6735.00
# Items beyond each product's first sale go by a lognormal popularity: at scale 1 the best
# seller sells a few hundred times (the real one 527) and about half the products once.
POPULARITY_SIGMA = 1.6


@dataclass(frozen=True)
class Products:
    raw_id: np.ndarray  # (n, 16) uint8
    category: np.ndarray  # (n,) index into PRODUCTS_PER_CATEGORY, NO_CATEGORY for null
    name_len: np.ndarray
    description_len: np.ndarray
    photos: np.ndarray
    weight_g: np.ndarray
    length_cm: np.ndarray
    height_cm: np.ndarray
    width_cm: np.ndarray
    text_null: np.ndarray  # name, description and photos unknown
    size_null: np.ndarray  # weight and dimensions unknown
    price_cents: np.ndarray  # the price its seller asks
    seller: np.ndarray  # index into Sellers
    popularity: np.ndarray  # relative chance that an item (not a first sale) is this product

    def __len__(self) -> int:
        return len(self.category)


def _category_counts(n: int) -> np.ndarray:
    """Products per category, proportional to the real counts; one at least while n allows."""
    counts = apportion(n, [c for _, c in PRODUCTS_PER_CATEGORY])
    empty = np.flatnonzero(counts == 0)
    if n >= len(counts) and empty.size:
        counts[empty] = 1
        largest = np.argsort(-counts, kind="stable")[: empty.size]
        counts[largest] -= 1
    return counts


def make_products(n: int, n_sellers: int, scale: float, rng: np.random.Generator) -> Products:
    n_null_category = min(n - 1, quirk_count(610, scale)) if n > 1 else 0
    category = np.concatenate(
        [
            np.repeat(np.arange(NO_CATEGORY), _category_counts(n - n_null_category)),
            np.full(n_null_category, NO_CATEGORY),
        ]
    )
    category = rng.permutation(category)
    name_len = np.clip(np.round(rng.normal(51, 10, n)), 5, 76).astype(np.int64)
    description_len = np.clip(np.round(rng.lognormal(np.log(595), 0.75, n)), 4, 3992)
    photos = np.minimum(20, rng.geometric(0.55, n) + 3 * (rng.random(n) < 0.05))
    # Skewed in log space too: p10 175 g, median 700 g, p90 6,300 g as in the real data.
    z = rng.standard_normal(n)
    log_weight = np.log(700) + z * np.where(z < 0, 1.08, 1.71)
    weight = np.clip(np.round(np.exp(log_weight)), 2, 40425).astype(np.int64)
    # Boxes roughly follow the weight: a cube of the weight's volume, stretched at random.
    side = np.cbrt(weight.astype(np.float64)) * 1.4
    length = np.clip(np.round(side * rng.lognormal(0.3, 0.3, n)), 7, 105).astype(np.int64)
    height = np.clip(np.round(side * rng.lognormal(-0.3, 0.5, n)), 2, 105).astype(np.int64)
    width = np.clip(np.round(side * rng.lognormal(0.1, 0.3, n)), 6, 118).astype(np.int64)

    # Quirks: products without a category lack name, description and photos; one lacks
    # everything; a few lack weight and size; a few weigh 0 g.
    text_null = category == NO_CATEGORY
    size_null = np.zeros(n, dtype=bool)
    uncategorised = np.flatnonzero(text_null)
    categorised = np.flatnonzero(~text_null)
    n_all_null = min(len(uncategorised), quirk_count(1, scale))
    size_null[uncategorised[:n_all_null]] = True
    picks = rng.permutation(categorised)
    n_no_size = min(len(picks), quirk_count(1, scale))  # plus the all-null one: 2 in all
    size_null[picks[:n_no_size]] = True
    n_zero_g = min(len(picks) - n_no_size, quirk_count(4, scale))
    weight[picks[n_no_size : n_no_size + n_zero_g]] = 0

    price = np.clip(rng.lognormal(np.log(PRICE_MEDIAN), PRICE_SIGMA, n), 0.85, PRICE_MAX)
    price[np.argmax(price)] = PRICE_MAX  # the real catalogue's dearest item
    # Every seller sells at least one product; the rest go to sellers by a skewed weight.
    seller_weight = rng.lognormal(0.0, 1.4, n_sellers)
    seller = rng.choice(n_sellers, size=n, p=seller_weight / seller_weight.sum())
    first = rng.permutation(n)[: min(n, n_sellers)]
    seller[first] = np.arange(len(first))
    return Products(
        raw_id=rng.integers(0, 256, size=(n, 16), dtype=np.uint8),
        category=category,
        name_len=name_len,
        description_len=description_len.astype(np.int64),
        photos=photos.astype(np.int64),
        weight_g=weight,
        length_cm=length,
        height_cm=height,
        width_cm=width,
        text_null=text_null,
        size_null=size_null,
        price_cents=np.round(price * 100).astype(np.int64),
        seller=seller,
        popularity=rng.lognormal(0.0, POPULARITY_SIGMA, n),
    )


def products_bytes(p: Products) -> bytes:
    return cells.join_rows(
        [
            cells.hex_ids(p.raw_id),
            CATEGORY_CELLS[p.category],
            cells.integers(p.name_len, p.text_null),
            cells.integers(p.description_len, p.text_null),
            cells.integers(p.photos, p.text_null),
            cells.integers(p.weight_g, p.size_null),
            cells.integers(p.length_cm, p.size_null),
            cells.integers(p.height_cm, p.size_null),
            cells.integers(p.width_cm, p.size_null),
        ]
    )


@dataclass(frozen=True)
class Sellers:
    raw_id: np.ndarray  # (n, 16) uint8
    zip_index: np.ndarray  # index into the universe
    state: np.ndarray  # index into STATES: usually the zip's state, not always
    city: list[str]  # free text, as sellers typed it

    def __len__(self) -> int:
        return len(self.state)


def make_sellers(n: int, universe: ZipUniverse, scale: float, rng: np.random.Generator) -> Sellers:
    weights = np.array([s.sellers for s in STATES], dtype=np.float64)
    zip_index = draw_prefixes(universe, weights + 0.2, n, rng)
    # Shared prefixes: some sellers sit in the same prefix as another seller.
    n_shared = min(n - 1, quirk_count(250, scale)) if n > 1 else 0
    sharing = rng.choice(n, size=n_shared, replace=False)
    zip_index[sharing] = zip_index[rng.integers(0, n, n_shared)]
    state = universe.state[zip_index].copy()
    # A few sellers state another state than their zip's.
    n_wrong = min(n, quirk_count(35, scale))
    wrong = rng.choice(n, size=n_wrong, replace=False)
    state[wrong] = (state[wrong] + rng.integers(1, len(STATES), n_wrong)) % len(STATES)

    city = [CITIES[c].name for c in universe.city[zip_index]]
    _mess_up_cities(city, state, zip_index, universe, scale, rng)
    return Sellers(rng.integers(0, 256, size=(n, 16), dtype=np.uint8), zip_index, state, city)


def _mess_up_cities(
    city: list[str],
    state: np.ndarray,
    zip_index: np.ndarray,
    universe: ZipUniverse,
    scale: float,
    rng: np.random.Generator,
) -> None:
    """Seller cities are free text: accents, ' - sp' suffixes, typos, an e-mail, a number."""
    order = [int(i) for i in rng.permutation(len(city))]
    accentable = [i for i in order if accented(city[i]) != city[i]]
    with_accents = set(accentable[: quirk_count(40, scale)])
    for i in with_accents:
        city[i] = accented(city[i])
    plain = [i for i in order if i not in with_accents]
    kinds = (
        ("suffix", quirk_count(20, scale)),
        ("typo", quirk_count(15, scale)),
        ("email", quirk_count(1, scale)),
        ("number", quirk_count(1, scale)),
    )
    pos = 0
    for kind, count in kinds:
        for i in plain[pos : pos + count]:
            if kind == "suffix":
                city[i] = f"{city[i]} - {STATES[state[i]].code.lower()}"
            elif kind == "typo":
                city[i] = city[i] + "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(0, 26))]
            elif kind == "email":
                city[i] = f"vendas@{city[i].split(' ')[0]}pecas.com.br"
            else:  # the zip code, typed in the city box
                city[i] = f"{universe.prefix[zip_index[i]]:05d}{int(rng.integers(0, 1000)):03d}"
        pos += count


def sellers_bytes(s: Sellers, universe: ZipUniverse) -> bytes:
    return cells.join_rows(
        [
            cells.hex_ids(s.raw_id),
            zip_cells(universe.prefix[s.zip_index]),
            cells.text_pool(s.city),
            STATE_CELLS[s.state],
        ]
    )
