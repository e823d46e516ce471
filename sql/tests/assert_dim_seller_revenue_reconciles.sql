{{ config(severity='error', description='Per seller, dim_seller.total_items_sold and total_revenue equal the seller''s rows and price sum in fact_order_items.') }}

with fact as (

    select
        seller_key,
        count(*) as items,
        sum(price) as revenue
    from {{ ref('fact_order_items') }}
    group by seller_key

)

select d.seller_id, d.total_items_sold, fact.items, d.total_revenue, fact.revenue
from {{ ref('dim_seller') }} as d
full outer join fact
    on d.seller_key = fact.seller_key
where d.seller_key is null
   or d.total_items_sold <> coalesce(fact.items, 0)
   or d.total_revenue <> coalesce(fact.revenue, 0)
