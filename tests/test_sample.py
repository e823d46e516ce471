"""The sample generator: real files on disk, read back with the csv module.

Three generated worlds are shared per module to keep the suite fast: scale 0.01 and 0.05
(every quirk must show up, at least once), and scale 1 (counts and distributions against
the real data's figures, each with its tolerance stated next to the check).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

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
    ColumnType,
    SourceFile,
)
from olist_cli.errors import UsageError
from olist_cli.sources import SAMPLE_MANIFEST
from olist_cli.sources.sample import DATA_END_DAY, cells, generate_sample
from olist_cli.sources.sample.calendar import day_start
from olist_cli.sources.sample.orders import NEVER, STATUSES
from olist_cli.sources.sample.places import CITIES, accented
from olist_cli.sources.sample.snapshot import status_at
from olist_cli.sources.sample.world import make_chunk, make_world
from olist_cli.sources.sample.writer import AtomicFiles

REPO = Path(__file__).resolve().parents[1]
PACKAGED_TRANSLATION = REPO / "src" / "olist_cli" / "sources" / "data" / TRANSLATION.file_name
# The original translation file of the Kaggle dataset (verified against the original).
TRANSLATION_MD5 = "4196d142e8f2b9697521fc50c97f626b"
TRANSLATION_BYTES = 2_613
TS = "%Y-%m-%d %H:%M:%S"
STATUS_RANK = {
    s: i
    for i, s in enumerate(
        ["created", "approved", "processing", "invoiced", "shipped", "delivered", "canceled"]
    )
} | {"unavailable": 6}
ORDER_DATES = (
    "order_approved_at",
    "order_delivered_carrier_date",
    "order_delivered_customer_date",
)

Rows = list[dict[str, str]]


@dataclass(frozen=True)
class Sample:
    folder: Path
    tables: dict[str, Rows]
    geolocation_rows: int

    def __getitem__(self, key: str) -> Rows:
        return self.tables[key]


def read(path: Path) -> Rows:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_all(folder: Path) -> dict[str, Rows]:
    return {f.key: read(folder / f.file_name) for f in SOURCE_FILES if f is not TRANSLATION}


def ts(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, TS)


def md5s(folder: Path) -> dict[str, str]:
    return {
        f.file_name: hashlib.md5((folder / f.file_name).read_bytes()).hexdigest()
        for f in SOURCE_FILES
    }


def by(rows: Rows, key: str) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out


@pytest.fixture(
    scope="module",
    params=[(0.01, None), (0.05, None), (0.05, 1_500)],
    ids=["scale0.01", "scale0.05", "scale0.05-in-chunks-of-1500"],
)
def small(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """A small world: every quirk must be in it, also when made in several chunks."""
    scale, chunk = request.param
    folder = tmp_path_factory.mktemp(f"sample{scale}")
    with pytest.MonkeyPatch.context() as patch:
        if chunk:
            patch.setattr("olist_cli.sources.sample.scaling.CHUNK_ORDERS", chunk)
        generate_sample(folder, scale=scale, seed=7, progress=False)
    tables = read_all(folder)
    return Sample(folder, tables, len(tables["geolocation"]))


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """Scale 1, the size of the real data (geolocation is counted, not parsed)."""
    folder = tmp_path_factory.mktemp("sample1")
    generate_sample(folder, scale=1, seed=42, progress=False)
    tables = {
        f.key: read(folder / f.file_name)
        for f in SOURCE_FILES
        if f not in (TRANSLATION, GEOLOCATION)
    }
    geo_lines = (folder / GEOLOCATION.file_name).read_bytes().count(b"\n") - 1
    return Sample(folder, tables, geo_lines)


# -- files and bytes --------------------------------------------------------------------


def _expected_line(values: list[str], source: SourceFile) -> str:
    """A row as the real files write it (the rule the generator must follow)."""
    out = []
    for value, column in zip(values, source.columns, strict=True):
        textual = column.type in (ColumnType.STRING, ColumnType.TIMESTAMP)
        if textual and value and (value[0].isdigit() or any(c in value for c in ',"\n\r')):
            value = '"' + value.replace('"', '""') + '"'
        out.append(value)
    return ",".join(out) + "\n"


def test_returns_the_nine_paths_with_exact_names(tmp_path: Path) -> None:
    paths = generate_sample(tmp_path / "new" / "raw", scale=0.001, progress=False)
    assert paths == [tmp_path / "new" / "raw" / f.file_name for f in SOURCE_FILES]
    assert sorted(p.name for p in (tmp_path / "new" / "raw").iterdir()) == sorted(
        f.file_name for f in SOURCE_FILES
    )


@pytest.mark.parametrize(
    "source", [f for f in SOURCE_FILES if f is not TRANSLATION], ids=lambda f: f.key
)
def test_bytes_follow_the_real_quoting_rules(small: Sample, source: SourceFile) -> None:
    raw = (small.folder / source.file_name).read_bytes()
    assert b"\r" not in raw
    assert raw.endswith(b"\n")
    header = ",".join(f'"{c}"' for c in source.column_names) + "\n"
    assert raw.startswith(header.encode())
    # Re-writing every parsed row with the rule must give back the file, byte for byte.
    text = raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert rows
    assert header + "".join(_expected_line(r, source) for r in rows) == text


def test_raw_lines_quote_ids_starting_with_a_digit_and_leave_numbers_bare(
    small: Sample,
) -> None:
    folder = small.folder
    lines = (folder / PAYMENTS.file_name).read_text(encoding="utf-8").splitlines()[1:]
    pattern = re.compile(r'^("\d[0-9a-f]{31}"|[a-f][0-9a-f]{31}),\d+,[a-z_]+,\d+,\d+\.\d\d$')
    assert all(pattern.match(line) for line in lines), [x for x in lines if not pattern.match(x)]
    assert any(line.startswith('"') for line in lines)
    assert any(not line.startswith('"') for line in lines)
    customers = (folder / CUSTOMERS.file_name).read_text(encoding="utf-8").splitlines()[1:]
    assert all(re.search(r',"\d{5}",[^,]+,[A-Z]{2}$', line) for line in customers)


def _is_the_original_translation(data: bytes) -> None:
    assert len(data) == TRANSLATION_BYTES
    assert hashlib.md5(data).hexdigest() == TRANSLATION_MD5
    assert data.startswith(b"\xef\xbb\xbfproduct_category_name,product_category_name_english\r\n")
    assert data.count(b"\r\n") == 71 and data.count(b"\n") == 71  # CRLF only
    assert not data.endswith(b"\n")  # header + 71 rows, the last without a newline


def test_packaged_translation_is_the_original() -> None:
    _is_the_original_translation(PACKAGED_TRANSLATION.read_bytes())


def test_translation_file_is_the_original_byte_for_byte(small: Sample) -> None:
    written = (small.folder / TRANSLATION.file_name).read_bytes()
    _is_the_original_translation(written)
    assert written == PACKAGED_TRANSLATION.read_bytes()


def test_value_formats(small: Sample) -> None:
    hex32 = re.compile(r"^[0-9a-f]{32}$")
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
    money = re.compile(r"^\d+\.\d\d$")
    for o in small["orders"]:
        assert hex32.match(o["order_id"]) and hex32.match(o["customer_id"])
        assert stamp.match(o["order_purchase_timestamp"])
        assert o["order_estimated_delivery_date"].endswith(" 00:00:00")
        assert all(o[c] == "" or stamp.match(o[c]) for c in ORDER_DATES)
    for r in small["reviews"]:
        assert hex32.match(r["review_id"]) and r["review_creation_date"].endswith(" 00:00:00")
    for i in small["order_items"]:
        assert money.match(i["price"]) and money.match(i["freight_value"])
    for c in small["customers"]:
        assert re.match(r"^\d{5}$", c["customer_zip_code_prefix"]) and hex32.match(
            c["customer_unique_id"]
        )
    numeric = [c.name for c in PRODUCTS.columns if c.type is ColumnType.INT64]
    for p in small["products"]:
        assert all(p[c] == "" or p[c].isdigit() for c in numeric)


# -- referential consistency ------------------------------------------------------------


def test_every_reference_resolves(small: Sample) -> None:
    orders = {o["order_id"] for o in small["orders"]}
    assert len(orders) == len(small["orders"])
    customers = [c["customer_id"] for c in small["customers"]]
    assert len(customers) == len(set(customers)) == len(orders)
    assert set(customers) == {o["customer_id"] for o in small["orders"]}
    products = {p["product_id"] for p in small["products"]}
    sellers = {s["seller_id"] for s in small["sellers"]}
    assert len(products) == len(small["products"]) and len(sellers) == len(small["sellers"])
    for i in small["order_items"]:
        assert i["order_id"] in orders and i["product_id"] in products and i["seller_id"] in sellers
    assert all(p["order_id"] in orders for p in small["payments"])
    assert all(r["order_id"] in orders for r in small["reviews"])
    geo = {g["geolocation_zip_code_prefix"] for g in small["geolocation"]}
    assert {c["customer_zip_code_prefix"] for c in small["customers"]} <= geo
    assert {s["seller_zip_code_prefix"] for s in small["sellers"]} <= geo


def _unsold(tables: dict[str, Rows]) -> tuple[set[str], set[str]]:
    """Products and sellers of the catalogue that no order item points to."""
    items = tables["order_items"]
    products = {p["product_id"] for p in tables["products"]} - {i["product_id"] for i in items}
    sellers = {s["seller_id"] for s in tables["sellers"]} - {i["seller_id"] for i in items}
    return products, sellers


def test_every_product_and_seller_is_sold(small: Sample) -> None:
    assert _unsold(small.tables) == (set(), set())


@pytest.mark.parametrize(
    ("scale", "chunk"),
    [(0.00001, None), (0.0003, None), (0.002, None), (0.01, 331)],
    ids=["1-order", "30-orders", "199-orders", "scale0.01-last-chunk-of-1-order"],
)
def test_every_product_and_seller_is_sold_at_any_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scale: float, chunk: int | None
) -> None:
    if chunk:  # 994 orders: three chunks of 331 and one of a single order
        monkeypatch.setattr("olist_cli.sources.sample.scaling.CHUNK_ORDERS", chunk)
    generate_sample(tmp_path, scale=scale, seed=3, progress=False)
    tables = read_all(tmp_path)
    assert tables["products"] and tables["sellers"]
    assert _unsold(tables) == (set(), set())


# -- quirks (each at least once at scale 0.01 and 0.05) ------------------------------------


def test_all_eight_statuses_with_their_null_dates(small: Sample) -> None:
    orders = small["orders"]
    statuses = Counter(o["order_status"] for o in orders)
    assert set(statuses) == set(STATUS_RANK)
    for o in orders:
        status = o["order_status"]
        if status in ("created", "approved", "processing", "invoiced", "canceled", "unavailable"):
            assert o["order_delivered_carrier_date"] == ""
            assert o["order_delivered_customer_date"] == ""
        if status == "created":
            assert o["order_approved_at"] == ""
        if status == "shipped":
            assert o["order_delivered_carrier_date"] and not o["order_delivered_customer_date"]
    delivered = [o for o in orders if o["order_status"] == "delivered"]
    assert any(o["order_delivered_customer_date"] == "" for o in delivered)
    assert any(o["order_approved_at"] == "" for o in delivered)
    assert any(o["order_approved_at"] == "" for o in orders if o["order_status"] == "canceled")


def test_out_of_order_dates(small: Sample) -> None:
    done = [o for o in small["orders"] if o["order_delivered_customer_date"]]
    before_approval = [
        o
        for o in done
        if o["order_approved_at"] and o["order_delivered_customer_date"] < o["order_approved_at"]
    ]
    before_carrier = [
        o
        for o in done
        if o["order_delivered_carrier_date"]
        and o["order_delivered_customer_date"] < o["order_delivered_carrier_date"]
    ]
    assert before_approval and before_carrier


def test_item_quirks(small: Sample) -> None:
    with_items = {i["order_id"] for i in small["order_items"]}
    assert any(o["order_id"] not in with_items for o in small["orders"])
    assert any(i["freight_value"] == "0.00" for i in small["order_items"])


def _far_shipping_limits(sample: Sample) -> list[dict[str, str]]:
    return [i for i in sample["order_items"] if i["shipping_limit_date"] >= "2019"]


def test_shipping_limits_years_ahead(small: Sample) -> None:
    far = _far_shipping_limits(small)
    assert far  # at least one from scale 0.01
    orders = {o["order_id"]: o for o in small["orders"]}
    per_order = Counter(i["order_id"] for i in small["order_items"])
    for item in far:
        order = orders[item["order_id"]]
        assert order["order_status"] == "delivered" and per_order[item["order_id"]] == 1
        assert order["order_purchase_timestamp"].startswith("2017-")
        assert "2020-02-01" <= item["shipping_limit_date"] <= "2020-04-09 23:59:59"
    # The others are a week or so after the purchase, within the data.
    rest = [i for i in small["order_items"] if i not in far]
    assert max(i["shipping_limit_date"] for i in rest) < "2018-11"
    for item in rest[:200]:
        purchase = ts(orders[item["order_id"]]["order_purchase_timestamp"])
        assert dt.timedelta(days=6) <= ts(item["shipping_limit_date"]) - purchase
        assert ts(item["shipping_limit_date"]) - purchase < dt.timedelta(days=8)


def test_payment_quirks(small: Sample) -> None:
    pays = small["payments"]
    per_order = by(pays, "order_id")
    assert sum(o["order_id"] not in per_order for o in small["orders"]) == 1
    multi = [rows for rows in per_order.values() if len(rows) > 1]
    assert any({r["payment_type"] for r in rows} == {"credit_card", "voucher"} for rows in multi)
    assert any(r["payment_type"] == "not_defined" and r["payment_value"] == "0.00" for r in pays)
    assert any(r["payment_type"] == "voucher" and r["payment_value"] == "0.00" for r in pays)
    assert any(
        r["payment_type"] == "credit_card" and r["payment_installments"] == "0" for r in pays
    )
    assert any(
        len(rows) == 1 and rows[0]["payment_sequential"] == "2" for rows in per_order.values()
    )
    assert all(r["payment_installments"] == "1" for r in pays if r["payment_type"] != "credit_card")


def test_payments_match_items_except_a_few(small: Sample) -> None:
    item_total: dict[str, float] = defaultdict(float)
    for i in small["order_items"]:
        item_total[i["order_id"]] += float(i["price"]) + float(i["freight_value"])
    paid: dict[str, float] = defaultdict(float)
    for p in small["payments"]:
        paid[p["order_id"]] += float(p["payment_value"])
    diffs = [abs(item_total[o] - paid[o]) for o in item_total if o in paid]
    off = sum(d > 1 for d in diffs)
    assert off >= 1
    assert all(d <= 0.01 + 1e-9 or d > 1 for d in diffs)
    assert off / len(diffs) < 0.01  # 0.25% in the real data


def test_review_quirks(small: Sample) -> None:
    reviews = small["reviews"]
    per_order = Counter(r["order_id"] for r in reviews)
    assert any(o["order_id"] not in per_order for o in small["orders"])
    assert 2 in per_order.values() and 3 in per_order.values()
    orders_per_id = {k: {r["order_id"] for r in v} for k, v in by(reviews, "review_id").items()}
    assert any(len(v) > 1 for v in orders_per_id.values())
    messages = [r["review_comment_message"] for r in reviews]
    assert any("\n" in m for m in messages)
    assert any("," in m for m in messages)
    assert any('"' in m for m in messages)
    assert any(m == "" for m in messages) and any(r["review_comment_title"] == "" for r in reviews)
    assert any(c in "".join(messages) for c in "ãçéó")


def test_product_quirks(small: Sample) -> None:
    products = small["products"]
    no_category = [p for p in products if p["product_category_name"] == ""]
    assert no_category
    assert all(
        p["product_name_lenght"] == p["product_description_lenght"] == p["product_photos_qty"] == ""
        for p in no_category
    )
    assert sum(all(v == "" for k, v in p.items() if k != "product_id") for p in products) == 1
    assert any(p["product_category_name"] and p["product_weight_g"] == "" for p in products)
    assert any(p["product_weight_g"] == "0" for p in products)
    categories = {p["product_category_name"] for p in products}
    assert {"pc_gamer", "portateis_cozinha_e_preparadores_de_alimentos"} <= categories


def test_seller_quirks(small: Sample) -> None:
    sellers = small["sellers"]
    cities = [s["seller_city"] for s in sellers]
    known = {c.name for c in CITIES}
    assert any(c != accented(c) for c in known)
    assert any(c in {accented(k) for k in known} - known for c in cities)  # accents
    assert any(re.search(r" - [a-z]{2}$", c) for c in cities)
    assert any("@" in c for c in cities)
    assert any(c.isdigit() for c in cities)
    assert any(c[:-1] in known for c in cities if c not in known)  # a typo: one letter more
    geo_state = {
        g["geolocation_zip_code_prefix"]: g["geolocation_state"] for g in small["geolocation"]
    }
    assert any(s["seller_state"] != geo_state[s["seller_zip_code_prefix"]] for s in sellers)
    assert any(n > 1 for n in Counter(s["seller_zip_code_prefix"] for s in sellers).values())


def test_geolocation_quirks(small: Sample) -> None:
    geo = small["geolocation"]
    rows = [tuple(g.values()) for g in geo]
    duplicates = len(rows) - len(set(rows))
    assert 0.22 <= duplicates / len(rows) <= 0.30  # ≈26% in the real data
    cities = {(g["geolocation_zip_code_prefix"], g["geolocation_city"]) for g in geo}
    per_prefix = Counter(prefix for prefix, _ in cities)
    assert any(n > 1 for n in per_prefix.values())  # 'sao paulo' and 'são paulo'
    assert any(n > 1 for n in Counter(g["geolocation_zip_code_prefix"] for g in geo).values())


def test_repeat_buyers(small: Sample) -> None:
    times = Counter(Counter(c["customer_unique_id"] for c in small["customers"]).values())
    assert times[1] > 0 and times[2] > 0 and any(k >= 3 for k in times)


# -- scale 1: counts and distributions against the real data ------------------------------


def test_scale_one_row_counts(full: Sample) -> None:
    assert len(full["orders"]) == len(full["customers"]) == 99_441
    assert len(full["products"]) == 32_951
    assert len(full["sellers"]) == 3_095
    assert full.geolocation_rows == 1_000_163
    assert abs(len(full["order_items"]) - 112_650) / 112_650 < 0.01
    assert abs(len(full["payments"]) - 103_886) / 103_886 < 0.01
    assert abs(len(full["reviews"]) - 99_224) / 99_224 < 0.005


def test_scale_one_quirk_counts(full: Sample) -> None:
    orders = full["orders"]
    statuses = Counter(o["order_status"] for o in orders)
    real = {"delivered": 96_478, "shipped": 1_107, "canceled": 625, "unavailable": 609,
            "invoiced": 314, "processing": 301, "created": 5, "approved": 2}  # fmt: skip
    for status, count in real.items():
        assert abs(statuses[status] - count) <= max(2, 0.02 * count), status  # ±2%
    assert sum(o["order_approved_at"] == "" for o in orders) == pytest.approx(160, abs=3)
    with_items = {i["order_id"] for i in full["order_items"]}
    assert sum(o["order_id"] not in with_items for o in orders) == 775
    assert sum(i["freight_value"] == "0.00" for i in full["order_items"]) == 380
    reviews = by(full["reviews"], "review_id")
    assert sum(len({r["order_id"] for r in v}) > 1 for v in reviews.values()) == 800
    unique = Counter(c["customer_unique_id"] for c in full["customers"])
    times = Counter(unique.values())
    assert times[2] == 2_745 and 200 <= sum(n for k, n in times.items() if k >= 3) <= 400
    assert times[1] / len(unique) == pytest.approx(0.97, abs=0.005)
    products = full["products"]
    assert sum(p["product_category_name"] == "" for p in products) == 610
    assert sum(p["product_weight_g"] == "" for p in products) == 2
    assert sum(p["product_weight_g"] == "0" for p in products) == 4
    assert Counter(p["product_category_name"] for p in products)["cama_mesa_banho"] == 3_029


def test_scale_one_every_product_and_seller_is_sold_with_a_skew(full: Sample) -> None:
    assert _unsold(full.tables) == (set(), set())
    product_sales = Counter(i["product_id"] for i in full["order_items"])
    n_items = len(full["order_items"])
    # Real data: the best seller 527 items; the top three sellers 2,033 / 1,987 / 1,931.
    assert product_sales.most_common(1)[0][1] >= 200
    top_tenth = sum(n for _, n in product_sales.most_common(len(product_sales) // 10))
    assert top_tenth / n_items >= 0.4
    sold_once = sum(n == 1 for n in product_sales.values()) / len(product_sales)
    assert 0.35 <= sold_once <= 0.65
    seller_sales = Counter(i["seller_id"] for i in full["order_items"])
    assert seller_sales.most_common(1)[0][1] >= 1_000


def test_scale_one_dates_span_five_calendar_years(full: Sample) -> None:
    far = _far_shipping_limits(full)
    assert len(far) == 4  # as in the real items file
    assert all("2020-02-01" <= i["shipping_limit_date"] <= "2020-04-09 23:59:59" for i in far)
    columns = {
        "orders": ("order_purchase_timestamp", *ORDER_DATES, "order_estimated_delivery_date"),
        "order_items": ("shipping_limit_date",),
        "reviews": ("review_creation_date", "review_answer_timestamp"),
    }
    dates = {r[c][:10] for key, cols in columns.items() for r in full[key] for c in cols if r[c]}
    first, last = dt.date.fromisoformat(min(dates)), dt.date.fromisoformat(max(dates))
    assert (first.year, last.year) == (2016, 2020)
    # A calendar of whole years covering every date the facts reference: 2016-2020.
    assert (dt.date(last.year, 12, 31) - dt.date(first.year, 1, 1)).days + 1 == 1_827


def test_scale_one_order_timeline(full: Sample) -> None:
    purchases = [ts(o["order_purchase_timestamp"]) for o in full["orders"]]
    days = Counter(p.date() for p in purchases)
    assert days.most_common(1)[0][0] == dt.date(2017, 11, 24)
    assert min(days) == dt.date(2016, 9, 4) and max(days) == DATA_END_DAY
    months = Counter((p.year, p.month) for p in purchases)
    assert sum(n for (y, _), n in months.items() if y == 2016) < 400
    assert all(6_000 <= months[(2018, m)] <= 7_600 for m in range(1, 9))  # the 2018 plateau
    assert months[(2017, 1)] < months[(2017, 6)] < months[(2017, 10)]  # growth through 2017
    assert months[(2018, 9)] + months[(2018, 10)] < 100  # the tail-off


def test_scale_one_delivery(full: Sample) -> None:
    delivered = [o for o in full["orders"] if o["order_delivered_customer_date"]]
    took = [
        (ts(o["order_delivered_customer_date"]) - ts(o["order_purchase_timestamp"])).total_seconds()
        / 86400
        for o in delivered
    ]
    assert statistics.median(took) == pytest.approx(10, abs=1)
    assert statistics.mean(took) == pytest.approx(12.5, abs=1)
    estimate = [
        (ts(o["order_estimated_delivery_date"]) - ts(o["order_purchase_timestamp"])).days
        for o in full["orders"]
    ]
    assert statistics.mean(estimate) == pytest.approx(24, abs=1.5)
    late = [
        o["order_delivered_customer_date"] > o["order_estimated_delivery_date"] for o in delivered
    ]
    assert sum(late) / len(late) == pytest.approx(0.08, abs=0.015)


def test_scale_one_items_and_prices(full: Sample) -> None:
    per_order = Counter(Counter(i["order_id"] for i in full["order_items"]).values())
    n = sum(per_order.values())
    assert per_order[1] / n == pytest.approx(0.90, abs=0.01)
    assert per_order[2] / n == pytest.approx(0.075, abs=0.007)
    assert per_order[3] / n == pytest.approx(0.013, abs=0.003)
    assert max(per_order) <= 21
    price = [float(i["price"]) for i in full["order_items"]]
    freight = [float(i["freight_value"]) for i in full["order_items"]]
    assert statistics.median(price) == pytest.approx(75, abs=5)
    assert statistics.mean(price) == pytest.approx(121, abs=6)
    assert max(price) <= 6_735
    assert statistics.median(freight) == pytest.approx(16, abs=1.5)
    assert statistics.mean(freight) == pytest.approx(20, abs=1.5)


def test_scale_one_payments(full: Sample) -> None:
    pays = full["payments"]
    types = Counter(p["payment_type"] for p in pays)
    real = {"credit_card": 0.739, "boleto": 0.190, "voucher": 0.056, "debit_card": 0.015}
    for kind, share in real.items():
        assert types[kind] / len(pays) == pytest.approx(share, abs=0.007), kind
    installments = Counter(p["payment_installments"] for p in pays)
    assert installments["1"] / len(pays) == pytest.approx(0.506, abs=0.01)
    assert installments["10"] / len(pays) == pytest.approx(0.051, abs=0.006)
    assert max(Counter(p["order_id"] for p in pays).values()) >= 20  # up to ~29 rows


def test_scale_one_reviews(full: Sample) -> None:
    reviews = full["reviews"]
    scores = Counter(r["review_score"] for r in reviews)
    real = {"5": 0.578, "4": 0.193, "3": 0.082, "2": 0.032, "1": 0.115}
    for score, share in real.items():
        assert scores[score] / len(reviews) == pytest.approx(share, abs=0.01), score
    orders = {o["order_id"]: o for o in full["orders"]}

    def late(order: dict[str, str]) -> bool:
        return order["order_delivered_customer_date"] > order["order_estimated_delivery_date"]

    delivered = [r for r in reviews if orders[r["order_id"]]["order_delivered_customer_date"]]
    on_time = [int(r["review_score"]) for r in delivered if not late(orders[r["order_id"]])]
    overdue = [int(r["review_score"]) for r in delivered if late(orders[r["order_id"]])]
    assert statistics.mean(overdue) < statistics.mean(on_time) - 1


def test_scale_one_places(full: Sample) -> None:
    states = Counter(c["customer_state"] for c in full["customers"])
    n = len(full["customers"])
    for state, share in {"SP": 0.42, "RJ": 0.13, "MG": 0.12, "RS": 0.055, "PR": 0.05}.items():
        assert states[state] / n == pytest.approx(share, abs=0.01), state
    sellers = Counter(s["seller_state"] for s in full["sellers"])
    assert sellers["SP"] / len(full["sellers"]) == pytest.approx(0.597, abs=0.04)
    assert sellers["PR"] / len(full["sellers"]) == pytest.approx(0.113, abs=0.02)


# -- scale 1: the real files' measured figures (issue 16; shared/olist-data-profile.md) ---


def _percentile(values: list[int] | list[float], q: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``q`` of the data at or
    below it (no interpolation, so a pile of equal values reads as that value)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _measures(full: Sample, column: str) -> list[int]:
    return [int(p[column]) for p in full["products"] if p[column] != ""]


def test_scale_one_product_dimensions(full: Sample) -> None:
    length = _measures(full, "product_length_cm")
    width = _measures(full, "product_width_cm")
    height = _measures(full, "product_height_cm")
    # Real: length p10/p50/p90 16/25/53 cm, 0.4% under 16 cm (the postal minimum); ±1 cm on
    # p10 and p50, ±3 on p90; the share under 16 cm between 0.2 and 0.8%.
    assert _percentile(length, 0.10) == pytest.approx(16, abs=1)
    assert _percentile(length, 0.50) == pytest.approx(25, abs=1)
    assert _percentile(length, 0.90) == pytest.approx(53, abs=3)
    assert 0.002 <= sum(v < 16 for v in length) / len(length) <= 0.008
    # Width p10/p50 11/20 cm, 0.2% under 11: ±1 cm, the share between 0.05 and 0.5%.
    assert _percentile(width, 0.10) == pytest.approx(11, abs=1)
    assert _percentile(width, 0.50) == pytest.approx(20, abs=1)
    assert 0.0005 <= sum(v < 11 for v in width) / len(width) <= 0.005
    # Height p50/p90 13/33 cm, mean 16.9: ±1 / ±3 cm, mean ±0.5 cm.
    assert _percentile(height, 0.50) == pytest.approx(13, abs=1)
    assert _percentile(height, 0.90) == pytest.approx(33, abs=3)
    assert statistics.mean(height) == pytest.approx(16.9, abs=0.5)


def test_scale_one_product_weights(full: Sample) -> None:
    weight = _measures(full, "product_weight_g")
    # Real: 84% are multiples of 50 g (±2 points); 2,205 distinct weights (±10%).
    assert sum(w % 50 == 0 for w in weight) / len(weight) == pytest.approx(0.84, abs=0.02)
    assert 1_985 <= len(set(weight)) <= 2_425
    # And the profile's spread: p10 175 g, median 700 g, p90 6,300 g (±15%).
    assert _percentile(weight, 0.10) == pytest.approx(175, rel=0.15)
    assert _percentile(weight, 0.50) == pytest.approx(700, rel=0.15)
    assert _percentile(weight, 0.90) == pytest.approx(6_300, rel=0.15)


def test_scale_one_product_photos_and_name_lengths(full: Sample) -> None:
    photos = _measures(full, "product_photos_qty")
    # Real: 1 to 20 photos, mean 2.19 (±0.05).
    assert (min(photos), max(photos)) == (1, 20)
    assert statistics.mean(photos) == pytest.approx(2.19, abs=0.05)
    names = _measures(full, "product_name_lenght")
    # Real: p1/p99 20/63 characters (±2), mean 48.5 (±0.5), median 51 (±1).
    assert _percentile(names, 0.01) == pytest.approx(20, abs=2)
    assert _percentile(names, 0.99) == pytest.approx(63, abs=2)
    assert statistics.mean(names) == pytest.approx(48.5, abs=0.5)
    assert _percentile(names, 0.50) == pytest.approx(51, abs=1)


# The real sellers' ten commonest city spellings and their shares of the 3,095 sellers.
SELLER_TOP_CITIES = {
    "sao paulo": 0.224, "curitiba": 0.041, "rio de janeiro": 0.031, "belo horizonte": 0.022,
    "ribeirao preto": 0.017, "guarulhos": 0.016, "ibitinga": 0.016, "santo andre": 0.015,
    "campinas": 0.013, "maringa": 0.013,
}  # fmt: skip


def test_scale_one_seller_cities(full: Sample) -> None:
    cities = Counter(s["seller_city"] for s in full["sellers"])
    n = len(full["sellers"])
    # Real: 611 distinct spellings for 3,095 sellers (±5%).
    assert 580 <= len(cities) <= 642
    # The ten commonest are the real ten; São Paulo ±1 point, the others ±0.5 point.
    assert {city for city, _ in cities.most_common(10)} == set(SELLER_TOP_CITIES)
    for city, share in SELLER_TOP_CITIES.items():
        assert cities[city] / n == pytest.approx(share, abs=0.01 if share > 0.2 else 0.005), city
    # Then a long tail: the 11th below the 10th's 1.3%, and most spellings used once or twice.
    assert cities.most_common(11)[10][1] / n < 0.013
    assert sum(k <= 2 for k in cities.values()) / len(cities) > 0.5


def test_scale_one_seller_states_and_zips(full: Sample, full_geolocation: GeoColumns) -> None:
    sellers = full["sellers"]
    states = Counter(s["seller_state"] for s in sellers)
    # Real: 23 states, none in AL, AP, RR, TO.
    assert len(states) == 23
    assert not {"AL", "AP", "RR", "TO"} & set(states)
    # Real: 33.2% of the sellers' zip prefixes start with 0 (Greater São Paulo); ±2 points.
    zero = sum(s["seller_zip_code_prefix"].startswith("0") for s in sellers) / len(sellers)
    assert zero == pytest.approx(0.332, abs=0.02)
    # Every other seller's state is its zip's: the real data's 35 contradictions, exactly.
    zip_state = dict(zip(full_geolocation.prefix, full_geolocation.state, strict=True))
    assert sum(s["seller_state"] != zip_state[s["seller_zip_code_prefix"]] for s in sellers) == 35


def test_scale_one_installments_and_largest_payment(full: Sample) -> None:
    pays = full["payments"]
    installments = {int(p["payment_installments"]) for p in pays}
    # Real: every count from 0 to 24 but 19 (22 and 23 once each).
    assert installments == set(range(25)) - {19}
    # Real: the largest payment is 13,664.08 (±3%).
    assert max(float(p["payment_value"]) for p in pays) == pytest.approx(13_664.08, rel=0.03)


def _review_lateness(full: Sample) -> list[tuple[int, float]]:
    """(score, days late) of every review of a delivered order; days late ≤ 0 is on time."""
    orders = {o["order_id"]: o for o in full["orders"]}
    out = []
    for r in full["reviews"]:
        order = orders[r["order_id"]]
        if order["order_delivered_customer_date"]:
            late = ts(order["order_delivered_customer_date"]) - ts(
                order["order_estimated_delivery_date"]
            )
            out.append((int(r["review_score"]), late.total_seconds() / 86400))
    return out


def test_scale_one_review_scores_fall_with_lateness(full: Sample) -> None:
    scored = _review_lateness(full)
    on_time = [s for s, late in scored if late <= 0]
    overdue = [s for s, late in scored if late > 0]
    # Published: about 4.3 stars on time (±0.1), 2.3-2.6 late; 1-2 stars for 54% of late
    # reviews (±3 points) and 9% of on-time ones (±1.5 points).
    assert statistics.mean(on_time) == pytest.approx(4.3, abs=0.1)
    assert 2.3 <= statistics.mean(overdue) <= 2.6
    assert sum(s <= 2 for s in overdue) / len(overdue) == pytest.approx(0.54, abs=0.03)
    assert sum(s <= 2 for s in on_time) / len(on_time) == pytest.approx(0.09, abs=0.015)
    # The later, the lower: the mean falls by at least 0.15 star from each bucket to the next.
    buckets = [(0, 3), (3, 10), (10, 10_000)]
    means = [statistics.mean(s for s, late in scored if lo < late <= hi) for lo, hi in buckets]
    assert means[0] - means[1] >= 0.15 and means[1] - means[2] >= 0.15, means


# Each state's extent (latitude south..north, longitude west..east), from its extreme points.
STATE_BOUNDS = {
    "AC": (-11.15, -7.11, -73.99, -66.62), "AL": (-10.50, -8.81, -38.24, -35.15),
    "AM": (-9.82, 2.25, -73.80, -56.10), "AP": (-1.24, 4.44, -54.88, -49.88),
    "BA": (-18.35, -8.53, -46.62, -37.34), "CE": (-7.86, -2.78, -41.42, -37.25),
    "DF": (-16.05, -15.50, -48.29, -47.31), "ES": (-21.30, -17.89, -41.88, -39.67),
    "GO": (-19.50, -12.39, -53.25, -45.91), "MA": (-10.26, -1.05, -48.75, -41.80),
    "MG": (-22.92, -14.23, -51.05, -39.86), "MS": (-24.07, -17.17, -58.17, -50.92),
    "MT": (-18.04, -7.35, -61.63, -50.22), "PA": (-9.84, 2.59, -58.90, -46.06),
    "PB": (-8.30, -6.02, -38.77, -34.79), "PE": (-9.48, -7.27, -41.36, -34.81),
    "PI": (-10.93, -2.74, -45.99, -40.37), "PR": (-26.72, -22.52, -54.62, -48.02),
    "RJ": (-23.37, -20.76, -44.89, -40.96), "RN": (-6.98, -4.83, -38.58, -34.97),
    "RO": (-13.69, -7.97, -66.81, -59.77), "RR": (-1.58, 5.27, -64.82, -58.89),
    "RS": (-33.75, -27.08, -57.65, -49.69), "SC": (-29.35, -25.96, -53.84, -48.33),
    "SE": (-11.57, -9.51, -38.24, -36.39), "SP": (-25.31, -19.78, -53.11, -44.16),
    "TO": (-13.47, -5.17, -50.74, -45.70),
}  # fmt: skip
BOUNDS_MARGIN = 0.1  # degrees (about 11 km): the extents are rounded, a town may sit on one
# Real spellings with accents (and a hyphen or an apostrophe), one or more per region.
ACCENTED_CITIES = (
    "são paulo", "ribeirão preto", "santo andré", "maringá", "jundiaí", "santa bárbara d'oeste",
    "florianópolis", "goiânia", "brasília", "cuiabá", "belém", "macapá", "são luís", "maceió",
    "ceará-mirim", "ji-paraná", "niterói", "vitória", "uberlândia", "chapecó", "gravataí",
)  # fmt: skip


@dataclass(frozen=True)
class GeoColumns:
    prefix: list[str]
    lat: np.ndarray
    lng: np.ndarray
    city: list[str]
    state: list[str]


@pytest.fixture(scope="module")
def full_geolocation(full: Sample) -> GeoColumns:
    """The scale-1 geolocation file (a million rows), as columns."""
    import pandas as pd

    text = ["geolocation_zip_code_prefix", "geolocation_city", "geolocation_state"]
    frame = pd.read_csv(
        full.folder / GEOLOCATION.file_name,
        dtype=dict.fromkeys(text, str),
        keep_default_na=False,
        encoding="utf-8",
    )
    prefix, city, state = (frame[c].tolist() for c in text)
    lat, lng = (frame[c].to_numpy(float) for c in ("geolocation_lat", "geolocation_lng"))
    return GeoColumns(prefix, lat, lng, city, state)


def test_scale_one_coordinates_lie_inside_their_state(full_geolocation: GeoColumns) -> None:
    geo = full_geolocation
    state = np.array(geo.state)
    assert set(state) == set(STATE_BOUNDS)
    for code, (south, north, west, east) in STATE_BOUNDS.items():
        lat, lng = geo.lat[state == code], geo.lng[state == code]
        inside = (
            (lat >= south - BOUNDS_MARGIN)
            & (lat <= north + BOUNDS_MARGIN)
            & (lng >= west - BOUNDS_MARGIN)
            & (lng <= east + BOUNDS_MARGIN)
        )
        assert inside.all(), (code, lat[~inside][:5], lng[~inside][:5])
        # Spread over the state, not around its capital: the points reach across at least
        # a quarter of the state's extent both north-south and east-west (the towns of
        # Amapá and Roraima cover only about 30% of their width: the west is forest).
        assert lat.max() - lat.min() >= 0.25 * (north - south), code
        assert lng.max() - lng.min() >= 0.25 * (east - west), code


def test_scale_one_geolocation_cities_carry_their_accents(full_geolocation: GeoColumns) -> None:
    spellings = Counter(full_geolocation.city)
    for city in ACCENTED_CITIES:
        plain = unicodedata.normalize("NFKD", city).encode("ascii", "ignore").decode()
        assert spellings[city] and spellings[plain], city  # both spellings, as the real file
    # Every accented spelling also appears bare; bare spellings are the majority (as customers
    # write them), accented ones a sizeable minority of the rows of cities that have accents.
    accented_rows = plain_rows = 0
    for city, n in spellings.items():
        plain = unicodedata.normalize("NFKD", city).encode("ascii", "ignore").decode()
        if plain != city:
            assert spellings[plain], city
            accented_rows += n
            plain_rows += spellings[plain]
    assert 0.08 <= accented_rows / (accented_rows + plain_rows) <= 0.25


# -- determinism ------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    generate_sample(tmp_path / "a", scale=0.02, seed=5, progress=False)
    generate_sample(tmp_path / "b", scale=0.02, seed=5, progress=False)
    generate_sample(tmp_path / "c", scale=0.02, seed=6, progress=False)
    generate_sample(tmp_path / "d", scale=0.02, seed=5, as_of=DATA_END_DAY, progress=False)
    a, b, c, d = (md5s(tmp_path / x) for x in "abcd")
    assert a == b == d
    assert all(a[f.file_name] != c[f.file_name] for f in SOURCE_FILES if f is not TRANSLATION)


# -- as-of snapshots --------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[dt.date, Path]]:
    out = []
    for day in (dt.date(2017, 6, 30), dt.date(2018, 3, 31), DATA_END_DAY):
        folder = tmp_path_factory.mktemp(f"asof{day}")
        generate_sample(folder, scale=0.05, seed=11, as_of=day, progress=False)
        out.append((day, folder))
    return out


def _as_of_pairs(snapshots: list[tuple[dt.date, Path]]) -> list[tuple[dt.date, Path, Path]]:
    return [
        (snapshots[i][0], snapshots[i][1], snapshots[j][1]) for i, j in ((0, 1), (1, 2), (0, 2))
    ]


def test_snapshot_orders_agree_with_later_ones(snapshots: list[tuple[dt.date, Path]]) -> None:
    moved = 0
    for day, early_dir, late_dir in _as_of_pairs(snapshots):
        end = dt.datetime.combine(day, dt.time(23, 59, 59))
        early = {o["order_id"]: o for o in read(early_dir / ORDERS.file_name)}
        late = {o["order_id"]: o for o in read(late_dir / ORDERS.file_name)}
        assert early and set(early) < set(late)
        for order_id, e in early.items():
            later = late[order_id]
            assert ts(e["order_purchase_timestamp"]) <= end
            for field in (
                "customer_id",
                "order_purchase_timestamp",
                "order_estimated_delivery_date",
            ):
                assert e[field] == later[field]
            for field in ORDER_DATES:
                if e[field]:
                    assert e[field] == later[field] and ts(e[field]) <= end
                elif later[field]:
                    assert ts(later[field]) > end  # it happened after the snapshot
            assert STATUS_RANK[e["order_status"]] <= STATUS_RANK[later["order_status"]]
            moved += e["order_status"] != later["order_status"]
        assert {
            o["order_id"] for o in late.values() if ts(o["order_purchase_timestamp"]) <= end
        } == set(early)
    assert moved > 0


def test_snapshot_statuses_follow_their_dates(snapshots: list[tuple[dt.date, Path]]) -> None:
    day, folder = snapshots[0]
    for o in read(folder / ORDERS.file_name):
        if o["order_status"] in ("created", "approved", "processing", "invoiced"):
            assert not o["order_delivered_carrier_date"] and not o["order_delivered_customer_date"]
        if o["order_delivered_customer_date"]:
            assert o["order_status"] in ("delivered", "canceled")


@pytest.mark.parametrize("source", [CUSTOMERS, ORDER_ITEMS, PAYMENTS], ids=lambda f: f.key)
def test_snapshot_rows_fixed_at_purchase_are_unchanged(
    snapshots: list[tuple[dt.date, Path]], source: SourceFile
) -> None:
    for _, early_dir, late_dir in _as_of_pairs(snapshots):
        orders = {o["order_id"]: o["customer_id"] for o in read(early_dir / ORDERS.file_name)}
        key = "customer_id" if source is CUSTOMERS else "order_id"
        keep = set(orders.values()) if source is CUSTOMERS else set(orders)
        early = [tuple(r.values()) for r in read(early_dir / source.file_name)]
        late = [tuple(r.values()) for r in read(late_dir / source.file_name) if r[key] in keep]
        assert early and Counter(early) == Counter(late)


def test_snapshot_reviews_appear_once_created(snapshots: list[tuple[dt.date, Path]]) -> None:
    for day, early_dir, late_dir in _as_of_pairs(snapshots):
        end = dt.datetime.combine(day, dt.time(23, 59, 59))
        orders = {o["order_id"] for o in read(early_dir / ORDERS.file_name)}
        early = read(early_dir / REVIEWS.file_name)
        late = [r for r in read(late_dir / REVIEWS.file_name) if r["order_id"] in orders]
        assert all(ts(r["review_creation_date"]) <= end for r in early)
        assert {
            (r["review_id"], r["order_id"]) for r in late if ts(r["review_creation_date"]) <= end
        } == {(r["review_id"], r["order_id"]) for r in early}
        later = {(r["review_id"], r["order_id"]): r for r in late}
        for r in early:
            match = later[(r["review_id"], r["order_id"])]
            for field in (
                "review_score",
                "review_comment_title",
                "review_comment_message",
                "review_creation_date",
            ):
                assert r[field] == match[field]
            answer = r["review_answer_timestamp"]
            if answer:
                assert answer == match["review_answer_timestamp"] and ts(answer) <= end
            else:
                assert ts(match["review_answer_timestamp"]) > end


def test_snapshot_catalogue_and_geolocation_are_whole(
    snapshots: list[tuple[dt.date, Path]],
) -> None:
    sums = [md5s(folder) for _, folder in snapshots]
    for f in (PRODUCTS, SELLERS, GEOLOCATION, TRANSLATION):
        assert len({s[f.file_name] for s in sums}) == 1


def _month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    days, month = [], first.replace(day=1)
    while month <= last:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        days.append(min(last, following - dt.timedelta(days=1)))
        month = following
    return days


@pytest.fixture(scope="module")
def monthly_orders(
    tmp_path_factory: pytest.TempPathFactory,
) -> list[tuple[dt.date, dict[str, dict[str, str]]]]:
    """The orders file as of the end of every month, 2016-10 to the end of the data."""
    out = []
    for day in _month_ends(dt.date(2016, 10, 1), DATA_END_DAY):
        folder = tmp_path_factory.mktemp(f"monthly{day}")
        generate_sample(folder, scale=0.05, seed=23, as_of=day, progress=False)
        out.append((day, {o["order_id"]: o for o in read(folder / ORDERS.file_name)}))
    return out


EVENT_TIMESTAMPS = ("order_purchase_timestamp", *ORDER_DATES)


def test_every_change_comes_with_a_new_visible_timestamp(
    monthly_orders: list[tuple[dt.date, dict[str, dict[str, str]]]],
) -> None:
    """An incremental reader that takes an order again when its latest event timestamp is
    newer than its last run sees every change: between snapshots at d1 < d2, an order whose
    status (or any field) differs has, in the d2 file, an event timestamp after d1's end."""
    assert len(monthly_orders) == 25
    changed: Counter[tuple[str, str]] = Counter()
    for i, (d1, early) in enumerate(monthly_orders):
        end = dt.datetime.combine(d1, dt.time(23, 59, 59))
        for d2, late in monthly_orders[i + 1 :]:
            assert set(early) <= set(late)
            for order_id, before in early.items():
                after = late[order_id]
                if before == after:
                    continue
                newest = max(ts(after[c]) for c in EVENT_TIMESTAMPS if after[c])
                assert newest > end, (d1, d2, before, after)
                changed[(before["order_status"], after["order_status"])] += 1
    # Month ends catch the common moves (those that take minutes rather than days, less so).
    assert sum(changed.values()) > 10_000
    assert {("approved", "shipped"), ("shipped", "delivered"), ("created", "canceled")} <= set(
        changed
    ), changed


