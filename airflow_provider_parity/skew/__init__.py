"""Per-entity training/serving skew: what was served against the offline value of the same entity, then.

Distribution drift compares two histograms and cannot see a serving path that rounds
``avg_ticket_30d`` differently for some customers; this package compares value by value. Each
logged request is joined with the offline feature row of the same entity *as of* the request's
time (the newest offline row whose event time is at or before ``served_at``), and every feature
is compared with a tolerance from the contract.

No Airflow here: the CLI (``parity skew``), the operator (``FeatureSkewGateOperator``) and any
serving code share :func:`~airflow_provider_parity.skew.gate.run_skew`.

Example:
    >>> from airflow_provider_parity.skew.gate import run_skew
    >>> result = run_skew("lake/serving/feature_log", "lake/customer_features", offline_version=12,
    ...                   contract=load_contract("contracts/customer_features.yaml"))
    >>> result.verdict, [f.name for f in result.skewed_features]
    ('failed', ['avg_ticket_30d'])
"""
