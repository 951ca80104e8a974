{# Primary key: no two rows share the same combination of columns. #}
{% test parity_unique_combination(model, columns) %}
select {{ columns | join(", ") }}, count(*) as n
from {{ model }}
group by {{ columns | join(", ") }}
having count(*) > 1
{% endtest %}
