"""The reference bundle's code: the churn use case's steps, imported by the DAGs' tasks, never at parse time."""
