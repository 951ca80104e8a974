"""The data contract: one per dataset, the single source of truth for every gate.

The model is plain pydantic (no Airflow, no data library) so that serving code can
import it. Every gate derives its checks from it: ``contracts.rules`` turns it into
rules, which compile to Great Expectations, dbt tests and the in-process serving
check; the drift gate reads ``drift``; the freshness sensor reads ``freshness``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

LogicalType = Literal["string", "integer", "float", "boolean", "date", "timestamp"]
"""Logical column types. Physical widths (int32/int64) are the engine's business."""

NUMERIC_TYPES: frozenset[str] = frozenset({"integer", "float"})
ORDERED_TYPES: frozenset[str] = frozenset({"integer", "float", "date", "timestamp"})

Role = Literal["key", "feature", "label", "event_time", "metadata"]
Environment = Literal["training", "serving"]
DriftMetric = Literal["psi", "jensen_shannon", "wasserstein", "ks", "linf", "chi_square"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """Parse ``"90s"``, ``"15m"``, ``"26h"``, ``"2d"`` or ``"1w"`` into a timedelta.

    Raises:
        ValueError: the text is not a number followed by one of s, m, h, d, w.
    """
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"invalid duration {text!r}: expected a number and a unit (s, m, h, d, w), e.g. '26h'")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class _Strict(BaseModel):
    # Unknown keys are errors: a typo such as ``nulable`` must not silently pass.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Constraints(_Strict):
    # YAML reads 2024-01-01 as a date; bounds keep the type they were written in.
    min: int | float | datetime | date | str | None = None
    max: int | float | datetime | date | str | None = None
    allowed_values: list[Any] | None = None
    regex: str | None = None
    unique: bool = False

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"regex does not compile: {exc}") from None
        return value


class Tolerances(_Strict):
    """How many offending rows a rule forgives, as a fraction of all rows."""

    max_null_fraction: float = Field(default=0.0, ge=0.0, le=1.0)
    max_invalid_fraction: float = Field(default=0.0, ge=0.0, le=1.0)


class Column(_Strict):
    name: str = Field(min_length=1)
    type: LogicalType
    nullable: bool = True
    description: str | None = None
    role: Role = "feature"
    constraints: Constraints = Constraints()
    tolerances: Tolerances | None = None
    """Overrides the contract-wide tolerances for this column."""

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


class Dataset(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
    owner: str = Field(min_length=1)
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    description: str | None = None

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


class RowCount(_Strict):
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)


class Freshness(_Strict):
    """Freshness SLO: the newest event may be at most ``max_age`` old.

    Without ``column`` the newest commit time of the table is used.
    """

    max_age: str
    column: str | None = None

    @field_validator("max_age")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def max_age_delta(self) -> timedelta:
        return parse_duration(self.max_age)


class SchemaPolicy(_Strict):
    """How the schema may evolve and how strictly data must match it."""

    extra_columns: Literal["allow", "forbid"] = "allow"
    """Data columns the contract does not declare: ignored, or a schema mismatch."""
    breaking_changes: Literal["require_major_bump", "forbid", "allow"] = "require_major_bump"
    """What ``parity contract diff`` demands of a contract change that breaks readers."""


class Environments(_Strict):
    """Columns that exist on one side only, e.g. the label is never served."""

    training_only: list[str] = []
    serving_only: list[str] = []


class DriftRule(_Strict):
    metric: DriftMetric
    threshold: float = Field(gt=0)


class DriftChecks(_Strict):
    """Effect-size thresholds of the drift checks (see ``drift.checks``); every check is always on.

    The defaults equal ``drift.checks.Thresholds`` (a test keeps them equal) and
    come from ``benchmarks/drift_calibration.py``.
    """

    wasserstein_sd: float = Field(default=0.1, gt=0)
    """Wasserstein-1 distance in reference standard deviations (location, spread and shape)."""
    location_sd: float = Field(default=0.15, gt=0)
    """Mean shift in reference standard deviations."""
    spread_ratio: float = Field(default=1.15, gt=1)
    """Spread change either way (1.15: 15% wider or narrower)."""
    point_mass: float = Field(default=0.02, gt=0, le=1)
    """Gain of one value's share of rows (e.g. a missing value filled with 0)."""
    out_of_range: float = Field(default=0.02, gt=0, le=1)
    """Gain of the share of values outside the reference's widened p0.5..p99.5."""
    null_rate_change: float = Field(default=0.02, gt=0, le=1)
    """Absolute change of the null rate (0.02: two points)."""
    total_variation: float = Field(default=0.07, gt=0, le=1)
    """Categorical: half the L1 distance of the value shares."""
    new_value_mass: float = Field(default=0.02, gt=0, le=1)
    """Categorical: share of values the reference never had, beyond chance."""


