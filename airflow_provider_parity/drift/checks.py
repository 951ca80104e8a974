"""The checks behind a drift verdict: effect sizes that do not depend on n, each above a noise floor.

A metric such as PSI or a p-value answers "are these samples different?", which
at a million rows is always yes and at a thousand rows is often no for a change
that matters. A practitioner asks "did the data change by a material amount?",
so each check here measures an effect size in the data's own units, compared
with a threshold from the contract (:class:`Thresholds`), and fires only when
that effect is also beyond sampling noise (its ``p_value`` at most the
settings' ``significance``, optionally after Benjamini-Hochberg across every
check of the run). Effect floors keep large samples quiet on immaterial
changes; noise floors keep small samples quiet on chance.

Numeric features:

* ``wasserstein_sd``: Wasserstein-1 distance in reference standard deviations
  (any change of location, spread or shape moves it); noise floor: the
  distance over its null scale ``integral sqrt(F(1-F)) dx * sqrt(1/n_r + 1/n_c)``.
* ``location_sd``: mean shift in reference standard deviations; Welch's z.
* ``spread_ratio``: spread change as a ratio >= 1 (either way), counted only
  when the standard deviation and the interquartile range agree, so heavy
  tails (noisy standard deviations) or a discrete median (jumping quartiles)
  never fake it alone; noise floor as ``wasserstein_sd``.
* ``point_mass``: the largest gain of a single fine bin's share of rows (a
  value such as a missing value filled with 0); two-proportion z.
* ``out_of_range``: the gain in the share of values outside the reference's
  robust range (its p0.5 and p99.5 widened by a tenth of their distance on each
  side, never its min and max, so detection does not fade as n grows).

Categorical features:

* ``total_variation``: half the L1 distance of the value shares (nulls
  excluded, new values as one bin; values expected fewer than 5 times, and
  then the new values too, pooled into one bin); Pearson's chi-square on the
  same bins.
* ``new_value_mass``: the share of values the reference never had, minus the
  share expected from the reference's own rare values (Good-Turing: its
  singletons, and values it folded); two-proportion z.
* ``point_mass``: the largest gain of one value's share of rows (a rare value
  becoming common, a fill value); two-proportion z.

Both kinds: ``null_rate_change``, the absolute change of the null (and NaN)
rate; two-proportion z.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from airflow_provider_parity.drift import metrics as m
from airflow_provider_parity.drift.histogram import bin_midpoints
from airflow_provider_parity.drift.profile import CategoricalProfile, NumericProfile
from airflow_provider_parity.drift.result import CheckResult

ROBUST_RANGE = (0.005, 0.995)
"""Reference quantiles the out-of-range check starts from."""
RANGE_WIDENING = 0.1
"""Each side of the robust range is widened by this share of its width."""
_SCORE_CAP = 1e6


@dataclass(frozen=True)
class Thresholds:
    """Effect-size thresholds of the checks (a check fires above its threshold, beyond noise).

    The defaults come from ``benchmarks/drift_calibration.py``: each sits below
    the README's "material" effect (0.2 sd, 1.25x spread, 3 points, 3% of rows,
    total variation 0.1) by a margin that catches it from 5k rows up, and far
    above the immaterial changes (0.02 sd, 1.03x, 0.5 points, 1%).
    """

    wasserstein_sd: float = 0.1
    location_sd: float = 0.15
    spread_ratio: float = 1.15
    point_mass: float = 0.02
    out_of_range: float = 0.02
    null_rate_change: float = 0.02
    total_variation: float = 0.07
    new_value_mass: float = 0.02


CHECKS = tuple(f.name for f in fields(Thresholds))
NUMERIC_CHECKS = ("wasserstein_sd", "location_sd", "spread_ratio", "point_mass", "out_of_range", "null_rate_change")
CATEGORICAL_CHECKS = ("total_variation", "new_value_mass", "point_mass", "null_rate_change")


def _p_from_z(z: float) -> float:
    """Two-sided normal p-value of ``z`` (the chi-square with one degree of freedom of ``z**2``)."""
    if not math.isfinite(z):
        return 0.0
    return m.chi2_sf(z * z, 1)


def two_proportion_p(x_ref: float, n_ref: int, x_cur: float, n_cur: int) -> float:
    """p-value of two proportions ``x_ref / n_ref`` and ``x_cur / n_cur`` being equal (pooled z)."""
    if n_ref <= 0 or n_cur <= 0:
        return 1.0
    pooled = (x_ref + x_cur) / (n_ref + n_cur)
    diff = x_cur / n_cur - x_ref / n_ref
    se = math.sqrt(max(0.0, pooled * (1 - pooled)) * (1 / n_ref + 1 / n_cur))
    if se == 0:
        return 1.0 if diff == 0 else 0.0
    return _p_from_z(diff / se)


def _check(name: str, value: float | None, threshold: float, p_value: float | None, detail: str | None = None,
           *, log_scale: bool = False) -> CheckResult:
    score = None
    if value is not None:
        score = math.log(value) / math.log(threshold) if log_scale else value / threshold
        score = min(_SCORE_CAP, max(0.0, score))
    return CheckResult(name, value, threshold, p_value=p_value, detail=detail, score=score)


def null_rate_check(missing_ref: int, rows_ref: int, missing_cur: int, rows_cur: int, t: Thresholds) -> CheckResult:
    if not rows_ref or not rows_cur:
        return _check("null_rate_change", None, t.null_rate_change, None)
    before, after = missing_ref / rows_ref, missing_cur / rows_cur
    return _check("null_rate_change", abs(after - before), t.null_rate_change,
                  two_proportion_p(missing_ref, rows_ref, missing_cur, rows_cur), f"{before:.2%} -> {after:.2%}")


# --- numeric ---------------------------------------------------------------------


@dataclass
class _Fine:
    """Both sides' fine histograms on one support (the union of their non-empty bins)."""

    mids: np.ndarray[Any, np.dtype[np.float64]]
    ref: np.ndarray[Any, np.dtype[np.int64]]
    cur: np.ndarray[Any, np.dtype[np.int64]]


