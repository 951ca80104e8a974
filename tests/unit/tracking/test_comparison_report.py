"""Champion versus challenger report: rows per slice, verdicts, and safe HTML."""

from __future__ import annotations

import dataclasses
import json

from airflow_provider_parity.tracking.client import VersionInfo
from airflow_provider_parity.tracking.compare import build_comparison, render_html
from airflow_provider_parity.tracking.promotion import PromotionPolicy, evaluate

POLICY = PromotionPolicy.from_dict({"metrics": [{"metric": "auc", "slices": ["overall", "<b>seg</b>"],
                                                 "max_drop": 0.01}], "require_passed_gates": False})


def info(version: str, metrics: dict[str, float]) -> VersionInfo:
    return VersionInfo(name="churn", version=version, run_id="r", source="s", metrics=metrics)


def test_rows_per_slice_with_deltas_and_verdicts() -> None:
    champion = info("1", {"auc.overall": 0.80, "auc._b_seg__b_": 0.70})
    challenger = info("2", {"auc.overall": 0.85, "auc._b_seg__b_": 0.60})
    report = build_comparison(challenger, champion, POLICY, evaluate(POLICY, challenger, champion))
    rows = {(r.slice, r.metric): r for r in report.rows}
    assert rows[("overall", "auc")].delta == 0.85 - 0.80 and rows[("overall", "auc")].passed is True
    assert rows[("<b>seg</b>", "auc")].passed is False
    assert report.passed is False and "<b>seg</b>" in report.reason
    json.dumps(dataclasses.asdict(report))


def test_without_rules_every_challenger_metric_is_listed_and_no_champion_is_fine() -> None:
    report = build_comparison(info("1", {"rmse": 2.0, "mae": 1.0}), None, PromotionPolicy(require_passed_gates=False))
    assert [(r.metric, r.champion, r.delta, r.passed) for r in report.rows] == [("mae", None, None, None),
                                                                                ("rmse", None, None, None)]


def test_html_escapes_slice_names_and_is_self_contained() -> None:
    champion = info("1", {"auc.overall": 0.80, "auc._b_seg__b_": 0.70})
    challenger = info("2", {"auc.overall": 0.85, "auc._b_seg__b_": 0.60})
    html = render_html(build_comparison(challenger, champion, POLICY, evaluate(POLICY, challenger, champion)))
    assert "&lt;b&gt;seg&lt;/b&gt;" in html and "<b>seg</b>" not in html
    assert "<script" not in html and "http" not in html
    assert "v2" in html and "v1" in html
