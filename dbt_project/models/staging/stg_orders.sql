-- The orders of the day's extract, typed (columns qualified, as in stg_customers).
select
    cast(raw_orders.order_id as {{ dbt.type_string() }}) as order_id,
    cast(raw_orders.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(raw_orders.order_ts as {{ churn_timestamp_type() }}) as order_ts,
    cast(raw_orders.amount as double) as amount,
    cast(raw_orders.status as {{ dbt.type_string() }}) as status
from {{ churn_raw('orders') }} as raw_orders
