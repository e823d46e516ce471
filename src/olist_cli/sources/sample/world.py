"""The whole generated world: shared parts first, then orders chunk by chunk.

Random streams are fixed by the seed alone: ``SeedSequence(seed)`` spawns one child per
shared part and one per chunk of ``CHUNK_ORDERS`` orders, each drawn in a fixed order. A
chunk depends only on its own stream and the shared parts, so output does not depend on
memory, and ``as_of`` (applied afterwards) never changes what is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from olist_cli.sources.sample import cells
from olist_cli.sources.sample.catalogue import Products, Sellers, make_products, make_sellers
from olist_cli.sources.sample.geo import Geolocation, ZipUniverse, make_geolocation, make_universe
from olist_cli.sources.sample.items import Items, first_sales, make_items
from olist_cli.sources.sample.orders import Orders, make_orders
from olist_cli.sources.sample.payments import Payments, make_payments
from olist_cli.sources.sample.people import People, make_people
from olist_cli.sources.sample.quirks import chunk_quirks
from olist_cli.sources.sample.reviews import Reviews, make_reviews
from olist_cli.sources.sample.scaling import (
    chunk_sizes,
    n_orders,
    n_products,
    n_sellers,
    n_zip_prefixes,
)
from olist_cli.sources.sample.text import ReviewText, make_text


@dataclass(frozen=True)
class World:
    universe: ZipUniverse
    products: Products
    sellers: Sellers
    people: People
    text: ReviewText
    geolocation: Geolocation
    product_id_cells: cells.Cells
    seller_id_cells: cells.Cells
    chunk_sizes: list[int]
    chunk_quirks: list[dict[str, int]]
    chunk_seeds: list[np.random.SeedSequence]
    chunk_first_sales: list[np.ndarray]  # per chunk, the products it sells once for sure


@dataclass(frozen=True)
class Chunk:
    orders: Orders
    items: Items
    payments: Payments
    reviews: Reviews


def _rng(seed: np.random.SeedSequence) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


def make_world(scale: float, seed: int) -> World:
    streams = np.random.SeedSequence(seed).spawn(7)
    universe_ss, catalogue_ss, people_ss, geo_ss, text_ss, orders_ss, sales_ss = streams
    universe = make_universe(n_zip_prefixes(scale), _rng(universe_ss))
    catalogue_rng = _rng(catalogue_ss)
    sellers = make_sellers(n_sellers(scale), universe, scale, catalogue_rng)
    products = make_products(n_products(scale), len(sellers), scale, catalogue_rng)
    sizes = chunk_sizes(n_orders(scale))
    quirks = chunk_quirks(scale, sizes)
    return World(
        universe=universe,
        products=products,
        sellers=sellers,
        people=make_people(n_orders(scale), scale, universe, _rng(people_ss)),
        text=make_text(_rng(text_ss)),
        geolocation=make_geolocation(universe, _rng(geo_ss)),
        product_id_cells=cells.hex_ids(products.raw_id),
        seller_id_cells=cells.hex_ids(sellers.raw_id),
        chunk_sizes=sizes,
        chunk_quirks=quirks,
        chunk_seeds=orders_ss.spawn(len(sizes)),
        chunk_first_sales=first_sales(len(products), sizes, quirks, _rng(sales_ss)),
    )


def make_chunk(world: World, index: int) -> Chunk:
    start = sum(world.chunk_sizes[:index])
    person = world.people.order_person[start : start + world.chunk_sizes[index]]
    quirks = world.chunk_quirks[index]
    rng = _rng(world.chunk_seeds[index])
    orders = make_orders(person, quirks, rng)
    items = make_items(orders, world.products, world.chunk_first_sales[index], quirks, rng)
    return Chunk(
        orders=orders,
        items=items,
        payments=make_payments(orders, items, quirks, rng),
        reviews=make_reviews(orders, world.text, quirks, rng),
    )
