"""The promotion policy, evaluated without MLflow: gates, slice metrics, the champion, the interval."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.tracking.client import VersionInfo
from airflow_provider_parity.tracking.promotion import MetricThreshold, PromotionPolicy, evaluate

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
GATES_OK = {"parity.gate.validation.status": "passed", "parity.gate.drift.status": "warned"}
POLICY = PromotionPolicy.from_dict({
    "metrics": [{"metric": "auc", "slices": ["overall", "country=FR"], "min": 0.7, "max_drop": 0.005},
                {"metric": "log_loss", "max_drop": 0.01, "higher_is_better": False}],
    "required_gates": ["validation"],
})


def version(v: str, metrics: dict[str, float], tags: dict[str, str] | None = None) -> VersionInfo:
    return VersionInfo(name="churn", version=v, run_id=f"run{v}", source="s",
                       tags=GATES_OK if tags is None else tags, metrics=metrics)


CHAMPION = version("1", {"auc.overall": 0.90, "auc.country_FR": 0.85, "log_loss.overall": 0.30})


def failed(decision) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.message for c in decision.checks if not c.passed]


def test_a_challenger_within_tolerance_passes() -> None:
    challenger = version("2", {"auc.overall": 0.896, "auc.country_FR": 0.846, "log_loss.overall": 0.305})
    decision = evaluate(POLICY, challenger, CHAMPION, now=NOW)
    assert decision.passed, failed(decision)
    assert decision.reason == "all checks passed"
    assert {(c.kind, c.name, c.slice) for c in decision.checks} >= {
        ("gate", "validation", None), ("metric", "auc", "country=FR"), ("metric", "log_loss", "overall")}
    json.dumps(dataclasses.asdict(decision))  # XCom, tags and reports read the same object


def test_a_regression_on_one_slice_blocks_and_is_named() -> None:
    challenger = version("2", {"auc.overall": 0.95, "auc.country_FR": 0.80, "log_loss.overall": 0.2})
    decision = evaluate(POLICY, challenger, CHAMPION, now=NOW)
    assert not decision.passed
    assert failed(decision) == ["auc on slice 'country=FR': 0.8 vs champion 0.85 - 0.005 = 0.845"]


def test_lower_is_better_metrics_compare_the_other_way() -> None:
    challenger = version("2", {"auc.overall": 0.9, "auc.country_FR": 0.85, "log_loss.overall": 0.32})
    assert failed(evaluate(POLICY, challenger, CHAMPION, now=NOW)) == [
        "log_loss on slice 'overall': 0.32 vs champion 0.3 + 0.01 = 0.31"]


def test_absolute_minimum_applies_without_a_champion() -> None:
    challenger = version("1", {"auc.overall": 0.65, "auc.country_FR": 0.9, "log_loss.overall": 0.3})
    decision = evaluate(POLICY, challenger, None, now=NOW)
    assert failed(decision) == ["auc on slice 'overall': 0.65 vs minimum 0.7"]
    assert decision.champion is None


def test_a_missing_metric_blocks() -> None:
    challenger = version("2", {"auc.overall": 0.95, "log_loss.overall": 0.3})
    assert failed(evaluate(POLICY, challenger, CHAMPION, now=NOW)) == [
        "auc on slice 'country=FR': metric 'auc.country_FR' not logged on the challenger's run"]


def test_a_failed_data_gate_blocks() -> None:
    tags = {**GATES_OK, "parity.gate.drift.status": "failed"}
    challenger = version("2", dict(CHAMPION.metrics), tags)
    assert failed(evaluate(POLICY, challenger, CHAMPION, now=NOW)) == [
        "gate 'drift' on the challenger's data: failed (expected passed)"]


def test_no_recorded_gates_blocks_and_a_required_gate_must_be_there() -> None:
    challenger = version("2", dict(CHAMPION.metrics), {})
    assert failed(evaluate(POLICY, challenger, CHAMPION, now=NOW)) == [
        "no data gate results recorded on the challenger",
        "gate 'validation' not recorded on the challenger's data"]


def test_minimum_interval_since_the_last_promotion() -> None:
    policy = dataclasses.replace(POLICY, min_interval="24h")
    challenger = version("2", dict(CHAMPION.metrics))
    early = evaluate(policy, challenger, CHAMPION, champion_promoted_at=NOW - timedelta(hours=2), now=NOW)
    assert failed(early) == ["champion promoted 2.00h ago, policy minimum 24h"]
    late = evaluate(policy, challenger, CHAMPION, champion_promoted_at=NOW - timedelta(hours=25), now=NOW)
    assert late.passed


@pytest.mark.parametrize("data, message", [
    ({"metric": [{"metric": "auc"}]}, "unknown keys ['metric']"),
    ({"metrics": [{"metric": "auc", "slice": ["x"], "min": 1}]}, "unknown keys ['slice']"),
    ({"metrics": [{"metric": "auc"}]}, "set min, max or max_drop"),
    ({"metrics": [{"metric": "auc", "max_drop": -1}]}, "max_drop must be >= 0"),
    ({"metrics": [{"metric": "auc", "slices": [], "min": 0.5}]}, "name at least one slice"),
    ({"min_interval": "soon"}, "min_interval: invalid duration 'soon'"),
    ({"metric_key": "{slice}"}, "must contain {metric}"),
])
def test_bad_policies_are_refused_with_the_reason(data: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigurationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        PromotionPolicy.from_dict(data)


def test_policy_round_trips_through_plain_data() -> None:
    again = PromotionPolicy.from_dict(json.loads(json.dumps(dataclasses.asdict(POLICY))))
    assert again == POLICY
    assert again.metrics[0] == MetricThreshold("auc", ("overall", "country=FR"), min=0.7, max_drop=0.005)


def test_a_policy_arrives_as_json_text_from_a_templated_parameter() -> None:
    from airflow_provider_parity.exceptions import ConfigurationError
    from airflow_provider_parity.tracking.promotion import PromotionPolicy

    policy = PromotionPolicy.coerce('{"metrics": [{"metric": "auc", "min": 0.7}]}')
    assert policy.metrics[0].metric == "auc" and policy.metrics[0].min == 0.7
    with pytest.raises(ConfigurationError, match="not JSON"):
        PromotionPolicy.coerce("{metrics: nope")
    with pytest.raises(ConfigurationError, match="JSON object"):
        PromotionPolicy.coerce("[1, 2]")
