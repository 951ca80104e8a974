"""Drift results as files: the JSON result and a self-contained HTML report.

The JSON is ``dataclasses.asdict`` of the :class:`DriftResult` (so ``verdict``
and a ``features`` list with ``name``, ``kind``, ``metric``, ``value``,
``threshold``, ``drifted``, ``null_rate_reference`` and ``null_rate_current``
for every feature). The HTML shows the verdict, a table of every feature and
one plot per drifted feature: the reference's and the current distribution
over the bins the metrics used.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from airflow_provider_parity.drift.result import DriftResult, FeatureDrift
from airflow_provider_parity.fileio import atomic_write_json, atomic_write_text

_STATUS = {"passed": "passed", "failed": "failed", "insufficient_data": "warned", "no_baseline": "warned"}


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such floats become None (strict JSON readers reject them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def result_json(result: DriftResult) -> dict[str, Any]:
    """The result as strict-JSON-safe plain data."""
    return _finite(asdict(result))  # type: ignore[no-any-return]


def write_json(result: DriftResult, path: str | os.PathLike[str]) -> Path:
    """Write the result as JSON, atomically."""
    return atomic_write_json(path, result_json(result))


def _fmt(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def feature_plot(feat: FeatureDrift) -> str:
    """Reference versus current share per bin, as an inline SVG bar chart."""
    from airflow_provider_parity.reports.plots import bar_chart

    bins = feat.bins
    if bins is None or not bins.labels:
        return ""
    ref_total = sum(bins.reference) or 1
    cur_total = sum(bins.current) or 1
    title = f"{feat.name}: {feat.metric} = {_fmt(feat.value)} (threshold {_fmt(feat.threshold)})"
    if bins.truncated:
        title += f"; {len(bins.labels)} of {bins.total_bins} bins shown"
    return bar_chart(
        bins.labels,
        [("reference", [c / ref_total for c in bins.reference]), ("current", [c / cur_total for c in bins.current])],
        title=title,
        width=max(480, min(1100, 60 * len(bins.labels) + 120)),
    )


def render_html(result: DriftResult, title: str = "Drift report") -> str:
    """The HTML report: summary, every feature, one plot per drifted feature, segments."""
    from airflow_provider_parity.reports.html import (
        Trusted,
        html_table,
        render_page,
        status_badge,
    )

    summary: list[tuple[str, Any]] = [
        ("Verdict", status_badge(result.verdict) if result.verdict in ("passed", "failed") else result.verdict),
        ("Message", result.message),
        ("Reference", f"{result.reference or '—'} ({result.rows_reference} rows)"),
        ("Current", f"{result.current or '—'} ({result.rows_current} rows)"),
    ]
    if result.contract:
        summary.append(("Contract", result.contract))
    if result.row_count is not None:
        rc = result.row_count
        summary.append(("Row count ratio", f"{_fmt(rc.ratio)} allowed [{rc.min_ratio}, {rc.max_ratio}]"))
    rows = [
        [f.name, f.kind, f.metric, _fmt(f.value), _fmt(f.threshold),
         status_badge(_STATUS.get(f.status, f.status)) if f.status != "insufficient_data" else "insufficient data",
         _rate(f.null_rate_reference), _rate(f.null_rate_current), f.largest_change or "", "; ".join(f.reasons)]
        for f in result.features
    ]
    sections: list[tuple[str, str]] = [
        ("Features", html_table(
            ["feature", "kind", "metric", "value", "threshold", "status", "null rate (ref)", "null rate (cur)",
             "largest change", "reasons"], rows)),
    ]
    if result.attribution:
        sections.append(("Attribution", html_table(
            ["feature", "score", "weight", "share", "drifted"],
            [[a.name, _fmt(a.score), _fmt(a.weight), f"{a.share:.1%}", "yes" if a.drifted else "no"]
             for a in result.attribution])))
    plots = [feature_plot(f) for f in result.features if f.drifted]
    if plots:
        sections.append(("Drifted features", Trusted("".join(f"<figure>{p}</figure>" for p in plots if p))))
    if result.segments:
        sections.append(("Segments", html_table(
            ["segment", "verdict", "rows (ref)", "rows (cur)", "drifted features"],
            [[s.segment, s.verdict, s.rows_reference, s.rows_current, ", ".join(s.drifted_features)]
             for s in result.segments])))
    return render_page(title, summary, sections)


def write_html(result: DriftResult, path: str | os.PathLike[str], title: str = "Drift report") -> Path:
    """Write the HTML report, atomically."""
    return atomic_write_text(path, render_html(result, title))
