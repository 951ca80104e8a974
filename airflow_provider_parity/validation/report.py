"""The validation result as a JSON file and a self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_parity.fileio import Output, commit_outputs, json_text
from airflow_provider_parity.reports.html import html_table, render_page, status_badge
from airflow_provider_parity.validation.result import ValidationResult


def render_html(result: ValidationResult) -> str:
    summary = [
        ("Status", status_badge(result.status)),
        ("Contract", result.contract),
        ("Data", result.source + (f" (version {result.version})" if result.version is not None else "")),
        ("Rows", f"{result.row_count:,}"),
        ("Engine", result.engine),
        ("Rules", f"{len(result.rules) - len(result.failures)} passed, {len(result.failures)} failed"),
    ]
    rules = html_table(
        ["Status", "Rule", "Column", "Observed", "Expected"],
        [[status_badge("passed" if r.success else result.status), r.rule, r.column or "", r.observed, r.expected]
         for r in sorted(result.rules, key=lambda r: r.success)],
    )
    metrics = html_table(
        ["Column", "Nulls", "Non-null", "Min", "Max"],
        [[name, m.get("nullCount"), m.get("count"), m.get("min", ""), m.get("max", "")]
         for name, m in result.column_metrics.items()],
    )
    return render_page(f"Data contract validation: {result.contract}", summary,
                       [("Rules", rules), ("Column metrics", metrics)])


def write_reports(result: ValidationResult, *, json_path: str | Path | None = None,
                  html_path: str | Path | None = None) -> ValidationResult:
    """Write the reports (both or neither) and record their paths on the result."""
    if html_path:
        result.report_html = str(Path(html_path))
    if json_path:
        result.report_json = str(Path(json_path))
    files: dict[str | Path, Output] = {}
    if html_path:
        files[html_path] = render_html(result)
    if json_path:
        files[json_path] = json_text(result.to_dict())
    commit_outputs(files)
    return result
