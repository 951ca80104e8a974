"""Data SLOs: attainment and burn rates from the results ledger, Prometheus rules and metrics.

No Airflow here. The ledger is the only history: attainment (``parity slo report``) and the
metrics Prometheus scrapes (``slo.metrics.render``) both count SLO events with
:func:`slo.events.slo_events`, so the report and the alerts can never disagree on what a good
event is.

Example:
    >>> from airflow_provider_parity.slo import measure
    >>> [s.attainment for s in measure(contract, outcomes, now=now)]
"""

from __future__ import annotations

from airflow_provider_parity.lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "SloEvent": "airflow_provider_parity.slo.events",
    "slo_events": "airflow_provider_parity.slo.events",
    "dataset_key": "airflow_provider_parity.slo.events",
    "SloStatus": "airflow_provider_parity.slo.attainment",
    "measure": "airflow_provider_parity.slo.attainment",
    "render_rules": "airflow_provider_parity.slo.rules",
    "render": "airflow_provider_parity.slo.metrics",
})
