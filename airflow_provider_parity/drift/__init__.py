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

import importlib
from typing import Any

_EXPORTS = {
    "DatasetProfile": "airflow_provider_parity.drift.profile",
    "Profiler": "airflow_provider_parity.drift.profile",
    "profile_batches": "airflow_provider_parity.drift.profile",
    "DriftSettings": "airflow_provider_parity.drift.compare",
    "Rule": "airflow_provider_parity.drift.compare",
    "compare_profiles": "airflow_provider_parity.drift.compare",
    "compare_datasets": "airflow_provider_parity.drift.compare",
    "DriftResult": "airflow_provider_parity.drift.result",
    "run_drift": "airflow_provider_parity.drift.gate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
