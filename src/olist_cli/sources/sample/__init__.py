"""The synthetic Olist dataset: the 9 files, byte-compatible with the real ones.

``generate_sample`` is the one entry point. How the data is made (scaling, quirks, as-of
semantics, tolerances) is described in docs/sample-generator.md.
"""

from __future__ import annotations

import datetime as dt
import math
from importlib import resources
from pathlib import Path

from olist_cli.dataset import (
    CUSTOMERS,
    GEOLOCATION,
    ORDER_ITEMS,
    ORDERS,
    PAYMENTS,
    PRODUCTS,
    REVIEWS,
    SELLERS,
    SOURCE_FILES,
    TRANSLATION,
)
from olist_cli.errors import UsageError, file_error
from olist_cli.sources.sample import cells
from olist_cli.sources.sample.calendar import DATA_END_DAY, FIRST_PURCHASE_DAY, end_of_day
from olist_cli.sources.sample.catalogue import products_bytes, sellers_bytes
from olist_cli.sources.sample.geo import geolocation_bytes
from olist_cli.sources.sample.progress import file_progress
from olist_cli.sources.sample.snapshot import chunk_bytes
from olist_cli.sources.sample.world import make_chunk, make_world
from olist_cli.sources.sample.writer import AtomicFiles

__all__ = ["generate_sample", "DATA_END_DAY", "FIRST_PURCHASE_DAY", "MAX_SCALE"]

MAX_SCALE = 100.0
GEO_ROWS_PER_WRITE = 500_000
ORDER_FILES = (ORDERS, CUSTOMERS, ORDER_ITEMS, PAYMENTS, REVIEWS)


def _check_options(scale: float, seed: int, as_of: dt.date | None) -> None:
    if not (isinstance(scale, int | float) and math.isfinite(scale) and 0 < scale <= MAX_SCALE):
        raise UsageError(f"--scale must be a number above 0 and at most {MAX_SCALE:g}, not {scale}")
    if not 0 <= seed < 2**63:
        raise UsageError(f"--seed must be between 0 and 2**63 - 1, not {seed}")
    if as_of is not None and not FIRST_PURCHASE_DAY <= as_of <= DATA_END_DAY:
        raise UsageError(
            f"--as-of {as_of.isoformat()} is outside the data: choose a date from "
            f"{FIRST_PURCHASE_DAY.isoformat()} to {DATA_END_DAY.isoformat()}"
        )


def _prepare_folder(out_dir: Path) -> Path:
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise file_error(exc, f"cannot create folder {folder}") from None
    return folder


def _translation_bytes() -> bytes:
    # Shipped inside the package (a byte-for-byte copy of the real file: BOM, CRLF).
    data = resources.files("olist_cli.sources") / "data" / TRANSLATION.file_name
    return data.read_bytes()


def generate_sample(
    out_dir: Path,
    *,
    scale: float = 1.0,
    seed: int = 42,
    as_of: dt.date | None = None,
    progress: bool | None = None,
) -> list[Path]:
    """Write the 9 Olist files into ``out_dir``; return their paths in SOURCE_FILES order.

    ``scale`` 1 is the size of the real data (99,441 orders); ``as_of`` gives the data as
    known at the end of that day; the same seed, scale and as_of give identical bytes.
    ``progress``: a bar per file (None: only when stderr is a terminal).
    Raises UsageError for a bad option or a folder that cannot be written, DiskFullError
    when the disk fills up (no file is left half-written, nor any temporary file).
    """
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    _check_options(scale, seed, as_of)
    folder = _prepare_folder(out_dir)
    until = end_of_day(as_of or DATA_END_DAY)
    names = [f.file_name for f in SOURCE_FILES]
    with AtomicFiles(folder, names) as files:
        world = make_world(float(scale), seed)
        n_geo = len(world.geolocation)
        geo_starts = range(0, n_geo, GEO_ROWS_PER_WRITE)
        totals = {name: 1 for name in names}
        totals |= {f.file_name: len(world.chunk_sizes) for f in ORDER_FILES}
        totals[GEOLOCATION.file_name] = len(geo_starts)
        with file_progress(totals, progress) as advance:
            for f in SOURCE_FILES:
                if f is not TRANSLATION:
                    files.write(f.file_name, cells.header(f.column_names))
            files.write(TRANSLATION.file_name, _translation_bytes())
            advance(TRANSLATION.file_name)
            files.write(PRODUCTS.file_name, products_bytes(world.products))
            advance(PRODUCTS.file_name)
            files.write(SELLERS.file_name, sellers_bytes(world.sellers, world.universe))
            advance(SELLERS.file_name)
            for start in geo_starts:
                stop = min(n_geo, start + GEO_ROWS_PER_WRITE)
                data = geolocation_bytes(world.geolocation, world.universe, start, stop)
                files.write(GEOLOCATION.file_name, data)
                advance(GEOLOCATION.file_name)
            for index in range(len(world.chunk_sizes)):
                chunk = make_chunk(world, index)
                for name, data in chunk_bytes(world, chunk, until).items():
                    files.write(name, data)
                    advance(name)
    return [folder / name for name in names]
