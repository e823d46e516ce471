{{ config(
    materialized='view',
    delta_key='order_id',
    description='Reviews at the grain of one row per (review_id, order_id). review_id is not unique in Olist (one review can cover several orders of a cart) and an order can have several reviews, so neither column alone is a key. When the same (review_id, order_id) appears more than once, the row with the latest answer is kept (then the latest creation date, then the lowest score, then the comment text, so the choice is deterministic on every engine). is_latest_order_review marks the one review per order an analysis should use.',
    columns={
        'review_id': {'description': 'Review id; repeats across orders.', 'tests': ['not_null']},
        'order_id': {'description': 'Order reviewed.', 'tests': ['not_null', {'relationships': {'to': 'stg_orders', 'field': 'order_id'}}]},
        'review_score': {'description': 'Score from 1 to 5.', 'tests': ['not_null', {'accepted_values': {'values': [1, 2, 3, 4, 5]}}]},
        'is_latest_order_review': {'description': 'True for exactly one review per order: the latest answered.', 'tests': ['not_null']},
    },
    tests=[
        {'unique_combination': {'columns': ['review_id', 'order_id']}},
        {'expression': {'expression': 'review_answer_timestamp is null or review_answer_timestamp >= review_creation_date', 'severity': 'warn'}},
    ],
    tags=['staging', 'reviews'],
) }}

with source as (

    select
        review_id,
        order_id,
        cast(review_score as {{ type_int }}) as review_score,
        review_comment_title,
        review_comment_message,
        cast(review_creation_date as {{ type_timestamp }}) as review_creation_date,
        cast(review_answer_timestamp as {{ type_timestamp }}) as review_answer_timestamp
    from {{ source('raw', 'reviews') }}

),

-- NULLs sort first on BigQuery and last on DuckDB: order them explicitly.
ranked as (

    select
        source.*,
        row_number() over (
            partition by review_id, order_id
            order by
                case when review_answer_timestamp is null then 1 else 0 end,
                review_answer_timestamp desc,
                review_creation_date desc,
                review_score,
                coalesce(review_comment_title, ''),
                coalesce(review_comment_message, '')
        ) as row_num
    from source

),

deduplicated as (

    select * from ranked where row_num = 1

),

per_order as (

    select
        deduplicated.*,
        row_number() over (
            partition by order_id
            order by
                case when review_answer_timestamp is null then 1 else 0 end,
                review_answer_timestamp desc,
                review_creation_date desc,
                review_id
        ) as order_review_rank
    from deduplicated

)

select
    review_id,
    order_id,
    review_score,
    review_comment_title,
    review_comment_message,
    review_creation_date,
    review_answer_timestamp,
    {{ to_date('review_creation_date') }} as review_creation_date_day,
    order_review_rank = 1 as is_latest_order_review
from per_order
