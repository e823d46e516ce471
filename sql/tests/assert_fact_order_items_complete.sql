{{ config(severity='error', narrow_by='order_id', description='fact_order_items holds exactly the rows of stg_order_items.') }}

-- One full outer join finds both kinds of gap: half the work of two anti joins.
select
    coalesce(s.order_id, f.order_id) as order_id,
    coalesce(s.order_item_id, f.order_item_id) as order_item_id,
    case when f.order_id is null then 'missing from fact_order_items' else 'not in stg_order_items' end as problem
from {{ ref('stg_order_items') }} as s
full outer join {{ ref('fact_order_items') }} as f
    on s.order_id = f.order_id
   and s.order_item_id = f.order_item_id
where s.order_id is null
   or f.order_id is null
