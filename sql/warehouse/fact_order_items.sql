{{ config(
    materialized='incremental',
    unique_key='order_item_key',
    keys_from={'stg_order_items': 'order_id', 'stg_orders': 'order_id'},
    partition_by='shipping_limit_date_day',
    cluster_by=['product_key', 'seller_key'],
    description='One row per order item (order_id, order_item_id), every order status; each row is one unit. Keys: order_key (fact_orders), product_key (dim_product), seller_key (dim_seller), date_key = the order''s purchase day (dim_date). shipping_limit_date keeps the seller''s deadline as a TIMESTAMP (seed design); shipping_limit_date_day is its DATE and the partition column. order_status and order_updated_at come from the item''s order. Incremental: the items of the orders whose rows changed in stg_order_items or stg_orders are replaced (keys_from), so an item follows its order''s status and leaves with it.',
    columns={
        'order_item_key': {'description': 'surrogate_key(order_id, order_item_id).', 'tests': ['unique', 'not_null']},
        'order_key': {'description': 'The order (fact_orders).', 'tests': ['not_null', {'relationships': {'to': 'fact_orders', 'field': 'order_key'}}]},
        'product_key': {'description': 'The product (dim_product).', 'tests': ['not_null', {'relationships': {'to': 'dim_product', 'field': 'product_key'}}]},
        'seller_key': {'description': 'The seller (dim_seller).', 'tests': ['not_null', {'relationships': {'to': 'dim_seller', 'field': 'seller_key'}}]},
        'date_key': {'description': 'Purchase day of the order (dim_date).', 'tests': ['not_null', {'relationships': {'to': 'dim_date', 'field': 'date_key'}}]},
        'shipping_limit_date_day': {'description': 'Shipping deadline day (dim_date); partition column.', 'tests': ['not_null', {'relationships': {'to': 'dim_date', 'field': 'date_key'}}]},
        'price': {'description': 'Item price, BRL.', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'freight_value': {'description': 'Item freight, BRL.', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'order_updated_at': {'description': 'Latest event of the item''s order.', 'tests': ['not_null']},
    },
    tests=[
        {'unique_combination': {'columns': ['order_id', 'order_item_id']}},
    ],
    tags=['warehouse', 'fact'],
) }}

with items as (

    select * from {{ ref('stg_order_items') }}
    {% if is_incremental() %}
    where order_id in {{ changed('order_id') }}
    {% endif %}

),

orders as (

    select
        order_id,
        order_status,
        order_purchase_date,
        order_updated_at
    from {{ ref('stg_orders') }}
    {% if is_incremental() %}
    where order_id in {{ changed('order_id') }}
    {% endif %}

)

select
    {{ surrogate_key('items.order_id', 'items.order_item_id') }} as order_item_key,
    {{ surrogate_key('items.order_id') }} as order_key,
    {{ surrogate_key('items.product_id') }} as product_key,
    {{ surrogate_key('items.seller_id') }} as seller_key,
    orders.order_purchase_date as date_key,
    items.order_id,
    items.order_item_id,
    items.product_id,
    items.seller_id,
    orders.order_status,
    round(cast(items.price as {{ type_numeric }}), 2) as price,
    round(cast(items.freight_value as {{ type_numeric }}), 2) as freight_value,
    items.shipping_limit_date,
    items.shipping_limit_date_day,
    orders.order_updated_at
from items
left join orders
    on items.order_id = orders.order_id
