{# Row-count bounds of the contract. #}
{% test parity_row_count(model, min=none, max=none) %}
select n from (select count(*) as n from {{ model }}) counted
where 1 = 0
{% if min is not none %} or n < {{ min }}{% endif %}
{% if max is not none %} or n > {{ max }}{% endif %}
{% endtest %}
