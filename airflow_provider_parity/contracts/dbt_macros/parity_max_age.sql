{# Freshness SLO: the newest value of the column is at most max_age_seconds old. #}
{% test parity_max_age(model, column_name, max_age_seconds) %}
select newest from (select max({{ column_name }}) as newest from {{ model }}) latest
where newest is null
   or newest < {{ dbt.dateadd("second", -1 * max_age_seconds, dbt.current_timestamp()) }}
{% endtest %}
