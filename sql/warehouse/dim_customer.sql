{{ config(
    materialized='incremental',
    unique_key='customer_unique_id',
    keys_from={'fact_orders': 'customer_unique_id', 'stg_customers': 'customer_id'},
    description='SCD1 customer dimension, ONE ROW PER PERSON (customer_unique_id), kept at current values: an incremental build recomputes, over their whole history, only the people whose orders changed in fact_orders, or whose representative customer_id changed in stg_customers, and replaces their rows (keys_from); everyone else keeps theirs, and a person left without orders leaves the table. customer_id, city, state and zip come from the person''s latest order (latest purchase time, then highest order_id). total_orders counts every order the person placed, whatever its status (the same orders as fact_orders); total_spent sums their payments (fact_orders.total_order_value). canceled_orders counts those canceled or unavailable so they can be excluded. customer_segment: Loyal = 3 or more orders, Repeat = 2, One-time = 1.',
    columns={
        'customer_key': {'description': 'surrogate_key(customer_unique_id).', 'tests': ['unique', 'not_null']},
        'customer_unique_id': {'description': 'The person: natural key of the dimension.', 'tests': ['unique', 'not_null']},
        'customer_id': {'description': 'customer_id of the person''s latest order (a representative; customer_id is per order).', 'tests': ['unique', 'not_null', {'relationships': {'to': 'stg_customers', 'field': 'customer_id'}}]},
        'total_orders': {'description': 'Orders placed, all statuses.', 'tests': ['not_null', {'accepted_range': {'min': 1}}]},
        'canceled_orders': {'description': 'Orders canceled or unavailable among total_orders.', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'total_spent': {'description': 'Sum of payments over all the person''s orders, BRL.', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
        'first_order_date': {'description': 'Purchase date of the first order.', 'tests': ['not_null']},
        'last_order_date': {'description': 'Purchase date of the latest order.', 'tests': ['not_null']},
        'customer_segment': {'description': 'Loyal (>= 3 orders), Repeat (2), One-time (1).', 'tests': ['not_null', {'accepted_values': {'values': ['Loyal', 'Repeat', 'One-time']}}]},
        'last_updated_at': {'description': 'The latest order event of the person (max order_updated_at).', 'tests': ['not_null']},
    },
    tests=[
        {'expression': {'expression': 'first_order_date <= last_order_date'}},
        {'expression': {'expression': "(customer_segment = 'Loyal' and total_orders >= 3) or (customer_segment = 'Repeat' and total_orders = 2) or (customer_segment = 'One-time' and total_orders = 1)"}},
    ],
    tags=['warehouse', 'dimension'],
) }}

-- Built from fact_orders, which holds every order with its person (customer_unique_id), its
-- payments total and its order_updated_at: one table scan instead of joining the staging
-- views of orders, customers and payments again.
with orders as (

    select
        order_id,
        order_status,
        order_purchase_timestamp,
        order_purchase_date_day as order_purchase_date,
        customer_id,
        customer_unique_id,
        total_order_value,
        order_updated_at
    from {{ ref('fact_orders') }}
    where customer_unique_id is not null
    {% if is_incremental() %}
    -- Only the people whose orders changed, or whose latest order's customer row may
    -- have, with ALL their orders: their figures are recomputed over their whole history;
    -- everyone else's row stays as it is.
    and customer_unique_id in (
        select changed_orders.customer_unique_id
        from {{ ref('fact_orders') }} as changed_orders
        where changed_orders.customer_unique_id in {{ changed('customer_unique_id') }}
            or changed_orders.customer_id in {{ changed('customer_id') }}
    )
    {% endif %}

),

totals as (

    select
        customer_unique_id,
        count(*) as total_orders,
        sum(case when order_status in ('canceled', 'unavailable') then 1 else 0 end) as canceled_orders,
        sum(total_order_value) as total_spent,
        min(order_purchase_date) as first_order_date,
        max(order_purchase_date) as last_order_date,
        max(order_updated_at) as last_updated_at
    from orders
    group by customer_unique_id

),

latest_order as (

    select customer_unique_id, customer_id
    from (
        select
            customer_unique_id,
            customer_id,
            row_number() over (
                partition by customer_unique_id
                order by order_purchase_timestamp desc, order_id desc
            ) as recency_rank
        from orders
    ) as ranked
    where recency_rank = 1

)

select
    {{ surrogate_key('totals.customer_unique_id') }} as customer_key,
    totals.customer_unique_id,
    latest_order.customer_id,
    customers.customer_zip_code_prefix,
    customers.customer_city,
    customers.customer_state,
    cast(totals.total_orders as {{ type_int }}) as total_orders,
    cast(totals.canceled_orders as {{ type_int }}) as canceled_orders,
    round(cast(totals.total_spent as {{ type_numeric }}), 2) as total_spent,
    totals.first_order_date,
    totals.last_order_date,
    case
        when totals.total_orders >= 3 then 'Loyal'
        when totals.total_orders = 2 then 'Repeat'
        else 'One-time'
    end as customer_segment,
    totals.last_updated_at
from totals
inner join latest_order
    on totals.customer_unique_id = latest_order.customer_unique_id
inner join {{ ref('stg_customers') }} as customers
    on latest_order.customer_id = customers.customer_id
