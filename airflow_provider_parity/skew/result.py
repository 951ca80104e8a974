"""The skew comparison's detailed result: per feature, how many entities disagree, by how much, and examples.

Plain dataclasses, JSON-ready; the gate outcome (``outcomes.convert.from_skew``) is derived from it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

SkewVerdict = Literal["passed", "failed", "insufficient_data"]


def json_value(value: Any) -> Any:
    """A cell as JSON holds it: numbers stay numbers, times become ISO 8601 text."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):  # NaN and infinities have no JSON form
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


@dataclass(frozen=True)
class SkewExample:
    """One request whose served value disagrees with the offline value as of its time (or has none)."""

    entity: dict[str, Any]
    served_at: str
    served: Any = None
    offline: Any = None
    offline_time: str | None = None
    request_id: str | None = None
    difference: float | None = None

    def describe(self) -> str:
        who = ", ".join(f"{k}={v}" for k, v in self.entity.items())
        return f"{who} at {self.served_at}: served {self.served!r}, offline {self.offline!r}"


@dataclass
class FeatureSkew:
    """One feature compared over every request that had an offline row as of its time.

    ``mismatch_rate`` is over entities (an entity mismatches when any of its requests does),
    the gate's measure; ``request_mismatch_rate`` is over requests.
    """

    name: str
    kind: str
    tolerance: str
    requests: int
    mismatched_requests: int
    entities: int
    mismatched_entities: int
    null_mismatches: int
    max_difference: float | None
    max_mismatch_rate: float
    examples: list[SkewExample] = field(default_factory=list)

    @property
    def mismatch_rate(self) -> float:
        return self.mismatched_entities / self.entities if self.entities else 0.0

    @property
    def request_mismatch_rate(self) -> float:
        return self.mismatched_requests / self.requests if self.requests else 0.0

    @property
    def passed(self) -> bool:
        return self.mismatch_rate <= self.max_mismatch_rate

    def summary(self) -> str:
        text = (f"{self.name}: {self.mismatch_rate:.2%} of entities mismatched ({self.mismatched_entities} of "
                f"{self.entities}) > {self.max_mismatch_rate:.2%}")
        if self.max_difference is not None:
            text += f", largest difference {self.max_difference:.6g}"
        if self.examples:
            text += f", e.g. {self.examples[0].describe()}"
        return text


@dataclass
class SkewResult:
    """Everything one skew comparison found.

    Attributes:
        log / offline: the two sides, without credentials, with ``@v<version>`` for Delta.
        requests: logged requests compared (after any time window).
        matched: requests with an offline row as of their time; ``missing`` the others.
    """

    log: str
    offline: str
    keys: list[str]
    as_of_column: str
    requests: int
    matched: int
    missing: int
    missing_entities: int
    max_missing_rate: float
    features: list[FeatureSkew]
    log_version: int | None = None
    offline_version: int | None = None
    offline_fingerprint: str | None = None
    contract: str | None = None
    window: str | None = None
    missing_examples: list[SkewExample] = field(default_factory=list)
    duration_seconds: float = 0.0
    log_uri: str | None = None
    """The serving log's URI without credentials or version: the dataset the outcome names."""

    @property
    def missing_rate(self) -> float:
        return self.missing / self.requests if self.requests else 0.0

    @property
    def missing_passed(self) -> bool:
        return self.missing_rate <= self.max_missing_rate

    @property
    def skewed_features(self) -> list[FeatureSkew]:
        return [f for f in self.features if not f.passed]

    @property
    def verdict(self) -> SkewVerdict:
        if self.requests == 0:
            return "insufficient_data"
        return "passed" if self.missing_passed and not self.skewed_features else "failed"

    def _missing_summary(self) -> str:
        text = (f"missing offline: {self.missing_rate:.2%} of requests ({self.missing} of {self.requests}) "
                f"had no offline row as of their time > {self.max_missing_rate:.2%}")
        if self.missing_examples:
            example = self.missing_examples[0]
            text += f", e.g. {', '.join(f'{k}={v}' for k, v in example.entity.items())} at {example.served_at}"
        return text

    @property
    def message(self) -> str:
        """One line: what was compared and, when skewed, which feature and entity."""
        where = f"{self.log} vs {self.offline} as of {self.as_of_column}"
        if self.verdict == "insufficient_data":
            return f"no logged request to compare in {where}"
        problems = [f.summary() for f in self.skewed_features]
        if not self.missing_passed:
            problems.append(self._missing_summary())
        if not problems:
            return (f"no skew in {len(self.features)} features over {self.matched} requests "
                    f"({self.missing} without an offline row): {where}")
        return f"feature skew in {len(self.skewed_features)} of {len(self.features)} features ({where}): " + "; ".join(
            problems)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(verdict=self.verdict, message=self.message, missing_rate=self.missing_rate)
        for feat, out in zip(self.features, data["features"], strict=True):
            out.update(mismatch_rate=feat.mismatch_rate, request_mismatch_rate=feat.request_mismatch_rate,
                       passed=feat.passed)
        return data
