"""Training-versus-serving skew and drift: profiles, the comparison engine, verdicts, reports.

No Airflow here. The public names are re-exported lazily (numpy and pyarrow load
on first use), so importing the package stays cheap.

Example:
    >>> from airflow_provider_parity.drift import run_drift
    >>> result, profile = run_drift("train.parquet", "serving.parquet")
    >>> result.verdict, result.drifted_features
    ('failed', ['tenure_days'])
"""

from __future__ import annotations

from airflow_provider_parity.lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "DatasetProfile": "airflow_provider_parity.drift.profile",
    "Profiler": "airflow_provider_parity.drift.profile",
    "profile_batches": "airflow_provider_parity.drift.profile",
    "DriftSettings": "airflow_provider_parity.drift.compare",
    "Rule": "airflow_provider_parity.drift.compare",
    "compare_profiles": "airflow_provider_parity.drift.compare",
    "compare_datasets": "airflow_provider_parity.drift.compare",
    "DriftResult": "airflow_provider_parity.drift.result",
    "run_drift": "airflow_provider_parity.drift.gate",
})
