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

    select count(distinct c.customer_unique_id) as n
    from {{ ref('stg_orders') }} as o
    inner join {{ ref('stg_customers') }} as c
        on o.customer_id = c.customer_id

)

select segment_total.n as segmented, dim_rows.n as dim_rows, people.n as people
from segment_total
cross join dim_rows
cross join people
where coalesce(segment_total.n, 0) <> people.n
   or dim_rows.n <> people.n
