"""Champion versus challenger, metric by metric and slice by slice, as JSON and HTML artifacts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_provider_parity.tracking import keys

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from airflow_provider_parity.tracking.client import VersionInfo
    from airflow_provider_parity.tracking.promotion import (
        PromotionDecision,
        PromotionPolicy,
    )


@dataclass(frozen=True)
class SliceRow:
    slice: str
    metric: str
    challenger: float | None
    champion: float | None
    delta: float | None
    """challenger - champion."""
    passed: bool | None
    """Whether the policy's checks on this (metric, slice) passed; None when the policy has none."""


@dataclass(frozen=True)
class ComparisonReport:
    model: str
    challenger_version: str
    champion_version: str | None
    passed: bool | None
    rows: list[SliceRow] = field(default_factory=list)
    reason: str = ""


def build_comparison(challenger: VersionInfo, champion: VersionInfo | None, policy: PromotionPolicy,
                     decision: PromotionDecision | None = None) -> ComparisonReport:
    """One row per (metric, slice) of the policy; without metric rules, one per challenger metric.

    Args:
        challenger: the candidate and its run's metrics.
        champion: the current champion (None: first promotion).
        policy: names the metrics, slices and the metric key pattern.
        decision: the gate's decision, to mark each row passed or failed.
    """
    pairs = [(r.metric, s) for r in policy.metrics for s in r.slices]
    if pairs:
        named = [(m, s, keys.metric_key(m, s, policy.metric_key)) for m, s in pairs]
    else:
        named = [(k, "", k) for k in sorted(challenger.metrics)]
    theirs = champion.metrics if champion else {}
    rows = []
    for metric, slice_name, key in named:
        mine, ref = challenger.metrics.get(key), theirs.get(key)
        verdicts = [c.passed for c in (decision.checks if decision else [])
                    if c.kind == "metric" and c.name == metric and c.slice == slice_name]
        rows.append(SliceRow(slice=slice_name, metric=metric, challenger=mine, champion=ref,
                             delta=None if mine is None or ref is None else mine - ref,
                             passed=all(verdicts) if verdicts else None))
    rows += _backtest_rows(policy, decision)
    return ComparisonReport(model=challenger.name, challenger_version=challenger.version,
                            champion_version=champion.version if champion else None,
                            passed=decision.passed if decision else None, rows=rows,
                            reason=decision.reason if decision else "")


def _backtest_rows(policy: PromotionPolicy, decision: PromotionDecision | None) -> list[SliceRow]:
    """One row per backtest slice: both models' scores there and whether the challenger won or tied."""
    from airflow_provider_parity.tracking.backtest import METRICS

    rule = policy.backtest
    if rule is None or decision is None:
        return []
    higher = METRICS[rule.metric][1]
    rows = []
    for s in decision.backtest:
        delta = None if s.challenger is None or s.champion is None else s.challenger - s.champion
        won = None if delta is None else (delta if higher else -delta) >= -rule.tolerance
        rows.append(SliceRow(slice=f"{rule.time_column}={s.slice}", metric=f"backtest {rule.metric}",
                             challenger=s.challenger, champion=s.champion, delta=delta, passed=won))
    return rows


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"


def render_html(report: ComparisonReport) -> str:
    """A self-contained HTML page of the report."""
    from airflow_provider_parity.reports.html import (
        html_table,
        render_page,
        status_badge,
    )

    verdict = {True: "passed", False: "failed", None: "n/a"}
    summary = [("Model", report.model), ("Challenger", f"v{report.challenger_version}"),
               ("Champion", f"v{report.champion_version}" if report.champion_version else "none"),
               ("Gate", status_badge(verdict[report.passed])), ("Reason", report.reason or "—")]
    rows = [(r.slice or "—", r.metric, _num(r.challenger), _num(r.champion),
             "—" if r.delta is None else f"{r.delta:+.6g}", status_badge(verdict[r.passed])) for r in report.rows]
    table = html_table(["Slice", "Metric", "Challenger", "Champion", "Δ", "Check"], rows)
    return render_page(f"{report.model}: challenger vs champion", summary, [("Metrics per slice", table)])


def log_comparison(client: MlflowClient, run_id: str, report: ComparisonReport) -> None:
    """Log the report as ``parity/comparison.json`` and ``parity/comparison.html`` on ``run_id``."""
    client.log_dict(run_id, dataclasses.asdict(report), keys.COMPARISON_JSON)
    client.log_text(run_id, render_html(report), keys.COMPARISON_HTML)