def test_status_is_the_one_of_the_last_shown_event() -> None:
    """The same property, exactly, on the latent history of every order: at any moment
    (checked at every latent event, shown or not, and long after the data), an order's
    status is the one it had at its last event whose timestamp the file shows."""
    world = make_world(0.05, 23)
    far_future = day_start(dt.date(2021, 1, 1))
    checked = 0
    for index in range(len(world.chunk_sizes)):
        o = make_chunk(world, index).orders
        shown = [o.purchase] + [
            np.where(visible, when, NEVER)
            for when, visible in (
                (o.approved, o.approved_shown),
                (o.carrier, o.carrier_shown),
                (o.delivered, o.delivered_shown),
            )
        ]
        moments = [o.approved, o.carrier, o.delivered, o.cancel, o.estimated]
        moments += [np.full(len(o), far_future)]
        for moment in moments:
            at = np.where(moment < NEVER, moment, far_future)
            for delta in (-1, 0, 1):
                t = np.maximum(at + delta, o.purchase)
                last_shown = np.max([np.where(s <= t, s, o.purchase) for s in shown], axis=0)
                assert (status_at(o, t) == status_at(o, last_shown)).all()
                checked += len(o)
        # Every status is reached, and the quirk orders are among those checked.
        assert set(status_at(o, far_future)) == set(range(len(STATUSES)))
        assert not o.approved_shown.all() and not o.delivered_shown.all()
    assert checked > 0


