"""The churn model's promotion policy: what a challenger must show to become champion."""

from __future__ import annotations

from typing import Any

PROMOTION_POLICY: dict[str, Any] = {
    # The data gates this run passed must be on record, and none failed.
    "require_passed_gates": True,
    "required_gates": ["contract", "skew"],
    "metrics": [
        # Better than chance by a margin, and no worse than the champion overall or on any plan.
        {"metric": "auc", "slices": ["overall"], "min": 0.6, "max_drop": 0.02},
        {"metric": "auc", "slices": ["plan=basic", "plan=plus", "plan=premium"], "max_drop": 0.05},
    ],
}
