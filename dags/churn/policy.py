"""The churn model's promotion policy: what a challenger must show to become champion."""

from __future__ import annotations

from typing import Any

PROMOTION_POLICY: dict[str, Any] = {
    # The data gates this run passed must be on record, and none failed.
    "require_passed_gates": True,
    "required_gates": ["contract", "skew"],
    # "required": a challenger that passed waits for a person's approval (the evidence in the request) before
    # it becomes champion; unanswered after approval_timeout, on_timeout decides ("block" or "approve").
    # "none" here so the demo and the tests run unattended.
    "approval": "none",
    "on_timeout": "block",
    "approval_timeout": "24h",
    "metrics": [
        # Better than chance by a margin, and no worse than the champion overall or on any plan.
        {"metric": "auc", "slices": ["overall"], "min": 0.6, "max_drop": 0.02},
        {"metric": "auc", "slices": ["plan=basic", "plan=plus", "plan=premium"], "max_drop": 0.05},
    ],
}