# -- bad options, the CLI, interruptions, progress -----------------------------------------


@pytest.mark.parametrize("scale", [0, -1, 100.5, math.nan, math.inf])
def test_bad_scale(tmp_path: Path, scale: float) -> None:
    with pytest.raises(UsageError, match="--scale"):
        generate_sample(tmp_path, scale=scale)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("seed", [-1, 2**63])
def test_bad_seed(tmp_path: Path, seed: int) -> None:
    with pytest.raises(UsageError, match="--seed"):
        generate_sample(tmp_path, scale=0.001, seed=seed)
    assert not any(tmp_path.iterdir())


def test_as_of_may_be_a_datetime(tmp_path: Path) -> None:
    """A datetime stands for its whole day (its time of day is ignored)."""
    generate_sample(tmp_path / "d", scale=0.001, as_of=dt.date(2017, 6, 30), progress=False)
    moment = dt.datetime(2017, 6, 30, 0, 0, 1)
    generate_sample(tmp_path / "t", scale=0.001, as_of=moment, progress=False)
    assert md5s(tmp_path / "d") == md5s(tmp_path / "t")


def test_geolocation_does_not_depend_on_how_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_sample(tmp_path / "whole", scale=0.001, progress=False)
    rows = len(read(tmp_path / "whole" / GEOLOCATION.file_name))
    monkeypatch.setattr("olist_cli.sources.sample.GEO_ROWS_PER_WRITE", 1_000)
    generate_sample(tmp_path / "sliced", scale=0.001, progress=False)
    assert rows > 3_000  # so the second run wrote it in four slices
    assert md5s(tmp_path / "whole") == md5s(tmp_path / "sliced")


