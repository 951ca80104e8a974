"""The post-promotion watch's analysis: one check per guardrail, a breach means roll back (or abort a canary)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.outcomes.model import GateOutcome
from airflow_provider_parity.tracking.watch import LiveSignals, WatchPolicy, analyse, log_signals, psi, skew_rate

POLICY = WatchPolicy.from_dict({"max_prediction_psi": 0.2, "max_skew_increase": 0.01,
                                "max_boundary_failure_increase": 0.01, "min_requests": 100,
                                "kpis": [{"name": "conversion", "query": "avg(conv)", "max_drop": 0.1},
                                         {"name": "latency", "query": "avg(lat)", "max_drop": 0.2,
                                          "higher_is_better": False}]})
RNG = np.random.default_rng(0)
BEFORE = RNG.beta(2, 5, 2000).tolist()


def _signals(predictions: list[float] = BEFORE, **kwargs: object) -> LiveSignals:
    values = {"requests": len(predictions), "boundary_failure_rate": 0.0, "skew_rate": 0.0,
              "kpis": {"conversion": 0.10, "latency": 0.05}, **kwargs}
    return LiveSignals(predictions=predictions, **values)  # type: ignore[arg-type]


def test_the_same_signals_keep_the_champion_and_ramp_a_canary() -> None:
    verdict = analyse(POLICY, _signals(), _signals(RNG.beta(2, 5, 2000).tolist()))
    assert not verdict.breached and verdict.action == "keep" and verdict.canary_action == "ramp"
    assert verdict.reason.startswith("5 guardrail(s) held (prediction_psi, boundary_failure_rate, skew_rate")


@pytest.mark.parametrize(("after", "fired"), [
    ({"predictions": RNG.beta(5, 2, 2000).tolist()}, "prediction_psi: observed"),
    ({"boundary_failure_rate": 0.05}, "boundary_failure_rate: observed 0 -> 0.05, expected an increase of at most 0.01"),
    ({"skew_rate": 0.03}, "skew_rate: observed 0 -> 0.03"),
    ({"kpis": {"conversion": 0.085, "latency": 0.05}}, "kpi(conversion): observed 0.1 -> 0.085 (-15.0%)"),
    # A cost that rises is worse: latency up 40% against a 20% allowance.
    ({"kpis": {"conversion": 0.10, "latency": 0.07}}, "kpi(latency): observed 0.05 -> 0.07 (+40.0%)"),
])
def test_each_guardrail_breach_rolls_back_naming_it(after: dict[str, object], fired: str) -> None:
    predictions = after.pop("predictions", BEFORE)
    verdict = analyse(POLICY, _signals(), _signals(predictions, **after))  # type: ignore[arg-type]
    assert verdict.breached and verdict.action == "rollback" and verdict.canary_action == "abort"
    assert fired in verdict.reason
    outcome = verdict.outcome(as_of="2026-03-05T00:00:00+00:00")
    assert outcome.gate == "watch" and outcome.blocking and outcome.metrics == {"action": "rollback", "breached": 1}


def test_a_kpi_within_its_allowance_and_missing_kpis_do_not_breach() -> None:
    within = _signals(kpis={"conversion": 0.0905, "latency": 0.059})
    assert not analyse(POLICY, _signals(), within).breached
    missing = analyse(POLICY, _signals(), _signals(kpis={"conversion": None}))
    assert not missing.breached
    assert [c.severity for c in missing.checks if c.name.startswith("kpi(")] == ["warn", "warn"]


def test_too_few_requests_leave_the_serving_log_unjudged() -> None:
    thin = _signals(BEFORE[:50], boundary_failure_rate=0.5)
    verdict = analyse(POLICY, _signals(), thin)
    assert not verdict.breached
    assert [c.name for c in verdict.checks][:1] == ["requests"] and "prediction_psi" not in verdict.reason


def test_psi_is_zero_for_the_same_sample_and_large_for_a_shift() -> None:
    assert psi(BEFORE, BEFORE) == pytest.approx(0.0, abs=1e-9)
    assert psi(BEFORE, (np.asarray(BEFORE) + 0.3).tolist()) > 1.0


def test_the_serving_log_window_is_half_open_and_reads_optional_columns() -> None:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    log = pa.table({"served_at": pa.array([start - timedelta(seconds=1), start, start + timedelta(hours=1),
                                           start + timedelta(days=1)], pa.timestamp("us", tz="UTC")),
                    "prediction": [0.9, 0.1, 0.2, 0.3], "boundary": ["passed", "passed", "failed", "passed"]})
    signals = log_signals(log, start, start + timedelta(days=1))
    assert signals.requests == 2 and signals.predictions == [0.1, 0.2] and signals.boundary_failure_rate == 0.5
    bare = log_signals(log.select(["served_at"]), start, start + timedelta(days=1))
    assert bare.predictions == [] and bare.boundary_failure_rate is None


def test_skew_rate_averages_the_feature_skew_outcomes_in_the_window() -> None:
    def skew(as_of: str, rate: float) -> GateOutcome:
        return GateOutcome(gate="feature_skew", status="passed", blocking=False, reason="r", as_of=as_of,
                           metrics={"max_mismatch_rate": rate})

    outcomes = [skew("2026-03-01T04:00:00+00:00", 0.5), skew("2026-03-02T04:00:00+00:00", 0.02),
                skew("2026-03-02T10:00:00+00:00", 0.04)]
    assert skew_rate(outcomes, datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)) == pytest.approx(0.03)
    assert skew_rate(outcomes, datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)) is None


@pytest.mark.parametrize(("data", "message"), [
    ({"evaluation_window": "soon"}, "evaluation_window: invalid duration"),
    ({"kpis": [{"name": "conversion"}]}, "a KPI needs a name and a query"),
    ({"kpis": [{"name": "c", "query": "q", "max_drop": -1}]}, "max_drop must be a number >= 0"),
    ({"max_prediction_psi": "high"}, "max_prediction_psi must be a number or null"),
    ({"guardrails": []}, "unknown key(s) guardrails"),
])
def test_a_malformed_watch_policy_is_a_configuration_error(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=None) as info:
        WatchPolicy.from_dict(data)
    assert message in str(info.value)
