"""The churn model's retraining policy: when daily_retraining retrains, skips or must not train.

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
