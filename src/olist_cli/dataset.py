"""The nine Olist source files: file name, raw table and typed columns, in file order.

This is the one place that knows the shape of the raw data. The generator writes these
columns, the loader checks headers against them and casts to these types, and the SQL
``source()`` function resolves raw table names from here.

Column types are warehouse-neutral names; each adapter maps them to its own types.
Ids and zip prefixes are STRING on purpose: zip prefixes have leading zeros.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ColumnType(StrEnum):
    STRING = "STRING"
    INT64 = "INT64"
    FLOAT64 = "FLOAT64"
    NUMERIC = "NUMERIC"  # money: exact decimal, 2 places in the files
    TIMESTAMP = "TIMESTAMP"  # 'YYYY-MM-DD HH:MM:SS', no time zone (UTC assumed)


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType


@dataclass(frozen=True)
class SourceFile:
    """One raw file and the raw table it loads into."""

    key: str  # short name used by source('raw', ...) minus the _raw suffix
    file_name: str
    raw_table: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _cols(*spec: tuple[str, ColumnType]) -> tuple[Column, ...]:
    return tuple(Column(name, ctype) for name, ctype in spec)


S, INT, F, N, T = (
    ColumnType.STRING,
    ColumnType.INT64,
    ColumnType.FLOAT64,
    ColumnType.NUMERIC,
    ColumnType.TIMESTAMP,
)

ORDERS = SourceFile(
    "orders",
    "olist_orders_dataset.csv",
    "orders_raw",
    _cols(
        ("order_id", S),
        ("customer_id", S),
        ("order_status", S),
        ("order_purchase_timestamp", T),
        ("order_approved_at", T),
        ("order_delivered_carrier_date", T),
        ("order_delivered_customer_date", T),
        ("order_estimated_delivery_date", T),
    ),
    ("order_id",),
)
CUSTOMERS = SourceFile(
    "customers",
    "olist_customers_dataset.csv",
    "customers_raw",
    _cols(
        ("customer_id", S),
        ("customer_unique_id", S),
        ("customer_zip_code_prefix", S),
        ("customer_city", S),
        ("customer_state", S),
    ),
    ("customer_id",),
)
ORDER_ITEMS = SourceFile(
    "order_items",
    "olist_order_items_dataset.csv",
    "order_items_raw",
    _cols(
        ("order_id", S),
        ("order_item_id", INT),
        ("product_id", S),
        ("seller_id", S),
        ("shipping_limit_date", T),
        ("price", N),
        ("freight_value", N),
    ),
    ("order_id", "order_item_id"),
)
PAYMENTS = SourceFile(
    "payments",
    "olist_order_payments_dataset.csv",
    "payments_raw",
    _cols(
        ("order_id", S),
        ("payment_sequential", INT),
        ("payment_type", S),
        ("payment_installments", INT),
        ("payment_value", N),
    ),
    ("order_id", "payment_sequential"),
)
REVIEWS = SourceFile(
    "reviews",
    "olist_order_reviews_dataset.csv",
    "reviews_raw",
    _cols(
        ("review_id", S),
        ("order_id", S),
        ("review_score", INT),
        ("review_comment_title", S),
        ("review_comment_message", S),
        ("review_creation_date", T),
        ("review_answer_timestamp", T),
    ),
)
PRODUCTS = SourceFile(
    "products",
    "olist_products_dataset.csv",
    "products_raw",
    _cols(
        ("product_id", S),
        ("product_category_name", S),
        ("product_name_lenght", INT),  # sic: the real header misspells "length"
        ("product_description_lenght", INT),
        ("product_photos_qty", INT),
        ("product_weight_g", INT),
        ("product_length_cm", INT),
        ("product_height_cm", INT),
        ("product_width_cm", INT),
    ),
    ("product_id",),
)
SELLERS = SourceFile(
    "sellers",
    "olist_sellers_dataset.csv",
    "sellers_raw",
    _cols(
        ("seller_id", S),
        ("seller_zip_code_prefix", S),
        ("seller_city", S),
        ("seller_state", S),
    ),
    ("seller_id",),
)
GEOLOCATION = SourceFile(
    "geolocation",
    "olist_geolocation_dataset.csv",
    "geolocation_raw",
    _cols(
        ("geolocation_zip_code_prefix", S),
        ("geolocation_lat", F),
        ("geolocation_lng", F),
        ("geolocation_city", S),
        ("geolocation_state", S),
    ),
)
TRANSLATION = SourceFile(
    "product_category_name_translation",
    "product_category_name_translation.csv",
    "product_category_name_translation_raw",
    _cols(
        ("product_category_name", S),
        ("product_category_name_english", S),
    ),
    ("product_category_name",),
)

SOURCE_FILES: tuple[SourceFile, ...] = (
    ORDERS,
    CUSTOMERS,
    ORDER_ITEMS,
    PAYMENTS,
    REVIEWS,
    PRODUCTS,
    SELLERS,
    GEOLOCATION,
    TRANSLATION,
)

BY_FILE_NAME: dict[str, SourceFile] = {f.file_name: f for f in SOURCE_FILES}
BY_RAW_TABLE: dict[str, SourceFile] = {f.raw_table: f for f in SOURCE_FILES}

LOAD_METADATA_TABLE = "_load_metadata"
