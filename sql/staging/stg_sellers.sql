{{ config(
    materialized='view',
    delta_key='seller_id',
    description='One row per seller from sellers_raw. seller_city is trimmed and lower-cased (the raw text is free-form: accents, "- sp" suffixes, typos, even e-mails) and the raw text is kept as seller_city_raw. seller_state is upper-cased; 35 real sellers have a state that contradicts their zip prefix, reported by the warn test assert_seller_state_matches_zip.',
    columns={
        'seller_id': {'description': 'Natural key of the seller.', 'tests': ['unique', 'not_null']},
        'seller_zip_code_prefix': {'description': 'First 5 digits of the seller CEP, a string with leading zeros.', 'tests': ['not_null']},
        'seller_state': {'description': 'Brazilian state (UF), upper-case.', 'tests': ['not_null', {'accepted_values': {'values': ['AC', 'AL', 'AM', 'AP', 'BA', 'CE', 'DF', 'ES', 'GO', 'MA', 'MG', 'MS', 'MT', 'PA', 'PB', 'PE', 'PI', 'PR', 'RJ', 'RN', 'RO', 'RR', 'RS', 'SC', 'SE', 'SP', 'TO']}}]},
    },
    tags=['staging', 'sellers'],
) }}

select
    seller_id,
    seller_zip_code_prefix,
    lower(trim(seller_city)) as seller_city,
    seller_city as seller_city_raw,
    upper(trim(seller_state)) as seller_state
from {{ source('raw', 'sellers') }}
