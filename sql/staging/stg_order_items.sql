{{ config(
    materialized='view',
    delta_key='order_id',
    description='One row per order item (order_id, order_item_id) from order_items_raw. Each row is one unit sold; price and freight in BRL.',
    columns={
        'order_id': {'description': 'Order the item belongs to.', 'tests': ['not_null', {'relationships': {'to': 'stg_orders', 'field': 'order_id'}}]},
        'order_item_id': {'description': 'Sequence of the item within its order, from 1.', 'tests': ['not_null', {'accepted_range': {'min': 1}}]},
        'product_id': {'description': 'Product sold.', 'tests': ['not_null', {'relationships': {'to': 'stg_products', 'field': 'product_id'}}]},
        'seller_id': {'description': 'Seller who sold it.', 'tests': ['not_null', {'relationships': {'to': 'stg_sellers', 'field': 'seller_id'}}]},
        'price': {'description': 'Item price, BRL.', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'freight_value': {'description': 'Freight charged for the item, BRL (0 for free shipping).', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'shipping_limit_date': {'description': 'Deadline for the seller to hand the item to the carrier.', 'tests': ['not_null']},
    },
    tests=[
        {'unique_combination': {'columns': ['order_id', 'order_item_id']}},
    ],
    tags=['staging', 'orders'],
) }}

select
    order_id,
    cast(order_item_id as {{ type_int }}) as order_item_id,
    product_id,
    seller_id,
    cast(shipping_limit_date as {{ type_timestamp }}) as shipping_limit_date,
    {{ to_date('shipping_limit_date') }} as shipping_limit_date_day,
    cast(price as {{ type_numeric }}) as price,
    cast(freight_value as {{ type_numeric }}) as freight_value
from {{ source('raw', 'order_items') }}