def test_timestamps_match_datetime_formatting() -> None:
    rng = np.random.default_rng(0)
    first, last = day_start(cells.TABLE_FIRST_DAY), day_start(cells.TABLE_LAST_DAY) + 86_399
    seconds = np.concatenate([[first, last], rng.integers(first, last + 1, 2_000)])
    stamps = cells.join_rows([cells.timestamps(seconds)]).decode().splitlines()
    epoch = dt.datetime(1970, 1, 1)
    assert stamps == [f'"{epoch + dt.timedelta(seconds=int(s)):{TS}}"' for s in seconds]


@pytest.mark.parametrize(
    "day", [dt.date(2015, 1, 1), dt.date(2016, 9, 3), dt.date(2018, 10, 18), dt.date(2030, 1, 1)]
)
def test_as_of_outside_the_data(tmp_path: Path, day: dt.date) -> None:
    with pytest.raises(UsageError, match="2016-09-04 to 2018-10-17"):
        generate_sample(tmp_path, scale=0.001, as_of=day)


def test_as_of_on_the_first_day(tmp_path: Path) -> None:
    generate_sample(tmp_path, scale=1, as_of=dt.date(2016, 9, 4), progress=False)
    orders = read(tmp_path / ORDERS.file_name)
    assert len(orders) == 1 and orders[0]["order_purchase_timestamp"].startswith("2016-09-04")


