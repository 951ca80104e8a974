"""The data contract: one per dataset, the single source of truth for every gate.

The model is plain pydantic (no Airflow, no data library) so that serving code can
import it. Every gate derives its checks from it: ``contracts.rules`` turns it into
rules, which compile to Great Expectations, dbt tests and the in-process serving
check; the drift gate reads ``drift``; the freshness sensor reads ``freshness``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

LogicalType = Literal["string", "integer", "float", "boolean", "date", "timestamp"]
"""Logical column types. Physical widths (int32/int64) are the engine's business."""

NUMERIC_TYPES: frozenset[str] = frozenset({"integer", "float"})
ORDERED_TYPES: frozenset[str] = frozenset({"integer", "float", "date", "timestamp"})

Role = Literal["key", "feature", "label", "event_time", "metadata"]
Environment = Literal["training", "serving"]
DriftMetric = Literal["psi", "jensen_shannon", "wasserstein", "ks", "linf", "chi_square"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# A century: longer windows or SLOs mean nothing, and subtracting them from now
# must stay a valid datetime.
_MAX_DAYS = 36525
_MAX_SECONDS = _MAX_DAYS * 86400.0


def parse_duration(text: str) -> timedelta:
    """Parse ``"90s"``, ``"15m"``, ``"26h"``, ``"2d"`` or ``"1w"`` into a timedelta.

    Raises:
        ValueError: the text is not a number followed by one of s, m, h, d, w, or the
            duration is longer than a century.
    """
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"invalid duration {text!r}: expected a number and a unit (s, m, h, d, w), e.g. '26h'")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not seconds <= _MAX_SECONDS:
        raise ValueError(f"duration {match.group(0).strip()[:40]!r} is out of range (at most {_MAX_DAYS} days)")
    return timedelta(seconds=seconds)


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
    references: str | None = None
    """Foreign key: ``dataset.column`` of another dataset that every non-null value must be found in."""

    @field_validator("references")
    @classmethod
    def _dataset_dot_column(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*\.[^.\s]+", value):
            raise ValueError(f"references must be 'dataset.column', got {value!r}")
        return value

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"regex does not compile: {exc}") from None
        return value

    @field_validator("min", "max")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        # A NaN bound compares false with everything: the range rule would check nothing.
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"a bound must be a finite number, got {value}")
        return value

    @field_validator("allowed_values")
    @classmethod
    def _one_kind(cls, value: list[Any] | None) -> list[Any] | None:
        if value is None:
            return None
        kinds = {value_kind(v) for v in value}
        if kinds - _SCALAR_KINDS:
            raise ValueError("allowed_values must be scalars (strings, numbers, booleans or dates); "
                             "a missing value is declared with nullable: true")
        if len(kinds) > 1:
            raise ValueError(f"allowed_values mix {' and '.join(sorted(kinds))} values: "
                             "list values of the column's type only")
        return value


_SCALAR_KINDS = frozenset({"string", "number", "boolean", "date", "timestamp"})


def value_kind(value: Any) -> str:
    """The logical kind of a YAML value: ``number`` for ints and floats, ``boolean``, ``string``, ...

    Example:
        >>> value_kind(3), value_kind(2.5), value_kind(True), value_kind("a")
        ('number', 'number', 'boolean', 'string')
    """
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, date):
        return "date"
    return "null" if value is None else type(value).__name__


class Tolerances(_Strict):
    """How many offending rows a rule forgives, as a fraction of all rows."""

    max_null_fraction: float = Field(default=0.0, ge=0.0, le=1.0)
    max_invalid_fraction: float = Field(default=0.0, ge=0.0, le=1.0)


class SkewTolerance(_Strict):
    """How far a served value may be from the offline one before it counts as skew.

    A pair matches when ``|served - offline| <= absolute + relative * |offline|`` (numpy's
    ``isclose`` rule); a bound left out is 0, so ``{}`` means exact.
    """

    absolute: float | None = Field(default=None, ge=0.0)
    relative: float | None = Field(default=None, ge=0.0)


