"""The label-quality gate's reports: the result as JSON, and one self-contained HTML page.

The page leads with the checks, then who and what to look at (the worst annotators with their
most frequent confusion, the worst classes), then a sample of conflicting items for an audit.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from airflow_provider_parity.reports.html import Trusted, html_table, render_page, status_badge

if TYPE_CHECKING:
    from airflow_provider_parity.labels.gate import LabelQualityResult

_SHOWN = 20  # rows per table: the worst ones; the JSON report has them all


def _num(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4f}"


def render_json(result: LabelQualityResult) -> str:
    return json.dumps(result.to_dict(), indent=2, sort_keys=True, allow_nan=False, default=str) + "\n"


def _confusion(confusion: tuple[str, str, int, int] | None) -> str:
    if confusion is None:
        return ""
    theirs, given, times, total = confusion
    return f"'{theirs}' labelled '{given}' ({times} of {total})"


def _sections(result: LabelQualityResult) -> list[tuple[str, str]]:
    checks = html_table(["check", "result", "observed", "expected"],
                        [(c.name, status_badge("passed" if c.success else ("warned" if c.severity == "warn" else "failed")),
                          c.observed, c.expected) for c in result.checks])
    annotators = html_table(["annotator", "items", "shared items", "kappa with the others", "judged",
                             "most frequent disagreement"],
                            [(a.name, a.items, a.shared_items, _num(a.kappa), "yes" if a.judged else "too few shared",
                              _confusion(a.confusion)) for a in result.annotator_stats[:_SHOWN]])
    classes = html_table(["class", "ratings", "consensus items", "kappa (class vs rest)", "share", "reference share"],
                         [(c.name, c.ratings, c.consensus_items, _num(c.kappa), f"{result.distribution.get(c.name, 0):.4f}",
                           "" if result.reference_distribution is None
                           else f"{result.reference_distribution.get(c.name, 0):.4f}") for c in result.class_stats])
    pairs = sorted(result.judged_pairs, key=lambda p: p.kappa if p.kappa is not None else 2.0)[:_SHOWN]
    pair_table = html_table(["annotators", "shared items", "Cohen's kappa"],
                            [(f"{p.first} / {p.second}", p.items, _num(p.kappa)) for p in pairs])
    sample = html_table(["item", "labels"], [(s["item"], ", ".join(f"{a}: {lab}" for a, lab in s["labels"].items()))
                                             for s in result.conflict_sample])
    return [("Checks", checks), ("Worst annotators", annotators), ("Classes", classes),
            ("Annotator pairs (worst first)", pair_table),
            (f"Conflicting items to audit ({len(result.conflict_sample)})", sample)]


def render_html(result: LabelQualityResult, title: str = "Label quality") -> str:
    summary = [("status", status_badge(result.status)), ("summary", result.summary()), ("annotations", result.source),
               ("contract", result.contract), ("items / annotators / ratings",
                                               f"{result.items} / {result.annotators} / {result.ratings}"),
               ("Fleiss' kappa", _num(result.fleiss_kappa)),
               (f"Krippendorff's alpha ({result.level})", _num(result.krippendorff_alpha)),
               ("conflicting items", _num(result.conflict_share)), ("label drift (total variation)",
                                                                     _num(result.label_drift))]
    return render_page(title, summary, [(h, Trusted(body)) for h, body in _sections(result)])


def report_files(result: LabelQualityResult, *, json_uri: str | None, html_uri: str | None,
                 title: str = "Label quality") -> dict[str, str]:
    """The reports asked for, by URI, for one ``ArtifactStore.commit`` (both land, or neither)."""
    files = {}
    if json_uri:
        files[json_uri] = render_json(result)
    if html_uri:
        files[html_uri] = render_html(result, title)
    return files
