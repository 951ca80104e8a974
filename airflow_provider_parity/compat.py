"""Every import that depends on the Airflow version, in one place.

The provider supports Apache Airflow >= 3.1. Task SDK names moved between 3.1 and 3.3;
each fallback says which version needs it.
"""

from __future__ import annotations

try:  # Airflow >= 3.2 exposes the config parser on the Task SDK
    from airflow.sdk import conf
except ImportError:  # Airflow 3.1
    from airflow.configuration import conf  # type: ignore[no-redef,assignment]

from airflow.sdk import BaseHook, BaseOperator, BaseSensorOperator, Context
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

__all__ = [
    "AirflowFailException",
    "AirflowSkipException",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "Context",
    "conf",
]


def parity_option(key: str, fallback: str) -> str:
    """An option of the provider's ``[parity]`` config section (declared in get_provider_info)."""
    return str(conf.get("parity", key, fallback=fallback))
