{# Primary key: no two rows share the same combination of columns (a null is a value like any other).
   The failure count is every row of a repeated combination, as the other engines count duplicates. #}
{% test parity_unique_combination(model, columns) %}
{{ config(fail_calc = "coalesce(sum(n), 0)") }}
select {{ columns | join(", ") }}, count(*) as n
from {{ model }}
group by {{ columns | join(", ") }}
having count(*) > 1
{% endtest %}
