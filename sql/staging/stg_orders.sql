{{ config(
    materialized='view',
    delta_key='order_id',
    description='One row per order from orders_raw. Status trimmed and lower-cased; purchase date as a DATE; order_updated_at = the latest non-null order event (purchase, approval, carrier hand-over, customer delivery), the column that moves forward when an order progresses and drives the incremental facts.',
    columns={
        'order_id': {'description': 'Natural key of the order.', 'tests': ['unique', 'not_null']},
        'customer_id': {'description': 'Per-order customer id (one per order in Olist).', 'tests': ['not_null', {'relationships': {'to': 'stg_customers', 'field': 'customer_id'}}]},
        'order_status': {'description': 'Normalised status (lower, trimmed).', 'tests': ['not_null', {'accepted_values': {'values': ['delivered', 'shipped', 'canceled', 'unavailable', 'invoiced', 'processing', 'created', 'approved']}}]},
        'order_purchase_timestamp': {'description': 'When the order was placed.', 'tests': ['not_null']},
        'order_estimated_delivery_date': {'description': 'Delivery date promised at purchase (always set).', 'tests': ['not_null']},
        'order_purchase_date': {'description': 'Purchase day (DATE).', 'tests': ['not_null']},
        'order_updated_at': {'description': 'Latest non-null event timestamp of the order; never earlier than the purchase.', 'tests': ['not_null']},
    },
    tags=['staging', 'orders'],
) }}

with source as (

    select * from {{ source('raw', 'orders') }}

),

typed as (

    select
        order_id,
        customer_id,
        lower(trim(order_status)) as order_status,
        cast(order_purchase_timestamp as {{ type_timestamp }}) as order_purchase_timestamp,
        cast(order_approved_at as {{ type_timestamp }}) as order_approved_at,
        cast(order_delivered_carrier_date as {{ type_timestamp }}) as order_delivered_carrier_date,
        cast(order_delivered_customer_date as {{ type_timestamp }}) as order_delivered_customer_date,
        cast(order_estimated_delivery_date as {{ type_timestamp }}) as order_estimated_delivery_date
    from source

)

select
    order_id,
    customer_id,
    order_status,
    order_purchase_timestamp,
    order_approved_at,
    order_delivered_carrier_date,
    order_delivered_customer_date,
    order_estimated_delivery_date,
    {{ to_date('order_purchase_timestamp') }} as order_purchase_date,
    {{ to_date('order_delivered_customer_date') }} as order_delivered_date,
    {{ to_date('order_estimated_delivery_date') }} as order_estimated_delivery_date_day,
    -- greatest() propagates NULL on BigQuery but skips it on DuckDB: replace every missing
    -- event by the purchase time (never null, never later than a real event) so both agree.
    -- The estimated delivery date is a forecast, not an event, and is left out.
    greatest(
        order_purchase_timestamp,
        coalesce(order_approved_at, order_purchase_timestamp),
        coalesce(order_delivered_carrier_date, order_purchase_timestamp),
        coalesce(order_delivered_customer_date, order_purchase_timestamp)
    ) as order_updated_at
from typed
