{{ config(
    materialized='view',
    delta_key='order_id',
    description='One row per payment (order_id, payment_sequential) from payments_raw. payment_sequential is not a dense index (some orders start at 2); not_defined payments of 0.00 are kept as they are.',
    columns={
        'order_id': {'description': 'Order paid.', 'tests': ['not_null', {'relationships': {'to': 'stg_orders', 'field': 'order_id'}}]},
        'payment_sequential': {'description': 'Sequence of the payment within its order (not always starting at 1).', 'tests': ['not_null']},
        'payment_type': {'description': 'Payment method, lower-case.', 'tests': ['not_null', {'accepted_values': {'values': ['credit_card', 'boleto', 'voucher', 'debit_card', 'not_defined']}}]},
        'payment_installments': {'description': 'Number of instalments (0 appears for 2 credit-card rows in the real data).', 'tests': [{'accepted_range': {'min': 0, 'max': 24}}]},
        'payment_value': {'description': 'Amount paid, BRL.', 'tests': ['not_null', {'accepted_range': {'min': 0}}]},
    },
    tests=[
        {'unique_combination': {'columns': ['order_id', 'payment_sequential']}},
    ],
    tags=['staging', 'payments'],
) }}

select
    order_id,
    cast(payment_sequential as {{ type_int }}) as payment_sequential,
    lower(trim(payment_type)) as payment_type,
    cast(payment_installments as {{ type_int }}) as payment_installments,
    cast(payment_value as {{ type_numeric }}) as payment_value
from {{ source('raw', 'payments') }}
