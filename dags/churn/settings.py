"""The bundle's settings: ``[parity]`` options (env ``AIRFLOW__PARITY__<KEY>``) over embedded defaults.

The defaults are the one-machine setup: Delta tables under ``$AIRFLOW_HOME/lake``, the
contracts and dbt project beside ``dags/``, MLflow's SQLite store. Helm and docker compose
set the same options to object storage and servers; DAG files never change.
Read when a DAG file is parsed; cheap (no heavy import).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_parity.compat import parity_option

# dags/churn/settings.py -> the bundle root, where contracts/ and dbt_project/ sit beside dags/.
BUNDLE_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    lake_uri: str
    contracts_dir: str
    dbt_project_dir: str
    dbt_target: str
    mlflow_conn_id: str | None
    model_name: str
    alert_file: str
    freshness_timeout: int
    """Seconds the freshness sensor waits for fresh features before it blocks the run."""
    skew_lookback: str
    """How much recent serving traffic the skew gates compare with the training snapshot."""
    min_retrain_interval: str
    """A skew breach asks for retraining only when the last model is at least this old."""
    skew_alert_persistence: str = "1/1"
    """The monitor alerts after N breached windows among the last M (``"2/3"``); ``1/1``: the first one."""
    skew_alert_cooldown: str = "6h"
    """After an alert, the monitor stays quiet this long (the breaches are still recorded)."""
    alert_slack_webhook_conn_id: str = ""
    alert_pagerduty_conn_id: str = ""
    """Connections GateNotifier pages through when a gate blocks (empty: not wired; the demo has none)."""
    alert_cooldown: str = "1h"
    alert_persistence: str = "1/1"
    prometheus_url: str = ""
    """Where the post-promotion watch reads business KPIs (empty: no KPI guardrail)."""
    online_store: str = ""
    """Where feature_pipeline materialises each contract-clean version for ``parity serve`` (SQLite or Redis URL)."""

    @property
    def features_table(self) -> str:
        return f"{self.lake_uri}/features/customer_features"

    @property
    def serving_log_table(self) -> str:
        return f"{self.lake_uri}/serving/feature_log"

    @property
    def contract_path(self) -> str:
        return os.path.join(self.contracts_dir, "customer_features.yaml")

    @property
    def labels_contract_path(self) -> str:
        return os.path.join(self.contracts_dir, "churn_labels.yaml")


def load_settings() -> Settings:
    home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
    lake_uri = parity_option("lake_uri", "") or os.path.join(home, "lake")
    return Settings(
        lake_uri=lake_uri,
        contracts_dir=parity_option("contracts_dir", "") or str(BUNDLE_ROOT / "contracts"),
        dbt_project_dir=parity_option("dbt_project_dir", "") or str(BUNDLE_ROOT / "dbt_project"),
        dbt_target=parity_option("dbt_target", "duckdb"),
        mlflow_conn_id=parity_option("mlflow_conn_id", "") or None,
        model_name=parity_option("model_name", "churn"),
        alert_file=parity_option("alert_file", "") or os.path.join(home, "parity", "alerts.jsonl"),
        freshness_timeout=int(parity_option("freshness_timeout", "21600")),
        skew_lookback=parity_option("skew_lookback", "24h"),
        min_retrain_interval=parity_option("min_retrain_interval", "6h"),
        skew_alert_persistence=parity_option("skew_alert_persistence", "1/1"),
        skew_alert_cooldown=parity_option("skew_alert_cooldown", "6h"),
        alert_slack_webhook_conn_id=parity_option("alert_slack_webhook_conn_id", ""),
        alert_pagerduty_conn_id=parity_option("alert_pagerduty_conn_id", ""),
        alert_cooldown=parity_option("alert_cooldown", "1h"),
        alert_persistence=parity_option("alert_persistence", "1/1"),
        prometheus_url=parity_option("prometheus_url", ""),
        online_store=parity_option("online_store", "") or default_online_store(lake_uri),
    )


def gate_alerts(settings: Settings) -> list[Any]:
    """A GateNotifier for the gates when alert connections are configured, else nothing."""
    if not (settings.alert_slack_webhook_conn_id or settings.alert_pagerduty_conn_id):
        return []
    from airflow_provider_parity.notifications.gate import GateNotifier

    return [GateNotifier(slack_webhook_conn_id=settings.alert_slack_webhook_conn_id or None,
                         pagerduty_events_conn_id=settings.alert_pagerduty_conn_id or None,
                         cooldown=settings.alert_cooldown, persistence=settings.alert_persistence)]


def default_online_store(lake_uri: str) -> str:
    """SQLite under a local lake (the embedded default); beside AIRFLOW_HOME when the lake is remote."""
    if "://" in lake_uri and not lake_uri.startswith("file://"):
        folder = os.path.join(os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")), "parity")
    else:
        folder = os.path.join(lake_uri.removeprefix("file://"), "online")
    return f"sqlite:///{os.path.abspath(os.path.join(folder, 'online.db'))}"
