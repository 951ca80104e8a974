"""The metric functions against scipy and numpy written independently."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from airflow_provider_parity.drift import metrics as m


def _independent_psi(a, b, eps=m.PSI_EPSILON):
    p = [x / sum(a) or eps for x in a]
    q = [x / sum(b) or eps for x in b]
    return float(sum((qi - pi) * np.log(qi / pi) for pi, qi in zip(p, q, strict=True)))


CASES = [
    ([10, 20, 30, 40], [10, 20, 30, 40]),
    ([10, 20, 30, 40], [40, 30, 20, 10]),
    ([5, 0, 0, 5], [0, 5, 5, 0]),  # disjoint supports
    ([1, 0, 0], [0, 0, 7]),
    ([1000, 1, 3, 0, 2], [3, 900, 1, 1, 0]),
    ([10**7, 1, 0], [10**7, 0, 1]),  # probabilities below epsilon that are not zero stay as they are
]


@pytest.mark.parametrize("ref, cur", CASES)
def test_binned_metrics_equal_independent_computations(ref, cur):
    assert m.psi(ref, cur) == pytest.approx(_independent_psi(ref, cur), abs=1e-9)
    assert m.jensen_shannon(ref, cur) == pytest.approx(jensenshannon(ref, cur, base=2) ** 2, abs=1e-9)
    p, q = np.asarray(ref) / np.sum(ref), np.asarray(cur) / np.sum(cur)
    assert m.ks_statistic(ref, cur) == pytest.approx(np.max(np.abs(np.cumsum(p) - np.cumsum(q))), abs=1e-9)
    value, index = m.linf(ref, cur)
    assert value == pytest.approx(np.max(np.abs(p - q)), abs=1e-12)
    assert index == int(np.argmax(np.abs(p - q)))


@pytest.mark.parametrize("ref, cur", CASES[1:])
def test_chi_square_equals_scipy_contingency(ref, cur):
    table = np.array([ref, cur], dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    expected = stats.chi2_contingency(table, correction=False)
    stat, p_value, dof = m.chi_square(ref, cur)
    assert stat == pytest.approx(expected.statistic, rel=1e-9, abs=1e-9)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-7, abs=1e-12)
    assert dof == expected.dof


def test_identical_distributions_score_zero():
    assert m.psi([3, 4, 5], [30, 40, 50]) == pytest.approx(0.0, abs=1e-12)
    assert m.jensen_shannon([3, 4, 5], [30, 40, 50]) == pytest.approx(0.0, abs=1e-12)
    assert m.chi_square([3, 4, 5], [30, 40, 50])[1] == pytest.approx(1.0)


def test_disjoint_supports_have_maximal_js_and_ks():
    assert m.jensen_shannon([1, 0], [0, 1]) == pytest.approx(1.0)
    assert m.ks_statistic([1, 0], [0, 1]) == pytest.approx(1.0)


def test_single_bin_chi_square_cannot_reject():
    assert m.chi_square([5], [9]) == (0.0, 1.0, 0)


def test_empty_side_is_a_value_error():
    with pytest.raises(ValueError):
        m.psi([0, 0], [1, 2])
    with pytest.raises(ValueError):
        m.chi_square([1, 2], [0, 0])


def test_wasserstein_equals_scipy_on_weighted_points():
    rng = np.random.default_rng(3)
    xp, xq = np.sort(rng.normal(size=50)), np.sort(rng.normal(1, 2, size=70))
    wp, wq = rng.integers(1, 10, 50), rng.integers(1, 10, 70)
    assert m.wasserstein(xp, wp, xq, wq) == pytest.approx(stats.wasserstein_distance(xp, xq, wp, wq), abs=1e-9)
    assert m.wasserstein(xp, wp, xp, wp) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("dof", [1, 2, 5, 9, 30, 99, 5000])
@pytest.mark.parametrize("x_scale", [0.01, 0.5, 1.0, 2.0, 10.0])
def test_chi2_distribution_matches_scipy(dof, x_scale):
    x = dof * x_scale
    assert m.chi2_sf(x, dof) == pytest.approx(stats.chi2.sf(x, dof), rel=1e-8, abs=1e-300)


@pytest.mark.parametrize("dof", [1, 4, 9, 49])
@pytest.mark.parametrize("q", [0.9, 0.95, 0.99, 0.999])
def test_chi2_ppf_matches_scipy(dof, q):
    assert m.chi2_ppf(q, dof) == pytest.approx(stats.chi2.ppf(q, dof), rel=1e-8)


def test_psi_critical_value_shrinks_with_sample_size():
    small = m.psi_critical_value(200, 200, 10)
    large = m.psi_critical_value(200_000, 200_000, 10)
    assert small == pytest.approx(stats.chi2.ppf(0.99, 9) * (2 / 200), rel=1e-8)
    assert large < small / 500
    assert m.psi_critical_value(100, 100, 1) == 0.0
