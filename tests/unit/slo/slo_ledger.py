"""A synthetic ledger: 28 daily runs of the customer_features gates, written with ``append_outcome``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow_provider_parity.outcomes.model import Check, GateOutcome, RunIdentity

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DATASET = "s3://lake/features/customer_features"


def day_outcomes(ref: str, day: int, *, fresh: bool = True, complete: bool = True) -> list[GateOutcome]:
    """Day ``day`` (0 = 27 days before NOW, 27 = the latest) of the daily feature pipeline."""
    finished = NOW - timedelta(days=27 - day, hours=1)
    run_id = f"scheduled__{finished.date()}"
    lag = 3600.0 if fresh else 50_000.0
    freshness = GateOutcome(
        gate="freshness", status="passed" if fresh else "failed", blocking=not fresh,
        reason="fresh" if fresh else "stale", dataset=DATASET, version=day, contract=ref,
        as_of=finished.isoformat(), finished_at=finished.isoformat(),
        checks=(Check("freshness(column:updated_at)", fresh, "updated_at", "newest", ">= required"),),
        metrics={"lag_seconds": lag, "max_age_seconds": 43_200.0},
        run=RunIdentity("daily_retraining", run_id, "features_fresh"))
    contract = GateOutcome(
        gate="contract", status="passed" if complete else "failed", blocking=not complete, reason="contract",
        dataset=DATASET, version=day, contract=ref, finished_at=(finished + timedelta(minutes=5)).isoformat(),
        checks=(Check("completeness(avg_ticket_30d)", complete, "avg_ticket_30d", "ratio", ">= 0.8"),
                Check("not_null(customer_id)", True, "customer_id", "0 nulls", "no nulls")),
        metrics={"rows": 500}, run=RunIdentity("feature_pipeline", run_id, "contract_gate"))
    return [freshness, contract]

