{{ config(
    materialized='view',
    delta_key='product_id',
    description='One row per product from products_raw, with the English category from the translation table. product_category_english falls back to the Portuguese name when the category has no translation (pc_gamer, portateis_cozinha_e_preparadores_de_alimentos) and to ''unknown'' when the category is null (610 products), so it is never null. The misspelled raw columns (…_lenght) are renamed …_length. Weights and dimensions are passed through: 0 g and null are real values of the data.',
    columns={
        'product_id': {'description': 'Natural key of the product.', 'tests': ['unique', 'not_null']},
        'product_category_english': {'description': 'English category; Portuguese when untranslated; unknown when null.', 'tests': ['not_null']},
        'product_weight_g': {'description': 'Weight in grams; 0 for 4 products and null for 2 in the real data.', 'tests': [{'accepted_range': {'min': 0}}]},
    },
    tests=[
        {'expression': {'expression': "is_category_translated or product_category_name is null or product_category_english = product_category_name"}},
    ],
    tags=['staging', 'products'],
) }}

with products as (

    select
        product_id,
        nullif(lower(trim(product_category_name)), '') as product_category_name,
        cast(product_name_lenght as {{ type_int }}) as product_name_length,
        cast(product_description_lenght as {{ type_int }}) as product_description_length,
        cast(product_photos_qty as {{ type_int }}) as product_photos_qty,
        cast(product_weight_g as {{ type_int }}) as product_weight_g,
        cast(product_length_cm as {{ type_int }}) as product_length_cm,
        cast(product_height_cm as {{ type_int }}) as product_height_cm,
        cast(product_width_cm as {{ type_int }}) as product_width_cm
    from {{ source('raw', 'products') }}

),

translation_rows as (

    select
        lower(trim(product_category_name)) as category_pt,
        trim(product_category_name_english) as category_en
    from {{ source('raw', 'product_category_name_translation') }}
    where product_category_name is not null

),

-- One row per Portuguese name even if the translation file ever repeats one.
translation as (

    select
        category_pt,
        min(category_en) as category_en
    from translation_rows
    group by category_pt

)

select
    p.product_id,
    p.product_category_name,
    case
        when p.product_category_name is null then 'unknown'
        when t.category_en is null then p.product_category_name
        else t.category_en
    end as product_category_english,
    t.category_en is not null as is_category_translated,
    p.product_name_length,
    p.product_description_length,
    p.product_photos_qty,
    p.product_weight_g,
    p.product_length_cm,
    p.product_height_cm,
    p.product_width_cm
from products as p
left join translation as t
    on p.product_category_name = t.category_pt
