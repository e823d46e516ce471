{{ config(
    materialized='incremental',
    unique_key='seller_id',
    keys_from={'fact_order_items': 'seller_id', 'stg_sellers': 'seller_id'},
    description='SCD1 seller dimension, one row per seller_id, with lifetime sales over every order item (all order statuses). Incremental: the rows of the sellers whose sales (fact_order_items) or attributes (stg_sellers) changed are rebuilt over their whole history and replaced (keys_from). seller_city is the trimmed, lower-cased text (seller_city_raw keeps the original); seller_state is kept as given even where it contradicts the zip prefix (see assert_seller_state_matches_zip). seller_volume_tier on total_items_sold: High >= 100 items, Medium 10-99, Low 1-9, No sales 0.',
    columns={
        'seller_key': {'description': 'surrogate_key(seller_id).', 'tests': ['unique', 'not_null']},
        'seller_id': {'description': 'Natural key.', 'tests': ['unique', 'not_null']},
        'total_items_sold': {'description': 'Order-item rows sold.', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'total_orders': {'description': 'Distinct orders with at least one of the seller''s items.', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'total_revenue': {'description': 'Sum of item price, BRL (freight excluded).', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'last_updated_at': {'description': 'Latest order_updated_at of the orders the seller sold in; null when never sold.'},
        'seller_volume_tier': {'description': 'High (>= 100 items), Medium (10-99), Low (1-9), No sales.', 'tests': ['not_null', {'accepted_values': {'values': ['High', 'Medium', 'Low', 'No sales']}}]},
    },
    tags=['warehouse', 'dimension'],
) }}

with sales as (

    select
        items.seller_id,
        count(*) as total_items_sold,
        count(distinct items.order_id) as total_orders,
        sum(items.price) as total_revenue,
        max(items.order_updated_at) as last_updated_at
    from {{ ref('fact_order_items') }} as items
    {% if is_incremental() %}
    where items.seller_id in {{ changed('seller_id') }}
    {% endif %}
    group by items.seller_id

)

select
    {{ surrogate_key('s.seller_id') }} as seller_key,
    s.seller_id,
    s.seller_city,
    s.seller_city_raw,
    s.seller_state,
    s.seller_zip_code_prefix,
    cast(coalesce(sales.total_items_sold, 0) as {{ type_int }}) as total_items_sold,
    cast(coalesce(sales.total_orders, 0) as {{ type_int }}) as total_orders,
    round(cast(coalesce(sales.total_revenue, 0) as {{ type_numeric }}), 2) as total_revenue,
    case
        when coalesce(sales.total_items_sold, 0) >= 100 then 'High'
        when coalesce(sales.total_items_sold, 0) >= 10 then 'Medium'
        when coalesce(sales.total_items_sold, 0) >= 1 then 'Low'
        else 'No sales'
    end as seller_volume_tier,
    sales.last_updated_at
from {{ ref('stg_sellers') }} as s
left join sales
    on s.seller_id = sales.seller_id
{% if is_incremental() %}
-- The sellers whose sales or attributes changed: their rows are rebuilt, every other
-- row stays.
where s.seller_id in {{ changed('seller_id') }}
{% endif %}
