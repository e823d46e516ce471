{{ config(
    materialized='table',
    description='SCD1 seller dimension, one row per seller_id, with lifetime sales over every order item (all order statuses). seller_city is the trimmed, lower-cased text (seller_city_raw keeps the original); seller_state is kept as given even where it contradicts the zip prefix (see assert_seller_state_matches_zip). seller_volume_tier on total_items_sold: High >= 100 items, Medium 10-99, Low 1-9, No sales 0.',
    columns={
        'seller_key': {'description': 'surrogate_key(seller_id).', 'tests': ['unique', 'not_null']},
        'seller_id': {'description': 'Natural key.', 'tests': ['unique', 'not_null']},
        'total_items_sold': {'description': 'Order-item rows sold.', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'total_orders': {'description': 'Distinct orders with at least one of the seller''s items.', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'total_revenue': {'description': 'Sum of item price, BRL (freight excluded).', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'seller_volume_tier': {'description': 'High (>= 100 items), Medium (10-99), Low (1-9), No sales.', 'tests': ['not_null', {'accepted_values': {'values': ['High', 'Medium', 'Low', 'No sales']}}]},
    },
    tags=['warehouse', 'dimension'],
) }}

with sales as (

    select
        seller_id,
        count(*) as total_items_sold,
        count(distinct order_id) as total_orders,
        sum(price) as total_revenue
    from {{ ref('stg_order_items') }}
    group by seller_id

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
    end as seller_volume_tier
from {{ ref('stg_sellers') }} as s
left join sales
    on s.seller_id = sales.seller_id
