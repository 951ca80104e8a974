{# Rows outside [min, max]; passes while their share of non-null rows stays within 1 - mostly. #}
{% test parity_between(model, column_name, min=none, max=none, mostly=1.0) %}
{# The failure count is the offending rows (the other engines' count), not the one summary row. #}
{{ config(fail_calc = "coalesce(sum(offending), 0)") }}
with stats as (
    select
        count({{ column_name }}) as non_null,
        sum(case when 1 = 0
            {% if min is not none %} or {{ column_name }} < {{ "'" ~ min ~ "'" if min is string else min }}{% endif %}
            {% if max is not none %} or {{ column_name }} > {{ "'" ~ max ~ "'" if max is string else max }}{% endif %}
            then 1 else 0 end) as offending
    from {{ model }}
)
select * from stats where offending > (1 - {{ mostly }}) * non_null
{% endtest %}
