{{ config(severity='error', description='The customer segments partition the customers: their counts sum to the number of distinct customer_unique_id with an order, and to the rows of dim_customer.') }}

with segments as (

    select customer_segment, count(*) as customers
    from {{ ref('dim_customer') }}
    group by customer_segment

),

segment_total as (

    select sum(case when customer_segment in ('Loyal', 'Repeat', 'One-time') then customers else 0 end) as n
    from segments

),

dim_rows as (

    select count(*) as n from {{ ref('dim_customer') }}

),

people as (

    -- fact_orders holds every order with its person (assert_fact_orders_complete): one
    -- column of one table, instead of joining the staging views again.
    select count(distinct customer_unique_id) as n
    from {{ ref('fact_orders') }}

)

select segment_total.n as segmented, dim_rows.n as dim_rows, people.n as people
from segment_total
cross join dim_rows
cross join people
where coalesce(segment_total.n, 0) <> people.n
   or dim_rows.n <> people.n
