{{ config(severity='error', narrow_by='customer_key', description='Per customer, dim_customer.total_orders, total_spent and first/last order dates agree with that customer''s rows in fact_orders.') }}

with fact as (

    select
        customer_key,
        count(*) as orders,
        sum(total_order_value) as spent,
        min(date_key) as first_day,
        max(date_key) as last_day
    from {{ ref('fact_orders') }}
    group by customer_key

)

select d.customer_unique_id, d.total_orders, fact.orders, d.total_spent, fact.spent
from {{ ref('dim_customer') }} as d
full outer join fact
    on d.customer_key = fact.customer_key
where d.customer_key is null
   or fact.customer_key is null
   or d.total_orders <> fact.orders
   or d.total_spent <> fact.spent
   or d.first_order_date <> fact.first_day
   or d.last_order_date <> fact.last_day
