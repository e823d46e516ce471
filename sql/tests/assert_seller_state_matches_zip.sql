{{ config(severity='warn', description='Sellers whose state never appears in the geolocation data for their zip prefix (35 real sellers: the state contradicts the zip). Reported, kept as given in dim_seller.') }}

with zip_states as (

    select distinct
        geolocation_zip_code_prefix as zip_code_prefix,
        upper(trim(geolocation_state)) as state
    from {{ source('raw', 'geolocation') }}

),

known_zips as (

    select distinct zip_code_prefix from zip_states

)

select s.seller_id, s.seller_zip_code_prefix, s.seller_state
from {{ ref('dim_seller') }} as s
inner join known_zips
    on s.seller_zip_code_prefix = known_zips.zip_code_prefix
left join zip_states
    on s.seller_zip_code_prefix = zip_states.zip_code_prefix
   and s.seller_state = zip_states.state
where zip_states.state is null
