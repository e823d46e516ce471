{{ config(severity='error', description='dim_date has no gaps, starts on January 1 and ends on December 31 (whole years), and covers every date the facts reference.') }}

with bounds as (

    select
        min(date_day) as first_day,
        max(date_day) as last_day,
        count(*) as n_days
    from {{ ref('dim_date') }}

),

shape_failures as (

    select 'gap or duplicate' as failure, cast(null as {{ type_date }}) as missing_day
    from bounds
    where n_days <> {{ date_diff_days('first_day', 'last_day') }} + 1

    union all

    select 'not whole years', cast(null as {{ type_date }})
    from bounds
    where extract(month from first_day) <> 1 or extract(day from first_day) <> 1
       or extract(month from last_day) <> 12 or extract(day from last_day) <> 31

),

referenced as (

    select date_key as d from {{ ref('fact_orders') }}
    union all select delivery_date from {{ ref('fact_orders') }}
    union all select estimated_delivery_date from {{ ref('fact_orders') }}
    union all select {{ to_date('order_approved_at') }} from {{ ref('fact_orders') }}
    union all select {{ to_date('order_delivered_carrier_date') }} from {{ ref('fact_orders') }}
    union all select date_key from {{ ref('fact_order_items') }}
    union all select shipping_limit_date_day from {{ ref('fact_order_items') }}

),

uncovered as (

    select distinct 'date not in dim_date' as failure, referenced.d as missing_day
    from referenced
    left join {{ ref('dim_date') }} as dim
        on referenced.d = dim.date_key
    where referenced.d is not null
      and dim.date_key is null

)

select * from shape_failures
union all
select * from uncovered
