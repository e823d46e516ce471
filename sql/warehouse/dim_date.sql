{{ config(
    materialized='table',
    description='Calendar dimension, one row per day, covering whole calendar years from January 1 of the earliest to December 31 of the latest date the facts reference: purchase, approval, carrier and customer delivery, estimated delivery (stg_orders) and shipping limit (stg_order_items). Bounds come from the data; nothing is hard-coded. date_key is the DATE itself, as in the seed design.',
    columns={
        'date_key': {'description': 'The day (DATE); primary key.', 'tests': ['unique', 'not_null']},
        'date_day': {'description': 'The day (DATE).', 'tests': ['unique', 'not_null']},
        'date_month': {'description': 'Month number 1-12.', 'tests': ['not_null', {'accepted_range': {'min': 1, 'max': 12}}]},
        'quarter': {'description': 'Quarter 1-4.', 'tests': ['not_null', {'accepted_range': {'min': 1, 'max': 4}}]},
        'day_of_week': {'description': 'English weekday name.', 'tests': ['not_null', {'accepted_values': {'values': ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']}}]},
        'month_name': {'description': 'English month name.', 'tests': ['not_null', {'accepted_values': {'values': ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']}}]},
        'is_weekend': {'description': 'Saturday or Sunday.', 'tests': ['not_null']},
    },
    tests=[
        {'expression': {'expression': "is_weekend = (day_of_week in ('Saturday', 'Sunday'))"}},
    ],
    tags=['warehouse', 'dimension'],
) }}

with referenced_dates as (

    select order_purchase_date as referenced_day from {{ ref('stg_orders') }}
    union all
    select {{ to_date('order_approved_at') }} from {{ ref('stg_orders') }}
    union all
    select {{ to_date('order_delivered_carrier_date') }} from {{ ref('stg_orders') }}
    union all
    select {{ to_date('order_delivered_customer_date') }} from {{ ref('stg_orders') }}
    union all
    select {{ to_date('order_estimated_delivery_date') }} from {{ ref('stg_orders') }}
    union all
    select shipping_limit_date_day from {{ ref('stg_order_items') }}

),

bounds as (

    select
        cast(concat(cast(extract(year from min(referenced_day)) as {{ type_string }}), '-01-01') as {{ type_date }}) as first_day,
        cast(concat(cast(extract(year from max(referenced_day)) as {{ type_string }}), '-12-31') as {{ type_date }}) as last_day
    from referenced_dates
    -- No dates yet (a snapshot before the first order): no bounds, an empty calendar.
    having min(referenced_day) is not null

),

spine as (

    select cast(date_day as {{ type_date }}) as date_day
    from ({{ date_spine('(select first_day from bounds)', '(select last_day from bounds)') }}) as days

)

select
    date_day as date_key,
    date_day,
    cast(extract(day from date_day) as {{ type_int }}) as day_of_month,
    cast(extract(month from date_day) as {{ type_int }}) as date_month,
    cast(extract(year from date_day) as {{ type_int }}) as date_year,
    {{ day_name('date_day') }} as day_of_week,
    cast({{ iso_day_of_week('date_day') }} as {{ type_int }}) as iso_day_of_week,
    {{ month_name('date_day') }} as month_name,
    cast(extract(quarter from date_day) as {{ type_int }}) as quarter,
    {{ iso_day_of_week('date_day') }} in (6, 7) as is_weekend
from spine
