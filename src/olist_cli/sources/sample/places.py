"""Brazil as the generator knows it: states, their CEP ranges, and their towns.

Shares are the real dataset's (customers: per order; sellers: per seller). Towns come from
``towns.TOWNS``: real names at their real places. Customers and sellers write a town's name
as Olist's files do, lowercase without accents (``City.name``); the geolocation file often
keeps the accents (``City.spelling``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from olist_cli.sources.sample.towns import TOWNS


@dataclass(frozen=True)
class State:
    code: str
    customers: int  # real customers (orders) in this state
    sellers: int  # real sellers in this state
    zip_ranges: tuple[tuple[int, int], ...]  # inclusive five-digit CEP prefix ranges


# fmt: off
STATES: tuple[State, ...] = (
    State("SP", 41746, 1849, ((1000, 19999),)),
    State("RJ", 12852, 171, ((20000, 28999),)),
    State("MG", 11635, 244, ((30000, 39999),)),
    State("RS", 5466, 129, ((90000, 99999),)),
    State("PR", 5045, 349, ((80000, 87999),)),
    State("SC", 3637, 190, ((88000, 89999),)),
    State("BA", 3380, 19, ((40000, 48999),)),
    State("DF", 2140, 30, ((70000, 72799), (73000, 73699))),
    State("ES", 2033, 23, ((29000, 29999),)),
    State("GO", 2020, 40, ((72800, 72999), (73700, 76799))),
    State("PE", 1652, 9, ((50000, 56999),)),
    State("CE", 1336, 13, ((60000, 63999),)),
    State("PA", 975, 1, ((66000, 68899),)),
    State("MT", 907, 4, ((78000, 78899),)),
    State("MA", 747, 1, ((65000, 65999),)),
    State("MS", 715, 5, ((79000, 79999),)),
    State("PB", 536, 6, ((58000, 58999),)),
    State("PI", 495, 1, ((64000, 64999),)),
    State("RN", 485, 5, ((59000, 59999),)),
    State("AL", 413, 0, ((57000, 57999),)),
    State("SE", 350, 2, ((49000, 49999),)),
    State("TO", 280, 0, ((77000, 77999),)),
    State("RO", 253, 2, ((76800, 76999),)),
    State("AM", 148, 1, ((69000, 69299), (69400, 69899))),
    State("AC", 81, 1, ((69900, 69999),)),
    State("AP", 68, 0, ((68900, 68999),)),
    State("RR", 46, 0, ((69300, 69399),)),
)
# fmt: on


def plain(spelling: str) -> str:
    """A name without its accents, as customers and sellers write it (``são paulo``)."""
    return "".join(c for c in unicodedata.normalize("NFKD", spelling) if c.isascii())


@dataclass(frozen=True)
class City:
    state: int  # index into STATES
    name: str  # as the customer file spells it: no accents
    spelling: str  # the real spelling, with accents
    lat: float  # its centre
    lng: float
    people: int  # thousands, roughly: how many prefixes and customers it gets
    zip_ranges: tuple[tuple[int, int], ...]  # its own CEP ranges (most towns have none listed)


def _ranges(text: str) -> tuple[tuple[int, int], ...]:
    pairs = (part.split("-") for part in text.split())
    return tuple((int(lo), int(hi)) for lo, hi in pairs)


def _cities() -> tuple[City, ...]:
    out = []
    for s, state in enumerate(STATES):
        for line in TOWNS[state.code].strip().splitlines():
            spelling, lat, lng, people, *zips = (field.strip() for field in line.split(";"))
            zip_ranges = _ranges(zips[0]) if zips else ()
            out.append(
                City(s, plain(spelling), spelling, float(lat), float(lng), int(people), zip_ranges)
            )
    return tuple(out)


CITIES: tuple[City, ...] = _cities()
_SPELLING = {c.name: c.spelling for c in reversed(CITIES)}  # the first listed wins


def accented(city: str) -> str:
    """The spelling with accents of a city written without (the same string when it has none)."""
    return _SPELLING.get(city, city)
