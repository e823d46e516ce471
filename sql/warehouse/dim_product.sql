{{ config(
    materialized='incremental',
    unique_key='product_id',
    keys_from={'fact_order_items': 'product_id', 'stg_products': 'product_id'},
    description='SCD1 product dimension, one row per product_id, with lifetime sales over every order item (all order statuses, as in fact_order_items). Incremental: the rows of the products whose sales (fact_order_items) or attributes (stg_products) changed are rebuilt over their whole history and replaced (keys_from); a change to the translation file rebuilds the table whole. total_quantity_sold = order-item rows (each row is one unit); total_revenue = sum of item price, freight excluded. product_sales_tier on total_revenue: High >= 1000 BRL, Medium 100-999.99, Low > 0 and < 100, No sales when never sold. With a median item price near 75 BRL, Low is roughly one sale, Medium a handful, High a dozen or more.',
    columns={
        'product_key': {'description': 'surrogate_key(product_id).', 'tests': ['unique', 'not_null']},
        'product_id': {'description': 'Natural key.', 'tests': ['unique', 'not_null']},
        'product_category_english': {'description': 'English category; Portuguese when untranslated; unknown when null.', 'tests': ['not_null']},
        'total_quantity_sold': {'description': 'Units sold (order-item rows).', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'total_revenue': {'description': 'Sum of item price, BRL.', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'last_updated_at': {'description': 'Latest order_updated_at of the orders the product was sold in; null when never sold.'},
        'product_sales_tier': {'description': 'High (>= 1000 BRL), Medium (>= 100), Low (> 0), No sales.', 'tests': ['not_null', {'accepted_values': {'values': ['High', 'Medium', 'Low', 'No sales']}}]},
    },
    tests=[
        {'expression': {'expression': "(total_quantity_sold = 0) = (product_sales_tier = 'No sales')"}},
    ],
    tags=['warehouse', 'dimension'],
) }}

with sales as (

    select
        items.product_id,
        count(*) as total_quantity_sold,
        sum(items.price) as total_revenue,
        max(items.order_updated_at) as last_updated_at
    from {{ ref('fact_order_items') }} as items
    {% if is_incremental() %}
    where items.product_id in {{ changed('product_id') }}
    {% endif %}
    group by items.product_id

)

select
    {{ surrogate_key('p.product_id') }} as product_key,
    p.product_id,
    p.product_category_name,
    p.product_category_english,
    p.is_category_translated,
    p.product_name_length,
    p.product_description_length,
    p.product_photos_qty,
    p.product_weight_g,
    p.product_length_cm,
    p.product_height_cm,
    p.product_width_cm,
    cast(coalesce(s.total_quantity_sold, 0) as {{ type_int }}) as total_quantity_sold,
    round(cast(coalesce(s.total_revenue, 0) as {{ type_numeric }}), 2) as total_revenue,
    case
        when coalesce(s.total_quantity_sold, 0) = 0 then 'No sales'
        when s.total_revenue >= 1000 then 'High'
        when s.total_revenue >= 100 then 'Medium'
        else 'Low'
    end as product_sales_tier,
    s.last_updated_at
from {{ ref('stg_products') }} as p
left join sales as s
    on p.product_id = s.product_id
{% if is_incremental() %}
-- The products whose sales or attributes changed: their rows are rebuilt, every other
-- row stays.
where p.product_id in {{ changed('product_id') }}
{% endif %}
