{{ config(severity='error', narrow_by='order_id', description='Every fact_orders.item_count equals the number of its rows in fact_order_items (0 for orders without items), and no item row belongs to an order missing from fact_orders.') }}

with item_rows as (

    select order_id, count(*) as item_rows
    from {{ ref('fact_order_items') }}
    group by order_id

)

select
    coalesce(f.order_id, i.order_id) as order_id,
    f.item_count,
    i.item_rows
from {{ ref('fact_orders') }} as f
full outer join item_rows as i
    on f.order_id = i.order_id
where f.order_id is null
   or f.item_count <> coalesce(i.item_rows, 0)
