{{ config(severity='warn', description='Orders with both payments and items whose payment total differs from item prices + freight by more than 1 BRL (vouchers, interest on instalments, data errors: ~250 real orders). Reported, never blocking.') }}

select
    order_id,
    order_status,
    total_order_value,
    items_total_value,
    total_order_value - items_total_value as difference
from {{ ref('fact_orders') }}
where payment_count > 0
  and item_count > 0
  and (total_order_value - items_total_value > 1 or items_total_value - total_order_value > 1)
