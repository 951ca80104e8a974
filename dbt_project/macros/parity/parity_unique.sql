{# Uniqueness with the project's one meaning of "duplicates": every row whose value occurs more than once
   (nulls skipped), as the DuckDB, Arrow and Great Expectations engines count them. dbt's own `unique`
   counts duplicated values instead (two rows sharing a key: 1, here 2). #}
{% test parity_unique(model, column_name) %}
{{ config(fail_calc = "coalesce(sum(n), 0)") }}
select {{ column_name }}, count(*) as n
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endtest %}
