{{ config(
    materialized='view',
    delta_key='customer_id',
    description='One row per customer_id from customers_raw. customer_id is per ORDER in Olist; the person is customer_unique_id. City trimmed and lower-cased, state upper-cased; zip prefix kept as a 5-character string.',
    columns={
        'customer_id': {'description': 'Per-order customer id.', 'tests': ['unique', 'not_null']},
        'customer_unique_id': {'description': 'The person behind one or more customer_ids.', 'tests': ['not_null']},
        'customer_state': {'description': 'Brazilian state (UF), upper-case.', 'tests': [{'accepted_values': {'values': ['AC', 'AL', 'AM', 'AP', 'BA', 'CE', 'DF', 'ES', 'GO', 'MA', 'MG', 'MS', 'MT', 'PA', 'PB', 'PE', 'PI', 'PR', 'RJ', 'RN', 'RO', 'RR', 'RS', 'SC', 'SE', 'SP', 'TO']}}]},
    },
    tags=['staging', 'customers'],
) }}

select
    customer_id,
    customer_unique_id,
    customer_zip_code_prefix,
    lower(trim(customer_city)) as customer_city,
    upper(trim(customer_state)) as customer_state
from {{ source('raw', 'customers') }}
