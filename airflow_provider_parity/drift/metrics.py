"""Drift metrics on binned counts: the definitions every result and test relies on.

Every function takes two count vectors over the *same* bins (reference first,
current second) and works on their normalised forms ``p`` and ``q``. Bins
include the explicit ones (missing, unseen, out of range), so nulls and new
values move the score instead of being dropped.

Definitions (natural log unless stated):

* PSI: ``sum((q - p) * ln(q / p))`` where the probability of a bin that is
  empty on one side is replaced by :data:`PSI_EPSILON` (1e-4, as Evidently and
  most PSI tooling do) on that side; no renormalisation.
* Jensen-Shannon divergence: ``0.5 * KL(p || m) + 0.5 * KL(q || m)`` with
  ``m = (p + q) / 2`` and log base 2, so it lies in [0, 1] as in TFDV (the
  divergence, not scipy's square-rooted distance).
* Kolmogorov-Smirnov: ``max |F_p - F_q|`` over the bins' upper edges, i.e.
  the two-sample statistic of the binned data.
* Wasserstein-1 between the two discrete distributions whose masses sit at the
  given support points, ``integral |F_p - F_q| dx``.
* L-infinity: ``max |p - q|`` and the bin where it is reached.
* Chi-square: Pearson's test of homogeneity on the 2 x K table of counts over
  the bins that are non-empty on at least one side; the value is its p-value.

No scipy at run time: the chi-square distribution is computed here (a
regularised incomplete gamma function) and the tests compare it with scipy.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

PSI_EPSILON = 1e-4
"""Probability used for a bin that is empty on one side when computing PSI."""

FloatArray = npt.NDArray[np.float64]


def _normalise(counts: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(counts, dtype=np.float64)
    total = arr.sum()
    if total <= 0:
        raise ValueError("cannot normalise an empty distribution")
    return np.asarray(arr / total, dtype=np.float64)


def psi(reference: npt.ArrayLike, current: npt.ArrayLike, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of ``current`` against ``reference``.

    Args:
        reference: counts (or probabilities) per bin on the reference side.
        current: counts per bin on the current side, same bins.
        epsilon: probability substituted for an empty bin.

    Returns:
        The PSI, >= 0.

    Raises:
        ValueError: a side has no mass.
    """
    p = _normalise(reference)
    q = _normalise(current)
    p = np.where(p == 0, epsilon, p)
    q = np.where(q == 0, epsilon, q)
    return float(np.sum((q - p) * np.log(q / p)))


def jensen_shannon(reference: npt.ArrayLike, current: npt.ArrayLike) -> float:
    """Jensen-Shannon divergence in bits (base-2 logs), in [0, 1].

    Raises:
        ValueError: a side has no mass.
    """
    p = _normalise(reference)
    q = _normalise(current)
    m = 0.5 * (p + q)

    def kl(a: FloatArray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / m[mask])))

    return min(1.0, max(0.0, 0.5 * kl(p) + 0.5 * kl(q)))


def ks_statistic(reference: npt.ArrayLike, current: npt.ArrayLike) -> float:
    """Two-sample Kolmogorov-Smirnov statistic of counts over ordered bins.

    Raises:
        ValueError: a side has no mass.
    """
    cdf_p = np.cumsum(_normalise(reference))
    cdf_q = np.cumsum(_normalise(current))
    return float(np.max(np.abs(cdf_p - cdf_q)))


def wasserstein(
    ref_points: npt.ArrayLike, ref_counts: npt.ArrayLike, cur_points: npt.ArrayLike, cur_counts: npt.ArrayLike
) -> float:
    """Wasserstein-1 distance between two weighted point sets.

    Args:
        ref_points: support points of the reference, ascending.
        ref_counts: the reference's mass at each point.
        cur_points: support points of the current side, ascending.
        cur_counts: the current side's mass at each point.

    Returns:
        ``integral |F_ref(x) - F_cur(x)| dx``.

    Raises:
        ValueError: a side has no mass.
    """
    xp = np.asarray(ref_points, dtype=np.float64)
    xq = np.asarray(cur_points, dtype=np.float64)
    wp = _normalise(ref_counts)
    wq = _normalise(cur_counts)
    support = np.union1d(xp, xq)
    cdf_p = np.zeros(support.size)
    cdf_q = np.zeros(support.size)
    np.add.at(cdf_p, np.searchsorted(support, xp), wp)
    np.add.at(cdf_q, np.searchsorted(support, xq), wq)
    gaps = np.diff(support)
    diff = np.abs(np.cumsum(cdf_p) - np.cumsum(cdf_q))[:-1]
    return float(np.sum(diff * gaps))


