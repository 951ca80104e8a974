{# Freshness SLO: the newest value of the column is at most max_age_seconds old, measured from the
   var parity_as_of (the moment the run is about, so backfills and reruns judge their own day) or,
   without it, from now. A zoned type: duckdb would drop the offset casting to a plain timestamp. #}
{% test parity_max_age(model, column_name, max_age_seconds) %}
{%- set as_of = var('parity_as_of', none) -%}
{%- set zoned = 'timestamptz' if target.type in ('duckdb', 'postgres') else dbt.type_timestamp() -%}
{%- set reference = "cast('" ~ as_of ~ "' as " ~ zoned ~ ")" if as_of else dbt.current_timestamp() -%}
select newest from (select max({{ column_name }}) as newest from {{ model }}) latest
where newest is null
   or newest < {{ dbt.dateadd("second", -1 * max_age_seconds, reference) }}
{% endtest %}