def _fine(rp: NumericProfile, cp: NumericProfile, bits: int) -> _Fine | None:
    rk, rc = rp.hist.at_bits(bits)
    ck, cc = cp.hist.at_bits(bits)
    if rp.grid is None or not rk.size:
        return None
    keys = np.union1d(rk, ck)
    ref = np.zeros(keys.size, np.int64)
    cur = np.zeros(keys.size, np.int64)
    ref[np.searchsorted(keys, rk)] = rc
    cur[np.searchsorted(keys, ck)] = cc
    return _Fine(bin_midpoints(keys, rp.grid, bits), ref, cur)


def _scale(rp: NumericProfile) -> float:
    # As the wasserstein metric: the reference's sd, or its magnitude when it is constant.
    std = rp.std or 0.0
    return std if std > 0 else max(abs(rp.mean or 0.0), 1.0)


def _shape_noise(fine: _Fine, rp: NumericProfile, cp: NumericProfile) -> float:
    """The scale of Wasserstein-1 between two samples of the reference's distribution, in sd units."""
    if not cp.finite or fine.mids.size < 2:
        return 0.0
    cdf = np.cumsum(fine.ref[:-1]) / max(1, int(fine.ref.sum()))
    spread = float(np.sum(np.sqrt(cdf * (1 - cdf)) * np.diff(fine.mids)))
    return spread / _scale(rp) * math.sqrt(1 / max(1, rp.finite) + 1 / cp.finite)