class Column(_Strict):
    name: str = Field(min_length=1)
    type: LogicalType
    nullable: bool = True
    description: str | None = None
    role: Role = "feature"
    constraints: Constraints = Constraints()
    tolerances: Tolerances | None = None
    """Overrides the contract-wide tolerances for this column."""
    skew_tolerance: SkewTolerance | None = None
    """Per-entity skew: how far served may be from offline (numeric columns; default see ``SkewPolicy``)."""

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


LevelOfMeasurement = Literal["nominal", "ordinal"]


class AnnotationColumns(_Strict):
    """The annotations table: one row per (item, annotator) label."""

    item: str = Field(default="item_id", min_length=1)
    """The labelled item's id: a column of the contract (its key), so features join on it."""
    annotator: str = Field(default="annotator_id", min_length=1)
    label: str = Field(default="label", min_length=1)
    time: str | None = None
    """When the label was given: an annotator's latest label of an item counts. Without it, an
    annotator labelling an item twice is bad input (which label counts would be a guess)."""


class LabelThresholds(_Strict):
    """What the label-quality gate demands; a threshold left out is not checked.

    Kappas and alpha are 1 for perfect agreement and 0 for chance agreement (Landis and Koch
    call 0.61-0.80 "substantial"; Krippendorff accepts alpha >= 0.667 for tentative conclusions).
    """

    min_cohen_kappa: float | None = Field(default=None, ge=-1.0, le=1.0)
    """Cohen's kappa of every pair of annotators sharing at least ``min_shared_items`` items."""
    min_fleiss_kappa: float | None = Field(default=None, ge=-1.0, le=1.0)
    min_krippendorff_alpha: float | None = Field(default=None, ge=-1.0, le=1.0)
    min_class_kappa: float | None = Field(default=None, ge=-1.0, le=1.0)
    """Per class: Fleiss' kappa of that class against all others."""
    min_annotator_kappa: float | None = Field(default=None, ge=-1.0, le=1.0)
    """Per annotator with at least ``min_shared_items`` co-rated items: Cohen's kappa of their labels
    against the other annotators' labels of the same items."""
    min_items_per_annotator: int | None = Field(default=None, ge=1)
    max_conflict_share: float | None = Field(default=None, ge=0.0, le=1.0)
    """Share of items rated at least twice whose labels are not all equal."""
    max_label_drift: float | None = Field(default=None, ge=0.0, le=1.0)
    """Total variation distance between the items' consensus labels and the reference's labels."""
    max_feature_conflict_share: float | None = Field(default=None, ge=0.0, le=1.0)
    """Share of items whose identical feature values carry different consensus labels."""
    min_shared_items: int = Field(default=10, ge=2)
    """Fewer co-rated items than this: a pair or an annotator is listed, not judged (too noisy)."""


class LabelPolicy(_Strict):
    """Label quality: who labelled what, and how far they must agree before training may learn it."""

    column: str = Field(min_length=1)
    """The label column of the contract's table (role ``label``)."""
    level: LevelOfMeasurement = "nominal"
    """Krippendorff's alpha's distance: every disagreement equal (nominal), or by rank (ordinal)."""
    classes: list[str | int | bool] | None = None
    """The label values, in order for ordinal labels (required then); else the observed values."""
    annotations: AnnotationColumns = AnnotationColumns()
    thresholds: LabelThresholds = LabelThresholds()
    audit_sample: int = Field(default=20, ge=0)
    """Conflicting items listed in the report for a person to re-check."""


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


class SkewPolicy(_Strict):
    """The per-entity training/serving skew gate: served values against offline values as of serving time."""

    max_mismatch_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    """Largest share of entities with a mismatched value allowed per feature."""
    max_missing_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    """Largest share of requests with no offline row as of their time."""
    float_tolerance: SkewTolerance = SkewTolerance(absolute=1e-9, relative=1e-6)
    """Float columns without their own ``skew_tolerance``; integers, strings and booleans are exact."""
    exclude: list[str] = []


