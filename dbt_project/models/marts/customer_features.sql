-- One row per customer for the feature date: what training reads and serving must match.
-- Columns and types are fixed by the enforced contract in models/contracts.yml.
-- The feature date is the day the extract closes: its features use the data up to its end.
with recent_orders as (
    -- Completed orders of the 30 days ending with the feature date (the extract holds a few more).
    select
        customer_id,
        count(*) as orders_30d,
        avg(amount) as avg_ticket_30d
    from {{ ref('stg_orders') }}
    where status = 'completed'
      and order_ts >= {{ dbt.dateadd('day', -29, churn_feature_date()) }}
      and order_ts < {{ dbt.dateadd('day', 1, churn_feature_date()) }}
    group by customer_id
)

select
    c.customer_id,
    {{ churn_feature_date() }} as feature_date,
    cast({{ dbt.datediff('c.signup_date', churn_feature_date(), 'day') }} as bigint) as tenure_days,
    cast(coalesce(o.orders_30d, 0) as bigint) as orders_30d,
    cast(o.avg_ticket_30d as double) as avg_ticket_30d,
    c.plan,
    c.region,
    c.updated_at,
    c.churned
from {{ ref('stg_customers') }} as c
left join recent_orders as o on o.customer_id = c.customer_id