def linf(reference: npt.ArrayLike, current: npt.ArrayLike) -> tuple[float, int]:
    """L-infinity distance and the index of the bin where it is reached.

    Raises:
        ValueError: a side has no mass.
    """
    diff = np.abs(_normalise(reference) - _normalise(current))
    index = int(np.argmax(diff))
    return float(diff[index]), index


def chi_square(reference: npt.ArrayLike, current: npt.ArrayLike) -> tuple[float, float, int]:
    """Pearson's chi-square test of homogeneity of two count vectors.

    Returns:
        ``(statistic, p_value, degrees_of_freedom)``; with fewer than two
        non-empty bins the samples cannot differ and the p-value is 1.

    Raises:
        ValueError: a side has no mass.
    """
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(current, dtype=np.float64)
    if a.sum() <= 0 or b.sum() <= 0:
        raise ValueError("cannot test an empty distribution")
    keep = (a + b) > 0
    a, b = a[keep], b[keep]
    dof = int(a.size - 1)
    if dof < 1:
        return 0.0, 1.0, 0
    total = a.sum() + b.sum()
    col = a + b
    expected_a = col * a.sum() / total
    expected_b = col * b.sum() / total
    stat = float(np.sum((a - expected_a) ** 2 / expected_a) + np.sum((b - expected_b) ** 2 / expected_b))
    return stat, chi2_sf(stat, dof), dof


def psi_critical_value(n_reference: int, n_current: int, bins: int, quantile: float = 0.99) -> float:
    """PSI value that sampling noise alone exceeds with probability ``1 - quantile``.

    Under no drift, ``PSI ~ chi2(bins - 1) * (1/n_reference + 1/n_current)``
    (Yurdakul, 2018). Small samples therefore need a larger threshold.

    Args:
        n_reference: rows on the reference side.
        n_current: rows on the current side.
        bins: number of bins the PSI was computed on.
        quantile: confidence level of the critical value.

    Returns:
        The critical PSI (0 when there is a single bin).
    """
    if bins < 2 or n_reference <= 0 or n_current <= 0:
        return 0.0
    return chi2_ppf(quantile, bins - 1) * (1.0 / n_reference + 1.0 / n_current)


# --- the chi-square distribution -------------------------------------------------


def _gamma_p_series(a: float, x: float) -> float:
    term = 1.0 / a
    total = term
    n = a
    for _ in range(10_000):
        n += 1.0
        term *= x / n
        total += term
        if abs(term) < abs(total) * 1e-16:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_q_fraction(a: float, x: float) -> float:
    # Lentz's continued fraction for the upper incomplete gamma function.
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h * math.exp(-x + a * math.log(x) - math.lgamma(a))


def chi2_sf(statistic: float, dof: int) -> float:
    """Survival function of the chi-square distribution, ``P(X > statistic)``."""
    if statistic <= 0:
        return 1.0
    if math.isinf(statistic):
        return 0.0
    a, x = dof / 2.0, statistic / 2.0
    if x < a + 1.0:
        return max(0.0, 1.0 - _gamma_p_series(a, x))
    return min(1.0, _gamma_q_fraction(a, x))


def chi2_ppf(quantile: float, dof: int) -> float:
    """Inverse CDF of the chi-square distribution, by bisection on :func:`chi2_sf`."""
    target = 1.0 - quantile
    lo, hi = 0.0, max(1.0, float(dof))
    while chi2_sf(hi, dof) > target:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if chi2_sf(mid, dof) > target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)
