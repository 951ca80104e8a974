"""Gate outcomes: the one value every gate produces, and the ledger that keeps them.

No Airflow here; the ledger's Delta imports load on first use.

Example:
    >>> from airflow_provider_parity.outcomes import GateOutcome, append_outcome, read_outcomes
    >>> append_outcome("/lake/parity/ledger", outcome)
    >>> [o.status for o in read_outcomes("/lake/parity/ledger", gate="contract")]
"""

from __future__ import annotations

from airflow_provider_parity.lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "Check": "airflow_provider_parity.outcomes.model",
    "GateOutcome": "airflow_provider_parity.outcomes.model",
    "RunIdentity": "airflow_provider_parity.outcomes.model",
    "coerce_outcomes": "airflow_provider_parity.outcomes.model",
    "append_outcome": "airflow_provider_parity.outcomes.ledger",
    "read_outcomes": "airflow_provider_parity.outcomes.ledger",
})
