"""The assets that connect the bundle's DAGs."""

from __future__ import annotations

from airflow.sdk import Asset

from churn.settings import Settings


def table_asset_uri(table: str) -> str:
    """An asset URI for a table root: object-store URIs as they are, local paths as ``file://``."""
    return table if "://" in table else f"file://{table}"


def features_asset(settings: Settings) -> Asset:
    """A new version of the customer feature table (feature_pipeline -> daily_retraining)."""
    return Asset(name="churn.customer_features", uri=table_asset_uri(settings.features_table))


# Serving traffic drifted from the champion's training data (serving_skew_monitor -> daily_retraining).
SKEW_BREACH = Asset(name="churn.serving_skew_breach", uri="parity://churn/serving_skew_breach")