def _spread(rp: NumericProfile, cp: NumericProfile) -> tuple[float | None, str | None]:
    if not rp.std or cp.std is None:
        return None, None
    by_std = cp.std / rp.std
    robust = None
    for low, high in ((0.25, 0.75), (0.05, 0.95)):
        r_lo, r_hi = rp.quantiles([low, high])
        c_lo, c_hi = cp.quantiles([low, high])
        if None not in (r_lo, r_hi, c_lo, c_hi) and r_hi > r_lo and c_hi > c_lo:  # type: ignore[operator]
            robust = (c_hi - c_lo) / (r_hi - r_lo)  # type: ignore[operator]
            break
    if robust is None or robust <= 0 or by_std <= 0:
        return None, None
    # Agreeing measures: the one nearer 1; disagreeing: no spread change to speak of.
    agreed = min(by_std, robust) if by_std > 1 and robust > 1 else max(by_std, robust) if by_std < 1 and robust < 1 else 1.0
    detail = f"current spread {agreed:.3g}x the reference's (sd {by_std:.3g}x, quantile range {robust:.3g}x)"
    return max(agreed, 1 / agreed), detail


def _point_mass(fine: _Fine, rp: NumericProfile, cp: NumericProfile, t: Thresholds) -> CheckResult:
    if not rp.rows or not cp.rows:
        return _check("point_mass", None, t.point_mass, None)
    gains = fine.cur / cp.rows - fine.ref / rp.rows
    at = int(np.argmax(gains))
    gain = max(0.0, float(gains[at]))
    detail = (f"value ~{fine.mids[at]:.6g} holds {fine.cur[at] / cp.rows:.2%} of rows "
              f"(reference {fine.ref[at] / rp.rows:.2%})")
    return _check("point_mass", gain, t.point_mass, two_proportion_p(int(fine.ref[at]), rp.rows, int(fine.cur[at]),
                                                                     cp.rows), detail)


def robust_range(rp: NumericProfile) -> tuple[float, float] | None:
    """The reference's p0.5 and p99.5, widened by :data:`RANGE_WIDENING` of their distance on each side."""
    lo, hi = rp.quantiles(ROBUST_RANGE)
    if lo is None or hi is None:
        return None
    widen = RANGE_WIDENING * (hi - lo)
    return lo - widen, hi + widen


def _out_of_range(fine: _Fine | None, rp: NumericProfile, cp: NumericProfile,
                  t: Thresholds) -> tuple[CheckResult, float | None]:
    n_ref, n_cur = rp.finite + rp.pos_inf + rp.neg_inf, cp.finite + cp.pos_inf + cp.neg_inf
    bounds = robust_range(rp)
    if not n_cur:
        return _check("out_of_range", None, t.out_of_range, None), None
    if fine is None or bounds is None:
        return _check("out_of_range", 1.0, t.out_of_range, 0.0, "the reference has no finite values"), 1.0
    outside = (fine.mids < bounds[0]) | (fine.mids > bounds[1])
    x_ref = int(fine.ref[outside].sum()) + rp.pos_inf + rp.neg_inf
    x_cur = int(fine.cur[outside].sum()) + cp.pos_inf + cp.neg_inf
    share_ref, share_cur = x_ref / max(1, n_ref), x_cur / n_cur
    detail = f"outside [{bounds[0]:.6g}, {bounds[1]:.6g}]: {share_cur:.2%} of values (reference {share_ref:.2%})"
    check = _check("out_of_range", max(0.0, share_cur - share_ref), t.out_of_range,
                   two_proportion_p(x_ref, max(1, n_ref), x_cur, n_cur), detail)
    return check, share_cur


