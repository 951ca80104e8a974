{# Completeness SLO: the non-null share of the column must be at least at_least. #}
{% test parity_not_null_proportion(model, column_name, at_least) %}
select non_null_ratio from (
    select count({{ column_name }}) * 1.0 / nullif(count(*), 0) as non_null_ratio from {{ model }}
) ratio
where non_null_ratio < {{ at_least }}
{% endtest %}
