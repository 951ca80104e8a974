"""What a drift comparison returns: plain dataclasses, JSON-serialisable with ``dataclasses.asdict``.

XCom, the JSON and HTML reports, the OpenLineage facet and the CLI all read
the same :class:`DriftResult`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Verdict = Literal["passed", "failed", "no_baseline", "insufficient_data"]
FeatureStatus = Literal["passed", "failed", "insufficient_data"]

LOWER_IS_DRIFT = frozenset({"chi_square"})
"""Metrics whose value is a p-value: drift when the value falls *below* the threshold."""


@dataclass
class Bins:
    """The bins a feature's PSI, Jensen-Shannon, chi-square and L-infinity were computed on.

    Explicit bins (``(missing)``, ``(unseen)``, ``(below reference min)``, ...)
    have ``lower``/``upper`` None. ``truncated`` is True when only the bins
    with the largest differences are listed (categoricals with many values);
    the metrics always use all of them.
    """

    labels: list[str]
    reference: list[int]
    current: list[int]
    lower: list[float | None]
    upper: list[float | None]
    truncated: bool = False
    total_bins: int = 0


@dataclass
class CheckResult:
    """One check of one feature: what it measured, against which threshold, and whether it fired.

    A check fires when its effect size passes its threshold *and* the change is
    beyond sampling noise (``p_value`` at most the settings' ``significance``,
    after Benjamini-Hochberg when ``fdr`` is on): significance alone never
    flags at large n, and noise alone never flags at small n.
    """

    check: str
    """``wasserstein_sd``, ``location_sd``, ``spread_ratio``, ``point_mass``, ``out_of_range``,
    ``null_rate_change``, ``total_variation``, ``new_value_mass``, or a contract's metric rule."""
    value: float | None
    threshold: float
    fired: bool = False
    p_value: float | None = None
    """The p-value of the noise floor's test (None when the check has none)."""
    detail: str | None = None
    """Where the change is (the value gaining mass, the new values, the direction)."""
    score: float | None = None
    """Effect relative to the threshold (1.0 at the threshold)."""
    lower_is_drift: bool = False

    def line(self, feature: str) -> str:
        """``feature: check=observed > threshold`` (``<`` for p-value rules), with the detail."""
        relation = "<" if self.lower_is_drift else ">"
        shown = "None" if self.value is None else f"{self.value:.4g}"
        where = f" ({self.detail})" if self.detail else ""
        return f"{feature}: {self.check}={shown} {relation} {self.threshold:.4g}{where}"


@dataclass
class FeatureDrift:
    """One feature's comparison: every measurement, and the one the verdict used."""

    name: str
    kind: Literal["numeric", "categorical"]
    metric: str
    """The headline check: the one that fired (or came closest) with the largest score."""
    value: float | None
    """That check's value; None when a side has no data to measure."""
    threshold: float
    """That check's threshold (a PSI rule's is raised to the sample-size critical value when that is on)."""
    drifted: bool
    status: FeatureStatus
    null_rate_reference: float | None
    null_rate_current: float | None
    metrics: dict[str, float | None] = field(default_factory=dict)
    """Every metric computed for the feature, whether or not the verdict used it."""
    configured_threshold: float | None = None
    rows_reference: int = 0
    rows_current: int = 0
    null_rate_change: float | None = None
    out_of_range_fraction: float | None = None
    """Numeric: share of current values outside the reference's robust range
    (p0.5 and p99.5, widened by a tenth of their distance on each side)."""
    unseen_fraction: float | None = None
    """Categorical: share of current values the reference never saw."""
    unseen_values: list[str] = field(default_factory=list)
    largest_change: str | None = None
    """The bin (categorical value) with the largest probability difference."""
    reasons: list[str] = field(default_factory=list)
    """One line per check that fired: check, observed vs threshold."""
    checks: list[CheckResult] = field(default_factory=list)
    """Every check of the feature, fired or not."""
    score: float | None = None
    """Drift relative to its threshold (value / threshold; threshold / value for p-values)."""
    importance: float | None = None
    reference_stats: dict[str, Any] = field(default_factory=dict)
    current_stats: dict[str, Any] = field(default_factory=dict)
    bins: Bins | None = None
    fine_bits: int | None = None
    """Numeric: mantissa bits of the fine bins KS and Wasserstein were computed on."""


@dataclass
class Attribution:
    """A feature's share of the verdict."""

    name: str
    score: float
    weight: float
    contribution: float
    share: float
    drifted: bool


@dataclass
class RowCountCheck:
    reference_rows: int
    current_rows: int
    ratio: float | None
    min_ratio: float | None
    max_ratio: float | None
    passed: bool


@dataclass
class SegmentDrift:
    """The comparison restricted to one segment (``column=value`` or ``window=<start>``)."""

    segment: str
    verdict: Verdict
    rows_reference: int
    rows_current: int
    drifted_features: list[str]
    features: list[FeatureDrift]


@dataclass
class MultivariateDrift:
    """The domain classifier's verdict (see ``drift.multivariate``)."""

    method: str
    auc: float
    threshold: float
    fired: bool
    rows_reference: int
    rows_current: int
    importances: list[tuple[str, float]] = field(default_factory=list)
    """Features by the AUC lost when each is shuffled, largest first."""

    def line(self) -> str:
        top = ", ".join(f"{name} {value:.3f}" for name, value in self.importances[:3])
        relation = ">" if self.fired else "<="
        return f"multivariate: domain_classifier_auc={self.auc:.3f} {relation} {self.threshold:.3g} (most telling: {top})"


@dataclass
class DriftResult:
    """The outcome of comparing a current dataset with a reference."""

    verdict: Verdict
    message: str
    reference: str | None
    current: str | None
    rows_reference: int
    rows_current: int
    features: list[FeatureDrift]
    drifted_features: list[str]
    attribution: list[Attribution] = field(default_factory=list)
    row_count: RowCountCheck | None = None
    segments: list[SegmentDrift] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    contract: str | None = None
    skipped_features: dict[str, str] = field(default_factory=dict)
    """Features not compared and why (a type drift cannot compare, excluded by the contract)."""
    multivariate: MultivariateDrift | None = None
    """The domain classifier's verdict, when that option is on."""

    def add_multivariate(self, found: MultivariateDrift) -> None:
        """Attach the multivariate verdict; when it fired, the result fails and its message says so."""
        self.multivariate = found
        if not found.fired:
            return
        if self.verdict == "failed":
            self.message += "; " + found.line()
        elif self.verdict == "passed":
            self.verdict = "failed"
            self.message = f"drift: {found.line()}"

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    def feature(self, name: str) -> FeatureDrift:
        for feat in self.features:
            if feat.name == name:
                return feat
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def scores(self) -> dict[str, float | None]:
        """Each feature's verdict metric value, by name (the OpenLineage facet's payload)."""
        return {f.name: f.value for f in self.features}
