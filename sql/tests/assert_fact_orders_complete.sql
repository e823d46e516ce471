{{ config(severity='error', description='fact_orders holds exactly one row per distinct order of stg_orders: every order, every status, none extra.') }}

with expected as (

    select count(distinct order_id) as n from {{ ref('stg_orders') }}

),

actual as (

    select count(*) as n, count(distinct order_id) as n_distinct from {{ ref('fact_orders') }}

)

select expected.n as expected_orders, actual.n as fact_rows, actual.n_distinct as fact_distinct_orders
from expected
cross join actual
where expected.n <> actual.n
   or actual.n <> actual.n_distinct
