"""MLflow training records, registration, the promotion gate, rollback and audits.

Domain code: no Airflow. Each module imports mlflow inside its functions, so a serving
service or the dag-processor can import the dataclasses without paying for mlflow.

- ``record``: what a training task records on its run (pinned data, contract, gates, code, environment).
- ``registry``: register a run's model as a version, copy its data tags, set the ``challenger`` alias.
- ``promotion``: policy dataclasses, their evaluation, and the gated ``champion`` alias switch.
- ``history``: the champion history kept as a registered-model tag.
- ``rollback``: move ``champion`` back to the previous champion.
- ``reproduce``: recreate a version's training set from its recorded Delta versions.
- ``compare``: champion versus challenger per-slice report.
"""
