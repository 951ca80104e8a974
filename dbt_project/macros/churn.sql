{# The lake's root: the lake_uri var, else the PARITY_LAKE_URI environment variable. #}
{% macro churn_lake_uri() -%}
  {{ var('lake_uri', '') or env_var('PARITY_LAKE_URI') }}
{%- endmacro %}

{# The day's raw table. source() always runs, so lineage and docs show the source on every
   adapter; duckdb reads it through the source's external_location, Spark reads the
   partition's Parquet directly. #}
{% macro churn_raw(table) -%}
  {%- set relation = source('raw', table) -%}
  {%- if target.type in ('spark', 'databricks') -%}
    parquet.`{{ churn_lake_uri() }}/raw/{{ table }}/date={{ var('feature_date') }}`
  {%- else -%}
    {{ relation }}
  {%- endif -%}
{%- endmacro %}

{# The feature date as a SQL date literal. #}
{% macro churn_feature_date() -%}
  cast('{{ var("feature_date") }}' as date)
{%- endmacro %}

{# A time zone aware timestamp: the contract's timestamp type on each adapter. #}
{% macro churn_timestamp_type() -%}
  {{ 'timestamptz' if target.type in ('duckdb', 'postgres') else dbt.type_timestamp() }}
{%- endmacro %}