def numeric_checks(rp: NumericProfile, cp: NumericProfile, bits: int, wasserstein_sd: float | None,
                   t: Thresholds) -> tuple[list[CheckResult], float | None]:
    """The numeric checks of one feature, and the current share of values out of the robust range.

    Args:
        rp: the reference profile.
        cp: the current profile, on the reference's grid.
        bits: the common resolution of the two fine histograms.
        wasserstein_sd: the feature's ``wasserstein`` metric (in reference sd units).
        t: the thresholds.
    """
    fine = _fine(rp, cp, bits)
    nulls = null_rate_check(rp.missing, rp.rows, cp.missing, cp.rows, t)
    out_of_range, share = _out_of_range(fine, rp, cp, t)
    if fine is None or not cp.finite:
        return [out_of_range, nulls], share
    noise = _shape_noise(fine, rp, cp)
    shape_p = None
    if wasserstein_sd is not None:
        shape_p = _p_from_z(wasserstein_sd / noise) if noise > 0 else (1.0 if wasserstein_sd == 0 else 0.0)
    ratio, spread_detail = _spread(rp, cp)
    return [
        _check("wasserstein_sd", wasserstein_sd, t.wasserstein_sd, shape_p),
        _location(rp, cp, t),
        _check("spread_ratio", ratio, t.spread_ratio, shape_p, spread_detail, log_scale=True),
        _point_mass(fine, rp, cp, t),
        out_of_range,
        nulls,
    ], share


def _location(rp: NumericProfile, cp: NumericProfile, t: Thresholds) -> CheckResult:
    """Mean shift in reference sd, with Welch's z as its noise floor."""
    ref_mean, cur_mean = rp.mean or 0.0, cp.mean or 0.0
    se = math.sqrt((rp.std or 0.0) ** 2 / max(1, rp.finite) + (cp.std or 0.0) ** 2 / max(1, cp.finite))
    shift = cur_mean - ref_mean
    p_value = _p_from_z(shift / se) if se > 0 else (1.0 if shift == 0 else 0.0)
    return _check("location_sd", abs(shift) / _scale(rp), t.location_sd, p_value,
                  f"mean {ref_mean:.6g} -> {cur_mean:.6g}")


# --- categorical -----------------------------------------------------------------


def expected_new_share(rp: CategoricalProfile) -> float:
    """The share of current values expected to be new by chance: the reference's singletons
    and folded values over its non-null count (Good-Turing's estimate of unseen mass)."""
    present = rp.rows - rp.nulls
    if present <= 0:
        return 0.0
    singletons = sum(1 for n in rp.counts.values() if n == 1)
    return (singletons + rp.other_count) / present


_NEW_BINS = ("(unseen)", "(other or unseen)")
SPARSE_EXPECTED = 5.0
"""A value expected fewer times than this on the smaller side is pooled with the other sparse ones."""


def _pool_sparse(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any],
                 labels: list[str]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], list[str]]:
    """Values too rare to measure one by one, pooled into one bin.

    With thousands of values and few rows, every value's share is mostly noise:
    the total variation of two samples of one distribution is then large, and
    chi-square's approximation fails. Pooled, both measure what can be measured.
    """
    smaller = min(a.sum(), b.sum()) / (a.sum() + b.sum())
    sparse = (a + b) * smaller < SPARSE_EXPECTED
    if not sparse.any():
        return a, b, labels
    if labels[-1] in _NEW_BINS:
        # Which rare values a sample happens to hold is chance on both sides: the
        # reference's rare values and the current side's new ones are one pool.
        sparse[-1] = True
    if int(sparse.sum()) < 2:
        return a, b, labels
    dense = ~sparse
    pooled = [label for label, d in zip(labels, dense, strict=True) if d] + [f"({int(sparse.sum())} rare values)"]
    return (np.append(a[dense], a[sparse].sum()), np.append(b[dense], b[sparse].sum()), pooled)


