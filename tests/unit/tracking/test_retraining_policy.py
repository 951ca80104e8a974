"""The retraining policy's decision table: retrain, skip or forbid, each with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.outcomes.model import GateOutcome, RunIdentity
from airflow_provider_parity.tracking.retraining import (
    RetrainingPolicy,
    RetrainingSignals,
    decide,
    history,
    signal,
)

NOW = datetime(2026, 3, 10, tzinfo=UTC)
POLICY = RetrainingPolicy.from_dict({"min_interval": "12h", "max_interval": "7d", "drift_request": 0.1,
                                     "skew_request": 0.01, "label_floor": 0.5, "evaluation_window": "2d"})


def _ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


@pytest.mark.parametrize(("signals", "decision", "reason"), [
    # Labels under the floor forbid, even when everything else asks for a retraining.
    ({"label_quality": 0.42, "drift": 0.9, "last_retraining": _ago(24 * 30)}, "forbid",
     "label quality krippendorff_alpha 0.4200 is under the floor 0.5"),
    ({}, "retrain", "no retraining on record"),
    ({"last_retraining": _ago(3), "drift": 0.9}, "skip", "last retraining 3.0h ago, under the minimum interval 12.0h"),
    ({"last_retraining": _ago(30), "last_promotion": _ago(30), "drift": 0.9}, "skip",
     "promoted 30.0h ago is in its evaluation window of 2.0d"),
    ({"last_retraining": _ago(24 * 8)}, "retrain", "last retraining 8.0d ago, at least the maximum interval 7.0d"),
    ({"last_retraining": _ago(24 * 8), "last_promotion": _ago(24 * 8), "label_quality": 0.5}, "retrain",
     "maximum interval"),
    ({"last_retraining": _ago(24 * 3), "drift": 0.25}, "retrain", "requested by drift 0.25 >= 0.1"),
    ({"last_retraining": _ago(24 * 3), "skew": 0.02}, "retrain", "requested by skew 0.02 >= 0.01"),
    ({"last_retraining": _ago(24 * 3), "requested": "psi 0.4 on plan"}, "retrain", "requested: psi 0.4 on plan"),
    ({"last_retraining": _ago(24 * 3), "drift": 0.05, "skew": 0.0}, "skip",
     "nothing asks for it: last retraining 3.0d ago (maximum interval 7.0d); drift 0.05 below 0.1; skew 0 below 0.01"),
])
def test_the_decision_table(signals: dict[str, object], decision: str, reason: str) -> None:
    result = decide(POLICY, RetrainingSignals(now=NOW, **signals))  # type: ignore[arg-type]
    assert result.decision == decision
    assert reason in result.reason
    outcome = result.outcome(as_of=NOW.isoformat())
    assert outcome.gate == "retraining_policy" and outcome.metrics["decision"] == decision
    assert outcome.blocking == (decision == "forbid") and outcome.reason.startswith(f"{decision}: ")


def test_the_boundaries_are_inclusive_where_they_allow() -> None:
    # Exactly the minimum interval is allowed; exactly the maximum is due; exactly the request level asks.
    assert decide(POLICY, RetrainingSignals(now=NOW, last_retraining=_ago(12), drift=0.1)).decision == "retrain"
    assert decide(POLICY, RetrainingSignals(now=NOW, last_retraining=_ago(12), drift=0.0999)).decision == "skip"
    assert decide(POLICY, RetrainingSignals(now=NOW, last_retraining=_ago(24 * 7))).decision == "retrain"
    assert decide(POLICY, RetrainingSignals(now=NOW, last_retraining=_ago(48), last_promotion=_ago(48),
                                            drift=0.5)).decision == "retrain"


def test_an_empty_policy_retrains_whenever_asked_and_never_forbids() -> None:
    empty = RetrainingPolicy.from_dict({})
    assert decide(empty, RetrainingSignals(now=NOW, last_retraining=_ago(0.1), label_quality=-1.0,
                                           requested="monitor")).decision == "retrain"
    assert decide(empty, RetrainingSignals(now=NOW, last_retraining=_ago(0.1))).decision == "skip"


@pytest.mark.parametrize(("data", "message"), [
    ({"min_interval": "soon"}, "min_interval: invalid duration 'soon'"),
    ({"drift_request": "high"}, "drift_request must be a number"),
    ({"label_floor": True}, "label_floor must be a number"),
    ({"max_intervall": "1d"}, "unknown key(s) max_intervall"),
    ({"min_interval": "2d", "max_interval": "1d"}, "min_interval 2 days, 0:00:00 is longer than max_interval"),
    ({"label_metric": "accuracy"}, "label_metric must be one of krippendorff_alpha"),
])
def test_a_malformed_policy_is_a_one_line_configuration_error(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        RetrainingPolicy.from_dict(data)
    assert message in str(info.value) and "\n" not in str(info.value)


def _outcome(gate: str, run_id: str, *, as_of: str | None = None, blocking: bool = False,
             **metrics: object) -> GateOutcome:
    return GateOutcome(gate=gate, status="failed" if blocking else "passed", blocking=blocking, reason="r",
                       as_of=as_of, metrics=dict(metrics),
                       run=RunIdentity(dag_id="daily_retraining", run_id=run_id, task_id=gate))


def test_history_counts_training_runs_and_their_promotions_by_their_as_of() -> None:
    ledger = [
        _outcome("retraining_policy", "r1", as_of="2026-03-02T00:00:00+00:00", decision="retrain", mode="train"),
        _outcome("promotion", "r1"),
        _outcome("retraining_policy", "r2", as_of="2026-03-05T00:00:00+00:00", decision="retrain", mode="train"),
        _outcome("promotion", "r2", blocking=True),  # kept as challenger: not a promotion
        _outcome("retraining_policy", "r3", as_of="2026-03-06T00:00:00+00:00", decision="skip", mode="train"),
        _outcome("retraining_policy", "m1", as_of="2026-03-07T03:00:00+00:00", decision="retrain", mode="request"),
        _outcome("retraining_policy", "r4", as_of="2026-03-20T00:00:00+00:00", decision="retrain", mode="train"),
    ]
    last_retraining, last_promotion = history(ledger, before=datetime(2026, 3, 8, tzinfo=UTC))
    assert last_retraining == datetime(2026, 3, 5, tzinfo=UTC)
    assert last_promotion == datetime(2026, 3, 2, tzinfo=UTC)
    assert history([], before=NOW) == (None, None)


def test_signals_read_numbers_only() -> None:
    gate = _outcome("skew", "r1", max_score=0.31, worst="plan")
    assert signal(gate, "max_score") == pytest.approx(0.31)
    assert signal(gate, "worst") is None and signal(None, "max_score") is None
