{# Values not matching the regex; passes while their share of non-null rows stays within 1 - mostly. #}
{% test parity_regex(model, column_name, regex, mostly=1.0) %}
{# The failure count is the offending rows (the other engines' count), not the one summary row. #}
{{ config(fail_calc = "coalesce(sum(offending), 0)") }}
with stats as (
    select
        count({{ column_name }}) as non_null,
        sum(case when {{ column_name }} is not null
                  and not ({{ parity_regex_match(column_name, regex) }}) then 1 else 0 end) as offending
    from {{ model }}
)
select * from stats where offending > (1 - {{ mostly }}) * non_null
{% endtest %}

{% macro parity_regex_match(column_name, regex) %}
  {%- if target.type in ("spark", "databricks") -%} {{ column_name }} rlike '{{ regex }}'
  {%- elif target.type in ("postgres", "redshift") -%} {{ column_name }} ~ '{{ regex }}'
  {%- else -%} regexp_matches({{ column_name }}, '{{ regex }}')
  {%- endif -%}
{% endmacro %}
