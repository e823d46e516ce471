{{ config(severity='warn', description='Orders with status delivered but no customer delivery date (8 in the real data). Their delivery_date and delivery_time_days stay null and is_late_delivery false; reported, never blocking.') }}

select
    order_id,
    order_status,
    order_purchase_timestamp,
    order_delivered_carrier_date,
    estimated_delivery_date
from {{ ref('fact_orders') }}
where order_status = 'delivered'
  and delivery_date is null