def test_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match=str(blocker / "raw")):
        generate_sample(blocker / "raw", scale=0.001)


def test_folder_that_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root may write anywhere, so make opening a file in the folder fail the way it would.
    def refuse(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(UsageError, match=f"cannot write to folder {tmp_path}"):
        generate_sample(tmp_path, scale=0.001)


def test_cli_rejects_scale_zero_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from olist_cli.cli import app

    monkeypatch.setenv("OLIST_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["download", "--source", "sample", "--scale", "0"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--scale" in lines[0]
    assert not (tmp_path / "raw").exists() or not any((tmp_path / "raw").iterdir())


def test_cli_writes_the_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from olist_cli.cli import app

    monkeypatch.setenv("OLIST_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["download", "--source", "sample", "--scale", "0.001"])
    assert result.exit_code == 0, result.output
    # The nine files, and the CLI's note of which sample they are (to skip regenerating it).
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == sorted(
        [f.file_name for f in SOURCE_FILES] + [SAMPLE_MANIFEST]
    )


def test_interrupted_run_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_sample(tmp_path, scale=0.01, seed=1, progress=False)
    before = md5s(tmp_path)
    real_write = AtomicFiles.write
    calls = 0

    def write_then_fail(self: AtomicFiles, name: str, data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == 12:  # midway: some files part-written, others not begun
            raise KeyboardInterrupt
        real_write(self, name, data)

    monkeypatch.setattr(AtomicFiles, "write", write_then_fail)
    with pytest.raises(KeyboardInterrupt):
        generate_sample(tmp_path, scale=0.01, seed=2, progress=False)
    assert calls == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f.file_name for f in SOURCE_FILES)
    assert md5s(tmp_path) == before  # the earlier run's files, untouched


def test_interrupted_first_run_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: AtomicFiles, name: str, data: bytes) -> None:
        raise RuntimeError("disk unplugged")

    monkeypatch.setattr(AtomicFiles, "write", fail)
    with pytest.raises(RuntimeError):
        generate_sample(tmp_path / "raw", scale=0.001, progress=False)
    assert list((tmp_path / "raw").iterdir()) == []


def test_progress_bars_only_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate_sample(tmp_path / "quiet", scale=0.001)  # stderr is not a terminal here
    assert capsys.readouterr().err == ""
    generate_sample(tmp_path / "loud", scale=0.001, progress=True)
    err = capsys.readouterr().err
    assert ORDERS.file_name in err and GEOLOCATION.file_name in err


def test_smallest_scale(tmp_path: Path) -> None:
    paths = generate_sample(tmp_path, scale=0.001, progress=False)
    assert len(read(paths[0])) == 99
