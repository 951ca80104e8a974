"""The churn model's retraining policy (when daily_retraining retrains, skips or must not train) and the
guardrails of the watch that follows each promotion.

Read by daily_retraining (its ``retraining_policy`` task, a run may override it with the
``retraining_policy`` param) and by serving_skew_monitor (whether a breach asks for a retraining).
"""

from __future__ import annotations

from typing import Any

RETRAINING_POLICY: dict[str, Any] = {
    # A burst of alerts retrains once; new features every day retrain daily.
    "min_interval": "12h",
    "max_interval": "1d",
    # Training-versus-serving drift (largest PSI) or per-entity skew (share of customers) that ask for one.
    "drift_request": 0.1,
    "skew_request": 0.01,
    # Labels the annotators barely agree on would teach the model the wrong truth.
    "label_floor": 0.5,
    "label_metric": "krippendorff_alpha",
    # A new champion is watched this long (post-promotion watch) before anything replaces it.
    "evaluation_window": "2d",
}

WATCH_POLICY: dict[str, Any] = {
    # The new champion against the previous one, over the same window the retraining policy waits.
    "evaluation_window": RETRAINING_POLICY["evaluation_window"],
    "max_prediction_psi": 0.2,
    "max_skew_increase": 0.01,
    "max_boundary_failure_increase": 0.01,
    "min_requests": 200,
    # Business KPIs, in the deployer's PromQL (read from [parity] prometheus_url when set).
    "kpis": [{"name": "conversion", "query": "avg(shop_conversion_rate)", "max_drop": 0.1}],
    "step": "15m",
}
