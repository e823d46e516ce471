{{ config(severity='error', description='Sum of dim_product.total_revenue and total_quantity_sold equal the sum of fact_order_items.price and its row count.') }}

with dim as (

    select
        sum(total_revenue) as revenue,
        sum(total_quantity_sold) as quantity
    from {{ ref('dim_product') }}

),

fact as (

    select
        coalesce(sum(price), 0) as revenue,
        count(*) as quantity
    from {{ ref('fact_order_items') }}

)

select dim.revenue as dim_revenue, fact.revenue as fact_revenue, dim.quantity as dim_quantity, fact.quantity as fact_quantity
from dim
cross join fact
where dim.revenue <> fact.revenue
   or dim.quantity <> fact.quantity
