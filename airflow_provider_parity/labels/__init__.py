"""The label-quality gate: inter-annotator agreement, conflicts and label drift against the contract.

No Airflow here; numpy and pyarrow only (the statistics are computed in ``agreement``). The entry
points are ``gate.run_labels`` (reads the inputs) and ``gate.evaluate_labels`` (Arrow tables).

Example:
    >>> from airflow_provider_parity.labels.gate import run_labels
    >>> result = run_labels(contract, "annotations.parquet", reference="training.parquet")
    >>> result.outcome().status
    'passed'
"""
