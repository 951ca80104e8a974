"""The label-quality gate: inter-annotator agreement, conflicts and label drift against the contract.

No Airflow here; numpy and pyarrow only (the statistics are computed in ``agreement``).

Example:
    >>> from airflow_provider_parity.labels import run_labels
    >>> result = run_labels(contract, "annotations.parquet", reference="training.parquet")
    >>> result.outcome().status
    'passed'
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "LabelQualityResult": "airflow_provider_parity.labels.gate",
    "evaluate_labels": "airflow_provider_parity.labels.gate",
    "run_labels": "airflow_provider_parity.labels.gate",
    "render_html": "airflow_provider_parity.labels.report",
    "report_files": "airflow_provider_parity.labels.report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
