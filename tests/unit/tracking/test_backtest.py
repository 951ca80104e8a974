"""The backtest's judgement per slice and its win share (the scoring of real models is in the integration test)."""

from __future__ import annotations

import pytest

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.tracking.backtest import BacktestPolicy, SliceScore, backtest_checks
from airflow_provider_parity.tracking.promotion import PromotionPolicy


def _policy(**kwargs: object) -> BacktestPolicy:
    return BacktestPolicy.from_dict({"time_column": "day", "label": "y", **kwargs})


def test_wins_ties_within_tolerance_and_losses_make_the_share() -> None:
    scores = [SliceScore("d1", 100, 0.80, 0.78), SliceScore("d2", 100, 0.775, 0.78), SliceScore("d3", 100, 0.70, 0.78),
              SliceScore("d4", 3, None, None)]
    rows = backtest_checks(_policy(min_win_share=0.6, tolerance=0.01), scores)
    assert [r[0] for r in rows] == ["day=d1", "day=d2", "day=d3", "day=d4", "win_share"]
    assert [r[3].split("(")[-1] for r in rows[:3]] == ["win or tie)", "win or tie)", "loss)"]
    assert "undefined (3 rows, one class), not judged" in rows[3][2]
    name, ok, message, observed, _ = rows[-1]
    assert ok and observed == "0.6667" and "won or tied 2 of 3 slices (67%) of day, minimum 60%" in message
    assert not backtest_checks(_policy(min_win_share=0.7, tolerance=0.01), scores)[-1][1]


def test_a_lower_is_better_metric_and_no_judged_slice() -> None:
    rows = backtest_checks(_policy(metric="log_loss"), [SliceScore("d1", 50, 0.40, 0.45)])
    assert "win or tie" in rows[0][3] and rows[-1][1]
    assert not backtest_checks(_policy(), [SliceScore("d1", 2, None, None)])[-1][1]


@pytest.mark.parametrize(("data", "message"), [
    ({"label": "y"}, "a time_column and a label is required"),
    ({"time_column": "day", "label": "y", "slices": 0}, "slices must be >= 1"),
    ({"time_column": "day", "label": "y", "metric": "f1"}, "metric must be one of auc, log_loss"),
    ({"time_column": "day", "label": "y", "window": 3}, "unknown keys ['window']"),
])
def test_a_malformed_backtest_section_is_a_configuration_error(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        PromotionPolicy.from_dict({"backtest": data})
    assert message in str(info.value)
