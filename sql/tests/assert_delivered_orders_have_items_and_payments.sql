{{ config(severity='warn', description='Delivered orders without any item or without any payment: possible in the real data (775 orders have no items, mostly canceled or unavailable; 1 has no payment), reported so a jump is noticed.') }}

select order_id, order_status, item_count, payment_count
from {{ ref('fact_orders') }}
where order_status = 'delivered'
  and (item_count = 0 or payment_count = 0)
