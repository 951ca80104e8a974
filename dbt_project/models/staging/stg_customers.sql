-- One row per customer record of the day's extract, typed. Deliberately no de-duplication:
-- a repeated customer is a fault the mart's key test has to see, not one to hide here.
-- Columns are qualified so that a column missing upstream fails with its name and table.
select
    cast(raw_customers.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(raw_customers.signup_date as date) as signup_date,
    cast(raw_customers.plan as {{ dbt.type_string() }}) as plan,
    cast(raw_customers.region as {{ dbt.type_string() }}) as region,
    cast(raw_customers.churned as {{ dbt.type_boolean() }}) as churned,
    cast(raw_customers.updated_at as {{ churn_timestamp_type() }}) as updated_at
from {{ churn_raw('customers') }} as raw_customers
