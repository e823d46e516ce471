{{ config(
    materialized='view',
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
-- Only a few (review_id, order_id) pairs repeat, and only a few orders have more than one
-- review: ranking just those rows, not sorting every review by its text, halves the cost of
-- the view (which every test of it pays again). A row with a NULL key goes through the
-- ranking too, where NULLs partition together as before.
repeated_pairs as (

    select review_id, order_id
    from source
    group by review_id, order_id
    having count(*) > 1

),

keyed as (

    select
        source.*,
        (
            repeated_pairs.review_id is not null
            or source.review_id is null
            or source.order_id is null
        ) as needs_ranking
    from source
    left join repeated_pairs
        on source.review_id = repeated_pairs.review_id
        and source.order_id = repeated_pairs.order_id

),

deduplicated as (

    select
        review_id, order_id, review_score, review_comment_title, review_comment_message,
        review_creation_date, review_answer_timestamp
    from keyed
    where not needs_ranking

    union all

    select
        review_id, order_id, review_score, review_comment_title, review_comment_message,
        review_creation_date, review_answer_timestamp
    from (
        select
            keyed.*,
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
        from keyed
        where needs_ranking
    ) as ranked
    where row_num = 1

),

orders_reviewed_more_than_once as (

    select order_id
    from deduplicated
    group by order_id
    having count(*) > 1

),

per_order as (

    select
        deduplicated.*,
        1 as order_review_rank
    from deduplicated
    left join orders_reviewed_more_than_once as repeated
        on deduplicated.order_id = repeated.order_id
    where repeated.order_id is null and deduplicated.order_id is not null

    union all

    select
        deduplicated.*,
        row_number() over (
            partition by deduplicated.order_id
            order by
                case when deduplicated.review_answer_timestamp is null then 1 else 0 end,
                deduplicated.review_answer_timestamp desc,
                deduplicated.review_creation_date desc,
                deduplicated.review_id
        ) as order_review_rank
    from deduplicated
    left join orders_reviewed_more_than_once as repeated
        on deduplicated.order_id = repeated.order_id
    where repeated.order_id is not null or deduplicated.order_id is null

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
