{{ config(severity='error', description='fact_order_items holds exactly the rows of stg_order_items.') }}

select s.order_id, s.order_item_id
from {{ ref('stg_order_items') }} as s
left join {{ ref('fact_order_items') }} as f
    on s.order_id = f.order_id
   and s.order_item_id = f.order_item_id
where f.order_id is null

union all

select f.order_id, f.order_item_id
from {{ ref('fact_order_items') }} as f
left join {{ ref('stg_order_items') }} as s
    on s.order_id = f.order_id
   and s.order_item_id = f.order_item_id
where s.order_id is null
