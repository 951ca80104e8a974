"""Compare a current profile with a reference profile: metrics, thresholds, verdicts, attribution, segments.

Binning (what the result's ``bins`` hold, so anyone can recompute a metric):

* Numeric features: the reference's deciles (``psi_bins`` quantile bins) cut
  its fine histogram into bins of whole fine bins; around them sit explicit
  bins ``(missing)`` (null or NaN), ``-inf``, ``(below reference min)``,
  ``(above reference max)`` and ``+inf``. Out-of-range mass is the current
  side's mass in fine bins below the reference's lowest (above its highest)
  non-empty fine bin. PSI, Jensen-Shannon and chi-square use these bins.
  KS uses the fine histogram itself (ordered ``-inf``, fine bins, ``+inf``);
  Wasserstein uses the finite fine bins, each at its midpoint, divided by the
  reference's standard deviation (by ``max(|mean|, 1)`` for a constant
  reference).
* Categorical features: ``(missing)``, every reference value, ``(other)``
  when the reference profile folded rare values, and ``(unseen)`` for current
  values the reference never had. L-infinity, Jensen-Shannon, PSI and
  chi-square use these bins.

Nulls and new values are bins like any other: they move the scores.

The verdict comes from the checks of :mod:`~airflow_provider_parity.drift.checks`
(effect sizes with noise floors, thresholds in ``DriftSettings.checks``); a
metric rule (``numeric``, ``categorical``, ``features``: the contract's older
``{metric, threshold}`` form) adds one more check. Every metric is computed and
reported either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa

from airflow_provider_parity.drift import metrics as m
from airflow_provider_parity.drift.checks import CHECKS, Thresholds, categorical_checks, decide, numeric_checks
from airflow_provider_parity.drift.histogram import bin_bounds, bin_midpoints
from airflow_provider_parity.drift.profile import (
    CategoricalProfile,
    DatasetProfile,
    FeatureKind,
    NumericProfile,
    profile_batches,
)
from airflow_provider_parity.drift.result import (
    LOWER_IS_DRIFT,
    Attribution,
    Bins,
    CheckResult,
    DriftResult,
    FeatureDrift,
    FeatureStatus,
    RowCountCheck,
    SegmentDrift,
    Verdict,
)
from airflow_provider_parity.exceptions import ConfigurationError, DataError

if TYPE_CHECKING:
    from airflow_provider_parity.contracts.model import Contract

NUMERIC_METRICS = ("psi", "jensen_shannon", "ks", "wasserstein", "chi_square")
CATEGORICAL_METRICS = ("linf", "jensen_shannon", "psi", "chi_square")
_METRICS_BY_KIND: dict[str, tuple[str, ...]] = {"numeric": NUMERIC_METRICS, "categorical": CATEGORICAL_METRICS}
_SCORE_CAP = 1e6


@dataclass(frozen=True)
class Rule:
    """A metric and the threshold beyond which a feature has drifted."""

    metric: str
    threshold: float


@dataclass(frozen=True)
class DriftSettings:
    """How features are compared and judged.

    Attributes:
        checks: the thresholds of the checks (every feature, always on).
        significance: a check fires only when its noise floor's p-value is at
            most this (effect sizes alone never flag small samples).
        fdr: adjust those p-values across every check of the run with
            Benjamini-Hochberg (many features, fewer chance flags).
        numeric: an extra metric rule for numeric features (None: checks only).
        categorical: an extra metric rule for categorical features.
        features: per-feature metric rules overriding the two above.
        exclude: features never compared.
        min_rows: fewer rows than this on either side gives ``insufficient_data``.
        on_no_baseline: what a missing reference means to a gate.
        row_count_change: allowed ``current / reference`` row ratio (min, max).
        sample_size_aware: raise each PSI threshold to the chi-square critical
            value for the sample sizes (``critical_quantile``), so small
            samples do not fail on noise.
        psi_bins: quantile bins of the reference for numeric PSI, JS, chi-square.
        epsilon: probability of an empty bin in PSI.
        importance: feature weights (e.g. the model's importances) for attribution.
        report_bins: at most this many bins per feature are listed in a result.
        fail_on_segments: a failed segment fails the overall verdict.
        multivariate: the domain classifier's AUC threshold (off when None);
            needs the data on both sides, not stored profiles.
        multivariate_rows: rows sampled from each side for it.
    """

    checks: Thresholds = field(default_factory=Thresholds)
    significance: float = 1e-4
    fdr: bool = False
    numeric: Rule | None = None
    categorical: Rule | None = None
    features: Mapping[str, Rule] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    min_rows: int = 100
    on_no_baseline: Literal["pass", "fail"] = "pass"
    row_count_change: tuple[float, float] | None = None
    sample_size_aware: bool = False
    critical_quantile: float = 0.99
    psi_bins: int = 10
    epsilon: float = m.PSI_EPSILON
    importance: Mapping[str, float] = field(default_factory=dict)
    report_bins: int = 50
    fail_on_segments: bool = False
    multivariate: float | None = None
    multivariate_rows: int = 20_000

    def rule_for(self, name: str, kind: FeatureKind) -> Rule | None:
        """The metric rule for feature ``name`` of ``kind``, if any.

        Raises:
            ConfigurationError: the configured metric does not apply to the kind.
        """
        rule = self.features.get(name) or (self.numeric if kind == "numeric" else self.categorical)
        if rule is not None and rule.metric not in _METRICS_BY_KIND[kind]:
            raise ConfigurationError(
                f"feature {name!r} is {kind}: metric {rule.metric!r} does not apply; "
                f"use one of {', '.join(_METRICS_BY_KIND[kind])}"
            )
        return rule

    @classmethod
    def from_contract(cls, contract: Contract, **overrides: Any) -> DriftSettings:
        """Settings from a contract's ``drift`` policy; ``overrides`` win."""
        policy = contract.drift
        values: dict[str, Any] = {
            "checks": Thresholds(**policy.checks.model_dump()),
            "significance": policy.significance,
            "fdr": policy.fdr,
            "numeric": None if policy.numeric is None else Rule(policy.numeric.metric, policy.numeric.threshold),
            "categorical": (None if policy.categorical is None
                            else Rule(policy.categorical.metric, policy.categorical.threshold)),
            "features": {name: Rule(r.metric, r.threshold) for name, r in policy.features.items()},
            "exclude": tuple(policy.exclude),
            "min_rows": policy.min_rows,
            "on_no_baseline": policy.on_no_baseline,
            "row_count_change": None if policy.row_count_change is None else tuple(policy.row_count_change),
        }
        if policy.multivariate is not None:
            values["multivariate"] = policy.multivariate.threshold
            values["multivariate_rows"] = policy.multivariate.sample_rows
        values.update(overrides)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["features"] = {k: asdict(v) for k, v in self.features.items()}
        data["checks"] = asdict(self.checks)
        data["importance"] = dict(self.importance)
        return data


def kinds_from_contract(contract: Contract) -> dict[str, FeatureKind]:
    """The contract's drift features with their kinds: ordered types are numeric, the rest categorical."""
    from airflow_provider_parity.contracts.model import ORDERED_TYPES

    return {c.name: ("numeric" if c.type in ORDERED_TYPES else "categorical") for c in contract.drift_features()}


# --- binning ---------------------------------------------------------------------


@dataclass
class _Binned:
    labels: list[str]
    ref: np.ndarray[Any, np.dtype[np.int64]]
    cur: np.ndarray[Any, np.dtype[np.int64]]
    lower: list[float | None]
    upper: list[float | None]
    explicit: list[bool]


def _explicit(binned: _Binned, label: str, ref: int, cur: int, *, first: bool = False) -> None:
    if ref == 0 and cur == 0:
        return
    at = 0 if first else len(binned.labels)
    binned.labels.insert(at, label)
    binned.ref = np.insert(binned.ref, at, ref)
    binned.cur = np.insert(binned.cur, at, cur)
    binned.lower.insert(at, None)
    binned.upper.insert(at, None)
    binned.explicit.insert(at, True)


def _numeric_bins(rp: NumericProfile, cp: NumericProfile, bits: int, n_bins: int) -> tuple[_Binned, float | None]:
    rk, rc = rp.hist.at_bits(bits)
    ck, cc = cp.hist.at_bits(bits)
    binned = _Binned([], np.zeros(0, np.int64), np.zeros(0, np.int64), [], [], [])
    out_of_range: float | None = None
    if rk.size and rp.grid is not None:
        cum = np.cumsum(rc)
        targets = cum[-1] * np.arange(1, n_bins) / n_bins
        edges = np.unique(np.append(rk[np.searchsorted(cum, targets, side="left")], rk[-1]))
        in_range = (ck >= rk[0]) & (ck <= rk[-1])
        ref_counts = np.bincount(np.searchsorted(edges, rk, side="left"), weights=rc, minlength=edges.size)
        cur_counts = np.bincount(
            np.searchsorted(edges, ck[in_range], side="left"), weights=cc[in_range], minlength=edges.size
        )
        firsts = np.concatenate([[rk[0]], edges[:-1] + 1])
        lower, _ = bin_bounds(firsts, rp.grid, bits)
        _, upper = bin_bounds(edges, rp.grid, bits)
        binned = _Binned(
            [f"[{lo:.6g}, {hi:.6g}]" for lo, hi in zip(lower, upper, strict=True)],
            ref_counts.astype(np.int64),
            cur_counts.astype(np.int64),
            [float(v) for v in lower],
            [float(v) for v in upper],
            [False] * edges.size,
        )
        below, above = int(cc[ck < rk[0]].sum()), int(cc[ck > rk[-1]].sum())
        _explicit(binned, "(below reference min)", 0, below, first=True)
        _explicit(binned, "(above reference max)", 0, above)
        out_of_range = (below + above) / cp.finite if cp.finite else None
    else:
        _explicit(binned, "(values; reference has none)", 0, int(cc.sum()))
        out_of_range = 1.0 if cp.finite else None
    _explicit(binned, "-inf", rp.neg_inf, cp.neg_inf, first=True)
    _explicit(binned, "(missing)", rp.missing, cp.missing, first=True)
    _explicit(binned, "+inf", rp.pos_inf, cp.pos_inf)
    return binned, out_of_range


def _categorical_bins(rp: CategoricalProfile, cp: CategoricalProfile) -> tuple[_Binned, list[str]]:
    labels = [value for value, _ in rp.top(len(rp.counts))]
    ref = np.fromiter((rp.counts[v] for v in labels), dtype=np.int64, count=len(labels))
    cur = np.fromiter((cp.counts.get(v, 0) for v in labels), dtype=np.int64, count=len(labels))
    binned = _Binned(labels, ref, cur, [None] * len(labels), [None] * len(labels), [False] * len(labels))
    unseen = sorted(((v, n) for v, n in cp.counts.items() if v not in rp.counts), key=lambda kv: (-kv[1], kv[0]))
    unseen_count = sum(n for _, n in unseen) + cp.other_count
    if rp.other_count:
        # A value outside the kept reference values may be one of its folded rare ones.
        _explicit(binned, "(other or unseen)", rp.other_count, unseen_count)
    else:
        _explicit(binned, "(unseen)", 0, unseen_count)
    _explicit(binned, "(missing)", rp.nulls, cp.nulls, first=True)
    return binned, [v for v, _ in unseen]


# --- measuring ---------------------------------------------------------------------


def _safe(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except ValueError:  # a side without mass: nothing to measure
        return None


def _binned_metrics(binned: _Binned, epsilon: float) -> tuple[dict[str, float | None], str | None]:
    linf = _safe(m.linf, binned.ref, binned.cur)
    chi = _safe(m.chi_square, binned.ref, binned.cur)
    values: dict[str, float | None] = {
        "psi": _safe(m.psi, binned.ref, binned.cur, epsilon),
        "jensen_shannon": _safe(m.jensen_shannon, binned.ref, binned.cur),
        "chi_square": None if chi is None else chi[1],
        "chi_square_statistic": None if chi is None else chi[0],
        "linf": None if linf is None else linf[0],
    }
    return values, (None if linf is None else binned.labels[linf[1]])


def _ks_and_wasserstein(rp: NumericProfile, cp: NumericProfile, bits: int) -> dict[str, float | None]:
    rk, rc = rp.hist.at_bits(bits)
    ck, cc = cp.hist.at_bits(bits)
    keys = np.union1d(rk, ck)
    ref = np.zeros(keys.size + 2, np.int64)
    cur = np.zeros(keys.size + 2, np.int64)
    ref[1:-1][np.searchsorted(keys, rk)] = rc
    cur[1:-1][np.searchsorted(keys, ck)] = cc
    ref[0], ref[-1], cur[0], cur[-1] = rp.neg_inf, rp.pos_inf, cp.neg_inf, cp.pos_inf
    out: dict[str, float | None] = {"ks": _safe(m.ks_statistic, ref, cur), "wasserstein": None}
    if rk.size and ck.size and rp.grid is not None:
        raw = m.wasserstein(bin_midpoints(rk, rp.grid, bits), rc, bin_midpoints(ck, rp.grid, bits), cc)
        std = rp.std or 0.0
        mean = rp.mean or 0.0
        out["wasserstein"] = raw / (std if std > 0 else max(abs(mean), 1.0))
        out["wasserstein_raw"] = raw
    return out


def _stats(prof: NumericProfile | CategoricalProfile) -> dict[str, Any]:
    if isinstance(prof, NumericProfile):
        q05, q50, q95 = prof.quantiles([0.05, 0.5, 0.95])
        return {"rows": prof.rows, "missing": prof.missing, "min": prof.min, "max": prof.max,
                "mean": prof.mean, "std": prof.std, "p05": q05, "p50": q50, "p95": q95}
    return {"rows": prof.rows, "missing": prof.missing, "distinct": len(prof.counts),
            "top": [[v, n] for v, n in prof.top(5)]}


def _null_rate(prof: NumericProfile | CategoricalProfile) -> float | None:
    return prof.missing / prof.rows if prof.rows else None


def _report_bins(binned: _Binned, limit: int) -> Bins:
    total = len(binned.labels)
    keep = list(range(total))
    if total > limit:
        diff = np.abs(binned.ref / max(1, binned.ref.sum()) - binned.cur / max(1, binned.cur.sum()))
        ranked = sorted((i for i in keep if not binned.explicit[i]), key=lambda i: -diff[i])[:limit]
        keep = sorted(set(ranked) | {i for i in keep if binned.explicit[i]})
    return Bins(
        labels=[binned.labels[i] for i in keep],
        reference=[int(binned.ref[i]) for i in keep],
        current=[int(binned.cur[i]) for i in keep],
        lower=[binned.lower[i] for i in keep],
        upper=[binned.upper[i] for i in keep],
        truncated=len(keep) < total,
        total_bins=total,
    )


def _rule_check(rule: Rule, feat: FeatureDrift, binned: _Binned, settings: DriftSettings) -> CheckResult:
    """A contract's ``{metric, threshold}`` rule as one more check (no noise floor but a p-value's own)."""
    value = feat.metrics.get(rule.metric)
    threshold = rule.threshold
    if rule.metric == "psi" and settings.sample_size_aware and value is not None:
        critical = m.psi_critical_value(int(binned.ref.sum()), int(binned.cur.sum()), len(binned.labels),
                                        settings.critical_quantile)
        threshold = max(threshold, critical)
    lower = rule.metric in LOWER_IS_DRIFT
    score = None
    if value is not None:
        score = threshold / max(value, threshold / _SCORE_CAP) if lower else value / threshold
        score = min(_SCORE_CAP, score)
    return CheckResult(rule.metric, value, threshold, p_value=value if lower else None, score=score,
                       lower_is_drift=lower)


def compare_feature(
    name: str,
    reference: NumericProfile | CategoricalProfile,
    current: NumericProfile | CategoricalProfile,
    settings: DriftSettings,
) -> FeatureDrift:
    """Compare one feature's profiles: every metric and every check (not yet decided, see :func:`judge`).

    Raises:
        DataError: the profiles are of different kinds or on different grids.
        ConfigurationError: the rule's metric does not apply to the feature's kind.
    """
    if reference.kind != current.kind:
        raise DataError(f"feature {name!r} is {reference.kind} in the reference but {current.kind} in the current data",
                        column=name)
    rule = settings.rule_for(name, reference.kind)
    feat = FeatureDrift(
        name=name, kind=reference.kind, metric="", value=None, threshold=0.0,
        configured_threshold=None if rule is None else rule.threshold, drifted=False, status="passed",
        null_rate_reference=_null_rate(reference), null_rate_current=_null_rate(current),
        rows_reference=reference.rows, rows_current=current.rows,
        reference_stats=_stats(reference), current_stats=_stats(current),
        importance=settings.importance.get(name),
    )
    if isinstance(reference, NumericProfile) and isinstance(current, NumericProfile):
        if reference.finite and current.finite and reference.grid != current.grid:
            raise DataError(f"feature {name!r}: current data was binned on another grid; "
                            "profile it with like=<reference profile>", column=name)
        # Both sides at a bounded resolution: the same numbers for a profile in
        # memory and the same profile stored and loaded.
        reference.hist.compact()
        current.hist.compact()
        bits = min(reference.hist.bits, current.hist.bits)
        binned, _ = _numeric_bins(reference, current, bits, settings.psi_bins)
        feat.metrics, feat.largest_change = _binned_metrics(binned, settings.epsilon)
        feat.metrics.pop("linf")
        feat.metrics.update(_ks_and_wasserstein(reference, current, bits))
        feat.fine_bits = bits
        feat.checks, feat.out_of_range_fraction = numeric_checks(reference, current, bits,
                                                                 feat.metrics.get("wasserstein"), settings.checks)
    else:
        assert isinstance(reference, CategoricalProfile) and isinstance(current, CategoricalProfile)
        binned, unseen = _categorical_bins(reference, current)
        feat.metrics, feat.largest_change = _binned_metrics(binned, settings.epsilon)
        feat.unseen_values = unseen[:20]
        seen_rows = current.rows - current.nulls
        unseen_rows = sum(current.counts.get(v, 0) for v in unseen) + current.other_count
        feat.unseen_fraction = unseen_rows / seen_rows if seen_rows else None
        feat.checks = categorical_checks(reference, current, binned.labels, binned.ref, binned.cur, unseen,
                                         settings.checks)
    if rule is not None:
        feat.checks.append(_rule_check(rule, feat, binned, settings))
    feat.bins = _report_bins(binned, settings.report_bins)
    if feat.null_rate_reference is not None and feat.null_rate_current is not None:
        feat.null_rate_change = feat.null_rate_current - feat.null_rate_reference
    return feat


def judge(features: list[FeatureDrift], settings: DriftSettings) -> None:
    """Decide every check of a run (together, for the FDR option), then each feature's status and headline."""
    decide([c for f in features for c in f.checks], settings.significance, settings.fdr)
    for feat in features:
        # A rule the contract spells out is named first; then the checks, largest effect first.
        fired = sorted((c for c in feat.checks if c.fired), key=lambda c: (c.check in CHECKS, -(c.score or 0.0)))
        feat.reasons = [c.line(feat.name) for c in fired]
        scored = [c for c in feat.checks if c.score is not None]
        headline = fired[0] if fired else max(scored, key=lambda c: c.score or 0.0, default=None)
        if headline is not None:
            feat.metric, feat.value, feat.threshold, feat.score = (headline.check, headline.value,
                                                                   headline.threshold, headline.score)
        elif feat.checks:
            feat.metric, feat.threshold = feat.checks[0].check, feat.checks[0].threshold
        status: FeatureStatus = "failed" if feat.reasons else "passed"
        if min(feat.rows_reference, feat.rows_current) < settings.min_rows:
            status = "insufficient_data"
        feat.status = status
        feat.drifted = status == "failed"


# --- datasets ----------------------------------------------------------------------


def _features_to_compare(
    reference: DatasetProfile, current: DatasetProfile, kinds: Mapping[str, FeatureKind] | None, settings: DriftSettings
) -> list[str]:
    names = list(kinds) if kinds is not None else list(reference.features)
    names = [n for n in names if n not in settings.exclude]
    for side, prof in (("reference", reference), ("current", current)):
        missing = [n for n in names if n not in prof.features]
        if missing:
            raise DataError(f"the {side} data has no feature {missing[0]!r}", column=missing[0])
    return names


def _row_count(reference: DatasetProfile, current: DatasetProfile, settings: DriftSettings) -> RowCountCheck | None:
    if settings.row_count_change is None:
        return None
    lo, hi = settings.row_count_change
    ratio = current.rows / reference.rows if reference.rows else None
    passed = ratio is not None and lo <= ratio <= hi
    return RowCountCheck(reference.rows, current.rows, ratio, lo, hi, passed)


def _attribution(features: list[FeatureDrift], settings: DriftSettings) -> list[Attribution]:
    rows = []
    for feat in features:
        if feat.score is None:
            continue
        weight = float(settings.importance.get(feat.name, 1.0))
        rows.append((feat, weight, feat.score * weight))
    total = sum(c for _, _, c in rows) or 1.0
    ranked = sorted(rows, key=lambda r: (-r[2], r[0].name))
    return [Attribution(f.name, float(f.score or 0.0), w, c, c / total, f.drifted) for f, w, c in ranked]


def _message(verdict: Verdict, features: list[FeatureDrift], row_count: RowCountCheck | None,
             reference: DatasetProfile, current: DatasetProfile, settings: DriftSettings) -> str:
    if verdict == "insufficient_data":
        return (f"insufficient data: reference has {reference.rows} rows, current has {current.rows}; "
                f"min_rows is {settings.min_rows}")
    drifted = [f for f in features if f.drifted]
    reasons = [r for f in drifted for r in f.reasons[:1]]
    if row_count is not None and not row_count.passed:
        reasons.insert(0, f"row count ratio {row_count.ratio} outside [{row_count.min_ratio}, {row_count.max_ratio}]")
    if verdict == "failed":
        return f"drift in {len(drifted)} of {len(features)} features: " + "; ".join(reasons)
    return f"no drift: {len(features)} features within their thresholds"


def compare_profiles(
    reference: DatasetProfile | None,
    current: DatasetProfile,
    settings: DriftSettings | None = None,
    *,
    kinds: Mapping[str, FeatureKind] | None = None,
    contract: str | None = None,
    skip_identifiers: bool = False,
) -> DriftResult:
    """Compare a current profile with a reference profile.

    Args:
        reference: the reference (training) profile; None means no baseline yet.
        current: the current profile, built with ``like=reference``.
        settings: thresholds and options; defaults when None.
        kinds: the features to compare (from the contract); all the
            reference's features when None.
        contract: the contract's ref, recorded in the result.
        skip_identifiers: leave out categorical features whose reference values
            are all distinct (keys such as ``customer_id``): their distribution
            says nothing. For inferred features; a contract decides otherwise.

    Returns:
        The result, with every measurement whether it passed or not.

    Raises:
        DataError: a feature is missing on one side, or kinds or grids disagree.
        ConfigurationError: a rule's metric does not apply to its feature.
    """
    settings = settings or DriftSettings()
    if reference is None:
        return DriftResult(
            verdict="no_baseline",
            message=f"no baseline: no reference profile to compare with (on_no_baseline={settings.on_no_baseline})",
            reference=None, current=current.source, rows_reference=0, rows_current=current.rows,
            features=[], drifted_features=[], settings=settings.to_dict(), contract=contract,
        )
    names = _features_to_compare(reference, current, kinds, settings)
    skipped = {n: "excluded" for n in settings.exclude if n in reference.features}
    if skip_identifiers:
        for name in [n for n in names if _looks_like_identifier(reference.features[n])]:
            names.remove(name)
            skipped[name] = "identifier-like: every value distinct (declare it in a contract to compare it)"
    features = [compare_feature(n, reference.features[n], current.features[n], settings) for n in names]
    judge(features, settings)
    row_count = _row_count(reference, current, settings)
    segments = [_segment(label, seg, reference, settings, names) for label, seg in current.segments.items()]
    verdict: Verdict = "passed"
    if min(reference.rows, current.rows) < settings.min_rows:
        verdict = "insufficient_data"
    else:
        failures = [
            any(f.drifted for f in features),
            row_count is not None and not row_count.passed,
            settings.fail_on_segments and any(s.verdict == "failed" for s in segments),
        ]
        verdict = "failed" if any(failures) else "passed"
    return DriftResult(
        verdict=verdict,
        message=_message(verdict, features, row_count, reference, current, settings),
        reference=reference.source, current=current.source,
        rows_reference=reference.rows, rows_current=current.rows,
        features=features, drifted_features=[f.name for f in features if f.drifted],
        attribution=_attribution(features, settings), row_count=row_count, segments=segments,
        settings=settings.to_dict(), contract=contract, skipped_features=skipped,
    )


def _looks_like_identifier(prof: NumericProfile | CategoricalProfile) -> bool:
    if not isinstance(prof, CategoricalProfile):
        return False
    present = prof.rows - prof.nulls
    return present >= 20 and len(prof.counts) + prof.other_count >= 0.99 * present


def _segment(label: str, current: DatasetProfile, reference: DatasetProfile, settings: DriftSettings,
             names: list[str]) -> SegmentDrift:
    # A time window of serving data is judged against the whole reference; a
    # segment of a column against the same segment of the reference.
    column_part = None if label.startswith("window=") else label.split(",window=")[0]
    ref = reference.segments.get(label) or (reference.segments.get(column_part) if column_part else None)
    if ref is None and (column_part is None or not reference.segments):
        ref = reference
    if ref is None:
        return SegmentDrift(label, "no_baseline", 0, current.rows, [], [])
    plain = DatasetProfile(rows=current.rows, features=current.features, source=current.source)
    result = compare_profiles(ref, plain, settings, kinds={n: ref.features[n].kind for n in names})
    return SegmentDrift(label, result.verdict, ref.rows, current.rows, result.drifted_features, result.features)


def compare_datasets(
    reference: Iterable[pa.RecordBatch | pa.Table],
    current: Iterable[pa.RecordBatch | pa.Table],
    settings: DriftSettings | None = None,
    *,
    kinds: Mapping[str, FeatureKind] | None = None,
    **profile_options: Any,
) -> tuple[DriftResult, DatasetProfile]:
    """Profile the reference, then the current data on its grids, and compare.

    Returns:
        ``(result, reference_profile)``; store the profile to skip the reference next time.
    """
    settings = settings or DriftSettings()
    if kinds is not None:
        kinds = {k: v for k, v in kinds.items() if k not in settings.exclude}
    ref_profile = profile_batches(reference, kinds, **profile_options)
    cur_profile = profile_batches(current, like=ref_profile, **profile_options)
    result = compare_profiles(ref_profile, cur_profile, settings, kinds=kinds, skip_identifiers=kinds is None)
    return result, ref_profile
