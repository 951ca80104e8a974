"""The skew result as JSON and as a small self-contained HTML page listing the mismatched entities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow_provider_parity.reports.html import html_table, render_page, status_badge
from airflow_provider_parity.skew.result import FeatureSkew, SkewExample, SkewResult


def result_json(result: SkewResult) -> str:
    return json.dumps(result.to_dict(), indent=2, sort_keys=True, default=str) + "\n"


def _entity(example: SkewExample) -> str:
    return ", ".join(f"{k}={v}" for k, v in example.entity.items())


def _difference(feat: FeatureSkew) -> str:
    return "n/a" if feat.max_difference is None else f"{feat.max_difference:.6g}"


def _examples(result: SkewResult) -> list[list[Any]]:
    return [[feat.name, _entity(e), e.served_at, e.served, e.offline, e.offline_time, e.request_id or ""]
            for feat in result.features for e in feat.examples]


def render_html(result: SkewResult, *, title: str | None = None) -> str:
    summary = [
        ("Status", status_badge(result.verdict)),
        ("Serving log", result.log + (f" ({result.window})" if result.window else "")),
        ("Offline table", result.offline + (f" (fingerprint {result.offline_fingerprint[:12]})"
                                            if result.offline_fingerprint else "")),
        ("Contract", result.contract or "none (inferred from the schemas)"),
        ("Join", f"entity {', '.join(result.keys)}; the newest offline row with {result.as_of_column} <= served_at"),
        ("Requests", f"{result.requests:,} ({result.matched:,} matched, {result.missing:,} without an offline row)"),
        ("Verdict", result.message),
    ]
    features = html_table(
        ["Status", "Feature", "Tolerance", "Mismatched entities", "Mismatched requests", "Largest difference",
         "Allowed"],
        [[status_badge("passed" if f.passed else "failed"), f.name, f.tolerance,
          f"{f.mismatch_rate:.4%} ({f.mismatched_entities:,} of {f.entities:,})",
          f"{f.request_mismatch_rate:.4%} ({f.mismatched_requests:,} of {f.requests:,})", _difference(f),
          f"{f.max_mismatch_rate:.4%}"] for f in sorted(result.features, key=lambda f: f.passed)],
    )
    examples = html_table(["Feature", "Entity", "Served at", "Served", "Offline", "Offline as of", "Request"],
                          _examples(result))
    missing = html_table(["Entity", "Served at", "Request"],
                         [[_entity(e), e.served_at, e.request_id or ""] for e in result.missing_examples])
    sections = [("Features", features), ("Mismatched entities (examples)", examples)]
    if result.missing:
        sections.append((f"Requests without an offline row ({result.missing_rate:.4%}, allowed "
                         f"{result.max_missing_rate:.4%})", missing))
    return render_page(title or f"Per-entity skew: {result.log}", summary, sections)


def write_reports(result: SkewResult, *, json_path: str | Path | None = None,
                  html_path: str | Path | None = None) -> None:
    """Both reports or neither: each is rendered before either is written, and a failed second write
    removes the first."""
    from airflow_provider_parity.artifacts import ArtifactStore

    outputs: dict[str, str] = {}
    if json_path:
        outputs[str(json_path)] = result_json(result)
    if html_path:
        outputs[str(html_path)] = render_html(result)
    if outputs:
        ArtifactStore().commit(outputs)