class MultivariatePolicy(_Strict):
    """A domain classifier telling current rows from reference rows (needs scikit-learn)."""

    threshold: float = Field(default=0.75, gt=0.5, lt=1)
    """Held-out ROC AUC above which the current data has drifted as a whole."""
    sample_rows: int = Field(default=20_000, ge=100)
    """Rows sampled from each side."""


class DriftPolicy(_Strict):
    checks: DriftChecks = DriftChecks()
    significance: float = Field(default=1e-4, gt=0, lt=1)
    """A check fires only when its noise test's p-value is at most this."""
    fdr: bool = False
    """Benjamini-Hochberg across every check of a run before comparing with ``significance``."""
    numeric: DriftRule | None = None
    """An extra metric rule for numeric features (the older policy's form), on top of the checks."""
    categorical: DriftRule | None = None
    features: dict[str, DriftRule] = {}
    """Per-feature metric rules overriding the two above."""
    exclude: list[str] = []
    min_rows: int = Field(default=100, ge=1)
    """Fewer rows than this on either side gives ``insufficient_data``, not a verdict."""
    on_no_baseline: Literal["pass", "fail"] = "pass"
    row_count_change: tuple[float, float] | None = None
    """Allowed ratio current/reference rows, as (min, max)."""
    multivariate: MultivariatePolicy | None = None
    """Off unless set: drift no single feature shows (a correlation that flips)."""


class Contract(_Strict):
    """A dataset's data contract.

    Example:
        >>> from airflow_provider_parity.contracts import load_contract
        >>> contract = load_contract("contracts/customer_features.yaml")
        >>> contract.column("tenure_days").type
        'integer'
    """

    dataset: Dataset
    columns: list[Column] = Field(min_length=1)
    primary_key: list[str] = []
    row_count: RowCount | None = None
    freshness: Freshness | None = None
    completeness: dict[str, float] = {}
    """Critical columns and their minimum non-null ratio (0..1)."""
    schema_policy: SchemaPolicy = SchemaPolicy()
    environments: Environments = Environments()
    drift: DriftPolicy = DriftPolicy()
    tolerances: Tolerances = Tolerances()

    @property
    def name(self) -> str:
        return self.dataset.name

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def columns_for(self, environment: Environment | None) -> list[Column]:
        """The columns expected in ``environment`` (all of them when None)."""
        if environment is None:
            return list(self.columns)
        absent = set(
            self.environments.serving_only if environment == "training" else self.environments.training_only
        )
        return [c for c in self.columns if c.name not in absent]

    def tolerances_for(self, column: Column) -> Tolerances:
        return column.tolerances or self.tolerances

    def drift_rule_for(self, column: Column) -> DriftRule | None:
        if column.name in self.drift.features:
            return self.drift.features[column.name]
        return self.drift.numeric if column.is_numeric else self.drift.categorical

    def drift_features(self) -> list[Column]:
        """Columns the drift gate compares: features present on both sides."""
        one_sided = set(self.environments.training_only) | set(self.environments.serving_only)
        skip = one_sided | set(self.drift.exclude)
        return [c for c in self.columns if c.role == "feature" and c.name not in skip]

    def canonical_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    @property
    def fingerprint(self) -> str:
        """sha256 of the canonical JSON form: the same contract always hashes the same,
        whatever the YAML's key order, comments or quoting."""
        canonical = json.dumps(self.canonical_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def ref(self) -> str:
        """``name@version#hash12``: how the contract is named in logs, tags and commits."""
        return f"{self.dataset.name}@{self.dataset.version}#{self.fingerprint[:12]}"