def _duration_text(value: str) -> str:
    parse_duration(value)
    return value


DurationText = Annotated[str, AfterValidator(_duration_text)]
"""A duration as written in the contract (``"28d"``), checked by :func:`parse_duration`."""

SloKind = Literal["freshness", "completeness", "gate_pass_rate"]
"""What an SLO counts: freshness judgements that passed, completeness checks that held, gate
outcomes that did not block."""


class Objective(_Strict):
    """One service level objective: the share of good events over a rolling window.

    The loader rejects an objective outside (0, 1) and a window shorter than the longest
    burn-rate window (an alert could then look further back than the budget it guards).
    """

    objective: float
    """Share of good events, strictly between 0 and 1, e.g. 0.995 (the error budget is 1 - objective)."""
    window: DurationText = "28d"

    @property
    def window_delta(self) -> timedelta:
        return parse_duration(self.window)

    @property
    def budget(self) -> float:
        """The error budget: the share of events allowed to be bad."""
        return 1.0 - self.objective


class BurnRateAlert(_Strict):
    """A multiwindow burn-rate alert (Google SRE workbook, ch. 5): fire when the error ratio is above
    ``factor`` times the budget over both the ``long`` and the ``short`` window."""

    severity: Literal["page", "ticket"]
    factor: float = Field(gt=0)
    long: DurationText
    short: DurationText

    @property
    def long_delta(self) -> timedelta:
        return parse_duration(self.long)

    @property
    def short_delta(self) -> timedelta:
        return parse_duration(self.short)


# The workbook's factors (14.4x, 6x, 1x: a 30-day budget gone in about 2 days, 5 days, 30 days), on
# windows stretched for a daily batch pipeline: each short window holds at least the latest daily run
# (a 5-minute window after a once-a-day run is empty, so its ratio is 0/0 and the alert could never
# fire), and each long window holds several runs, so one bad run among good ones is a rate, not 0 or 1.
DAILY_BURN_RATES: tuple[BurnRateAlert, ...] = (
    BurnRateAlert(severity="page", factor=14.4, long="3d", short="1d"),
    BurnRateAlert(severity="page", factor=6.0, long="7d", short="1d"),
    BurnRateAlert(severity="ticket", factor=1.0, long="14d", short="3d"),
)


class Slos(_Strict):
    """The dataset's published SLOs, measured from the results ledger by ``parity slo``.

    Each is optional; ``burn_rates`` defaults to :data:`DAILY_BURN_RATES` (an hourly pipeline can
    declare the workbook's own 1h/5m, 6h/30m and 3d/6h pairs).
    """

    freshness: Objective | None = None
    completeness: Objective | None = None
    gate_pass_rate: Objective | None = None
    burn_rates: list[BurnRateAlert] | None = None

    def objectives(self) -> dict[SloKind, Objective]:
        """The declared objectives by kind, in a stable order."""
        found: tuple[tuple[SloKind, Objective | None], ...] = (
            ("freshness", self.freshness), ("completeness", self.completeness), ("gate_pass_rate", self.gate_pass_rate))
        return {kind: obj for kind, obj in found if obj is not None}

    def alerts(self) -> tuple[BurnRateAlert, ...]:
        return tuple(self.burn_rates) if self.burn_rates is not None else DAILY_BURN_RATES


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
    labels: LabelPolicy | None = None
    """Label quality (annotations, agreement thresholds); None keeps earlier fingerprints."""
    drift: DriftPolicy = DriftPolicy()
    tolerances: Tolerances = Tolerances()
    # None, not a default policy: an absent key stays out of the canonical form, so adding the
    # skew gate left every existing contract's fingerprint (recorded in MLflow tags) unchanged.
    skew: SkewPolicy | None = None
    slos: Slos | None = None
    """Published SLOs (freshness, completeness, gate pass rate); None keeps earlier fingerprints."""

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

    @property
    def skew_policy(self) -> SkewPolicy:
        return self.skew or SkewPolicy()

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
