"""Gate outcomes: the one value every gate produces, and the ledger that keeps them.

No Airflow here; the ledger's Delta imports load on first use.

Example:
    >>> from airflow_provider_parity.outcomes import GateOutcome, append_outcome, read_outcomes
    >>> append_outcome("/lake/parity/ledger", outcome)
    >>> [o.status for o in read_outcomes("/lake/parity/ledger", gate="contract")]
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Check": "airflow_provider_parity.outcomes.model",
    "GateOutcome": "airflow_provider_parity.outcomes.model",
    "RunIdentity": "airflow_provider_parity.outcomes.model",
    "coerce_outcomes": "airflow_provider_parity.outcomes.model",
    "append_outcome": "airflow_provider_parity.outcomes.ledger",
    "read_outcomes": "airflow_provider_parity.outcomes.ledger",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
