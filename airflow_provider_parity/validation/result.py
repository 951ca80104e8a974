"""Validation results: plain data, the same object for XCom, reports, lineage and MLflow."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_parity.exceptions import shorten

Status = Literal["passed", "failed", "warned"]


_UNEXPECTED_NOUN = {"not_null": "nulls", "completeness": "nulls", "unique": "duplicated values",
                    "compound_unique": "rows with a repeated key"}


def json_safe(value: Any) -> Any:
    """A sample value as JSON can hold it: NaN, inf and non-primitive values become text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


def describe_unexpected(kind: str, count: int | None, fraction: float | None, sample: list[Any]) -> str:
    """``12 nulls (0.1200%)`` or ``3 offending values (0.0300%), e.g. [-1, -4]``: one wording for every engine."""
    text = f"{count} {_UNEXPECTED_NOUN.get(kind, 'offending values')}"
    if fraction is not None:
        text += f" ({fraction:.4%})"
    if sample and kind not in _UNEXPECTED_NOUN:
        # Each value cut short: a 10-megabyte string must not become a 10-megabyte message.
        text += f", e.g. [{', '.join(shorten(repr(v), 60) for v in sample)}]"
    return text


@dataclass
class RuleResult:
    """The outcome of one contract rule on one dataset."""

    rule: str
    """Rule id, e.g. ``between(avg_ticket_30d)``."""
    kind: str
    column: str | None
    success: bool
    expected: str
    observed: str
    """What was seen, in words: ``12 nulls (0.12%)``, ``max 2024-01-02T00:00:00``."""
    unexpected_count: int | None = None
    unexpected_fraction: float | None = None
    sample: list[Any] = field(default_factory=list)
    """Up to a handful of offending values, for the report."""

    def message(self) -> str:
        return f"{self.rule}: observed {self.observed}, expected {self.expected}"


@dataclass
class ValidationResult:
    """A dataset checked against a contract."""

    contract: str
    """The contract's ``ref``: ``name@version#hash12``."""
    contract_hash: str
    source: str
    engine: str
    row_count: int
    rules: list[RuleResult]
    version: int | None = None
    """The Delta version validated, when the source is a Delta table."""
    environment: str | None = None
    column_metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    duration_seconds: float = 0.0
    warn_only: bool = False
    report_json: str | None = None
    report_html: str | None = None

    @property
    def success(self) -> bool:
        return all(r.success for r in self.rules)

    @property
    def status(self) -> Status:
        if self.success:
            return "passed"
        return "warned" if self.warn_only else "failed"

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.rules if not r.success]

    def summary(self) -> str:
        """One line: what was checked and, on failure, each failed rule with observed vs expected."""
        head = f"contract {self.contract} on {self.source}"
        if self.version is not None:
            head += f" (version {self.version})"
        if self.success:
            return f"{head}: passed {len(self.rules)} rules on {self.row_count} rows"
        fails = "; ".join(r.message() for r in self.failures)
        return f"{head}: {len(self.failures)} of {len(self.rules)} rules failed on {self.row_count} rows: {fails}"

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.update(success=self.success, status=self.status, summary=self.summary())
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationResult:
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        kwargs["rules"] = [RuleResult(**r) for r in data.get("rules", [])]
        return cls(**kwargs)

    def lineage_assertions(self) -> list[dict[str, Any]]:
        return [{"assertion": r.rule, "success": r.success, "column": r.column,
                 "expected": r.expected, "actual": r.observed, "severity": "warn" if self.warn_only else "error"}
                for r in self.rules]
