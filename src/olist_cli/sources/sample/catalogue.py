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
from olist_cli.sources.sample.geo import STATE_CELLS, ZipUniverse, draw_in_cities, zip_cells
from olist_cli.sources.sample.measures import make_measures
from olist_cli.sources.sample.places import CITIES, STATES
from olist_cli.sources.sample.scaling import apportion, quirk_count

NO_CATEGORY = len(PRODUCTS_PER_CATEGORY)  # category index of a product without one
CATEGORY_CELLS = cells.text_pool([name for name, _ in PRODUCTS_PER_CATEGORY] + [None])

PRICE_MEDIAN = 75.0
PRICE_SIGMA = 0.98  # lognormal: mean = 75 * exp(sigma^2 / 2) ≈ 121, the real mean
PRICE_MAX = 6735.00
# Items beyond each product's first sale go by a lognormal popularity: at scale 1 the best
# seller sells a few hundred times (the real one 527) and about half the products once.
POPULARITY_SIGMA = 1.6
SHARED_ZIP_SELLERS = 250  # sellers copying the zip prefix of another seller of their town


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
    dearest: int  # the product with the highest price

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
    m = make_measures(n, rng)
    weight = m.weight_g.copy()

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
    dearest = int(np.argmax(price))
    price[dearest] = PRICE_MAX  # the real catalogue's dearest item
    # Every seller sells at least one product; the rest go to sellers by a skewed weight.
    seller_weight = rng.lognormal(0.0, 1.4, n_sellers)
    seller = rng.choice(n_sellers, size=n, p=seller_weight / seller_weight.sum())
    first = rng.permutation(n)[: min(n, n_sellers)]
    seller[first] = np.arange(len(first))
    return Products(
        raw_id=rng.integers(0, 256, size=(n, 16), dtype=np.uint8),
        category=category,
        name_len=m.name_len,
        description_len=m.description_len,
        photos=m.photos,
        weight_g=weight,
        length_cm=m.length_cm,
        height_cm=m.height_cm,
        width_cm=m.width_cm,
        text_null=text_null,
        size_null=size_null,
        price_cents=np.round(price * 100).astype(np.int64),
        seller=seller,
        popularity=rng.lognormal(0.0, POPULARITY_SIGMA, n),
        dearest=dearest,
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


# The real sellers' ten commonest cities (share of sellers). São Paulo's is its plain
# spelling's 22.4% plus what the spelling quirks below take from it.
SELLER_CITY_SHARES = {
    ("SP", "são paulo"): 0.231, ("PR", "curitiba"): 0.041, ("RJ", "rio de janeiro"): 0.031,
    ("MG", "belo horizonte"): 0.022, ("SP", "ribeirão preto"): 0.017, ("SP", "guarulhos"): 0.016,
    ("SP", "ibitinga"): 0.016, ("SP", "santo andré"): 0.015, ("SP", "campinas"): 0.013,
    ("PR", "maringá"): 0.013,
}  # fmt: skip
# The other sellers of a state spread over its towns by min(people, SELLER_TAIL_CAP) **
# SELLER_TAIL_POWER: a long tail (611 spellings for 3,095 sellers at scale 1, with the
# spelling quirks), in which Greater São Paulo keeps a third of the zips starting with 0.
SELLER_TAIL_POWER = 1.8
SELLER_TAIL_CAP = 150  # thousand people: no town of the tail outweighs one of this size


def _seller_city_weights(present: np.ndarray) -> np.ndarray:
    """Each town's share of the sellers (towns the universe does not hold get none)."""
    state_share = np.array([s.sellers for s in STATES], dtype=np.float64)
    state_share /= state_share.sum()
    weight = np.zeros(len(CITIES))
    fixed = np.zeros(len(CITIES), dtype=bool)
    for (code, spelling), share in SELLER_CITY_SHARES.items():
        (i,) = [
            i
            for i, c in enumerate(CITIES)
            if c.spelling == spelling and STATES[c.state].code == code
        ]
        weight[i], fixed[i] = share, True
    city_state = np.array([c.state for c in CITIES])
    tail = present & ~fixed
    people = np.array([c.people for c in CITIES], dtype=np.float64)
    people = np.minimum(people, SELLER_TAIL_CAP) ** SELLER_TAIL_POWER
    for s in range(len(STATES)):
        in_state = tail & (city_state == s)
        left = state_share[s] - weight[fixed & (city_state == s)].sum()
        if in_state.any():
            weight[in_state] = left * people[in_state] / people[in_state].sum()
    return np.where(present, weight, 0.0)


def _seller_towns(n: int, universe: ZipUniverse) -> np.ndarray:
    """Sellers per town (index into CITIES), exactly: dealt out to the states by their real
    counts (so a state with one real seller keeps it), then to the towns of each."""
    present = np.bincount(universe.city, minlength=len(CITIES)) > 0
    weight = _seller_city_weights(present)
    city_state = np.array([c.state for c in CITIES])
    per_state = apportion(n, [s.sellers for s in STATES])
    counts = np.zeros(len(CITIES), dtype=np.int64)
    for s in np.flatnonzero(per_state):
        towns = np.flatnonzero((city_state == s) & present)
        counts[towns] = apportion(int(per_state[s]), weight[towns])
    return counts


def make_sellers(n: int, universe: ZipUniverse, scale: float, rng: np.random.Generator) -> Sellers:
    # Each seller has a town, then one of its town's prefixes.
    counts = _seller_towns(n, universe)
    town = rng.permutation(np.repeat(np.arange(len(CITIES)), counts))
    zip_index = draw_in_cities(universe, town, rng)
    # Shared prefixes: some sellers sit in the same prefix as another seller of their town
    # (on top of those who share one by chance: a small town has one or two prefixes).
    n_shared = min(n - 1, quirk_count(SHARED_ZIP_SELLERS, scale)) if n > 1 else 0
    by_town = np.argsort(town, kind="stable")
    first = np.searchsorted(town[by_town], town, side="left")
    size = np.bincount(town, minlength=len(CITIES))[town]
    sharing = rng.permutation(np.flatnonzero(size > 1))[:n_shared]
    other = by_town[first[sharing] + rng.integers(0, size[sharing])]
    zip_index[sharing] = zip_index[other]
    state = universe.state[zip_index].copy()
    # A few sellers state another state than their zip's (one where sellers are).
    n_wrong = min(n, quirk_count(35, scale))
    wrong = rng.choice(n, size=n_wrong, replace=False)
    weights = np.array([s.sellers for s in STATES], dtype=np.float64)
    for i in wrong:
        p = np.where(np.arange(len(STATES)) == state[i], 0.0, weights)
        state[i] = rng.choice(len(STATES), p=p / p.sum())

    city = [CITIES[c].name for c in universe.city[zip_index]]
    _mess_up_cities(city, universe.city[zip_index], state, zip_index, universe, scale, rng)
    return Sellers(rng.integers(0, 256, size=(n, 16), dtype=np.uint8), zip_index, state, city)


def _mess_up_cities(
    city: list[str],
    town: np.ndarray,
    state: np.ndarray,
    zip_index: np.ndarray,
    universe: ZipUniverse,
    scale: float,
    rng: np.random.Generator,
) -> None:
    """Seller cities are free text: accents, ' - sp' suffixes, typos, an e-mail, a number."""
    order = [int(i) for i in rng.permutation(len(city))]
    accentable = [i for i in order if CITIES[town[i]].spelling != city[i]]
    with_accents = set(accentable[: quirk_count(40, scale)])
    for i in with_accents:
        city[i] = CITIES[town[i]].spelling
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