def categorical_checks(rp: CategoricalProfile, cp: CategoricalProfile, labels: Sequence[str],
                       ref: np.ndarray[Any, Any], cur: np.ndarray[Any, Any], unseen: Sequence[str],
                       t: Thresholds) -> list[CheckResult]:
    """The categorical checks of one feature, on the comparison's bins (``labels``, ``ref``, ``cur``)."""
    checks = [null_rate_check(rp.nulls, rp.rows, cp.nulls, cp.rows, t)]
    keep = np.array([label != "(missing)" for label in labels], dtype=bool)
    a, b = ref[keep].astype(np.float64), cur[keep].astype(np.float64)
    present_ref, present_cur = int(a.sum()), int(b.sum())
    if not present_ref or not present_cur:
        return [_check("total_variation", None, t.total_variation, None),
                _check("new_value_mass", None, t.new_value_mass, None), *checks]
    kept_labels = [label for label, k in zip(labels, keep, strict=True) if k]
    expected = expected_new_share(rp)
    a, b, kept_labels = _pool_sparse(a, b, kept_labels)
    diff = b / b.sum() - a / a.sum()
    at = int(np.argmax(np.abs(diff)))
    tv = float(0.5 * np.abs(diff).sum())
    chi = m.chi_square(a, b)
    tv_check = _check("total_variation", tv, t.total_variation, chi[1],
                      f"largest change {kept_labels[at]!r}: {a[at] / a.sum():.2%} -> {b[at] / b.sum():.2%}")
    new_rows = sum(cp.counts.get(v, 0) for v in unseen) + cp.other_count
    share = new_rows / present_cur
    shown = ", ".join(f"{v!r} {cp.counts.get(v, 0) / present_cur:.2%}" for v in unseen[:3])
    new_check = _check("new_value_mass", max(0.0, share - expected), t.new_value_mass,
                       two_proportion_p(expected * present_ref, present_ref, new_rows, present_cur),
                       f"new values hold {share:.2%} (chance {expected:.2%})" + (f": {shown}" if shown else ""))
    return [tv_check, new_check, _category_point_mass(rp, cp, t), *checks]


def _category_point_mass(rp: CategoricalProfile, cp: CategoricalProfile, t: Thresholds) -> CheckResult:
    """The value whose share of rows grew most (a reference value, or the largest new one)."""
    best, gain = None, -1.0
    for value, count in cp.counts.items():
        delta = count / cp.rows - rp.counts.get(value, 0) / rp.rows
        if delta > gain:
            best, gain = value, delta
    if best is None:
        return _check("point_mass", None, t.point_mass, None)
    before, after = rp.counts.get(best, 0), cp.counts[best]
    detail = f"value {best!r} holds {after / cp.rows:.2%} of rows (reference {before / rp.rows:.2%})"
    return _check("point_mass", max(0.0, gain), t.point_mass, two_proportion_p(before, rp.rows, after, cp.rows), detail)


# --- deciding --------------------------------------------------------------------


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values, in the input's order."""
    count = len(p_values)
    if not count:
        return []
    order = sorted(range(count), key=lambda i: p_values[i])
    adjusted = [0.0] * count
    running = 1.0
    for rank in range(count, 0, -1):
        index = order[rank - 1]
        running = min(running, p_values[index] * count / rank)
        adjusted[index] = running
    return adjusted


def exceeds(check: CheckResult) -> bool:
    """The effect passes the threshold (below it, for a p-value rule)."""
    if check.value is None:
        return False
    return check.value < check.threshold if check.lower_is_drift else check.value > check.threshold


def decide(checks: Sequence[CheckResult], significance: float, fdr: bool) -> None:
    """Set ``fired`` on every check of a run: effect beyond the threshold and beyond noise.

    Args:
        checks: every check of every feature of the run.
        significance: the largest p-value a fired check may have.
        fdr: adjust the p-values across all checks with Benjamini-Hochberg first.
    """
    tested = [c for c in checks if c.p_value is not None]
    adjusted = benjamini_hochberg([c.p_value for c in tested]) if fdr else [c.p_value for c in tested]  # type: ignore[misc]
    adjusted_by_id = {id(c): p for c, p in zip(tested, adjusted, strict=True)}
    for check in checks:
        p_value = adjusted_by_id.get(id(check))
        if check.lower_is_drift:
            # A p-value rule: the (adjusted) p-value is the effect.
            check.fired = p_value is not None and p_value < check.threshold
        else:
            check.fired = exceeds(check) and (p_value is None or p_value <= significance)
