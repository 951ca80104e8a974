"""Each metric equals an independent computation on the same bins, on the awkward cases."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from drift_checks import build, check_categorical, check_numeric
from scipy import stats

from airflow_provider_parity.drift.compare import DriftSettings

RNG = np.random.default_rng(42)
N = 3000


def _num(values):
    return pa.array(values, type=pa.float64(), from_pandas=True)


NUMERIC_CASES = {
    "identical": (RNG.normal(0, 1, N), None),
    "shifted": (RNG.normal(0, 1, N), RNG.normal(0.7, 1, N)),
    "scaled": (RNG.normal(10, 1, N), RNG.normal(10, 3, N)),
    "disjoint": (RNG.normal(0, 1, N), RNG.normal(100, 1, N)),
    "constant_same": (np.full(N, 5.0), np.full(N, 5.0)),
    "constant_moved": (np.full(N, 5.0), np.full(N, 6.0)),
    "skewed": (RNG.lognormal(0, 1.5, N), RNG.lognormal(0.3, 1.5, N)),
    "offset": (1e9 + RNG.normal(0, 1, N), 1e9 + RNG.normal(0.2, 1, N)),
    "integers": (RNG.integers(0, 20, N).astype(float), RNG.integers(3, 25, N).astype(float)),
    "nan_and_inf": (
        np.concatenate([RNG.normal(0, 1, N), [np.nan] * 30, [np.inf] * 5, [-np.inf] * 2]),
        np.concatenate([RNG.normal(0, 1, N), [np.nan] * 300, [np.inf] * 50]),
    ),
    "all_null_reference": (np.full(N, np.nan), RNG.normal(0, 1, N)),
    "all_null_both": (np.full(N, np.nan), np.full(N, np.nan)),
    "one_row": (np.array([1.5]), np.array([2.5])),
}


@pytest.mark.parametrize("case", sorted(NUMERIC_CASES))
def test_numeric_metrics_equal_independent_computation(case):
    ref_raw, cur_raw = NUMERIC_CASES[case]
    if cur_raw is None:
        cur_raw = ref_raw.copy()
    ref, cur, result = build({"x": _num(ref_raw)}, {"x": _num(cur_raw)}, batch=700)
    feat = result.feature("x")
    check_numeric(feat, ref.features["x"], cur.features["x"], ref_raw, cur_raw)


def test_identical_data_scores_zero_everywhere():
    raw = NUMERIC_CASES["identical"][0]
    cats = RNG.choice(["a", "b", "c"], N).tolist()
    _, _, result = build({"x": _num(raw), "c": cats}, {"x": _num(raw), "c": cats})
    assert result.verdict == "passed"
    for name in ("psi", "jensen_shannon", "ks", "wasserstein"):
        assert result.feature("x").metrics[name] == pytest.approx(0.0, abs=1e-12)
    assert result.feature("c").metrics["linf"] == 0.0
    assert result.feature("c").metrics["chi_square"] == pytest.approx(1.0)


def test_disjoint_supports_are_maximally_drifted():
    ref_raw, cur_raw = NUMERIC_CASES["disjoint"]
    _, _, result = build({"x": _num(ref_raw)}, {"x": _num(cur_raw)})
    feat = result.feature("x")
    assert feat.metrics["ks"] == pytest.approx(1.0)
    assert feat.metrics["jensen_shannon"] == pytest.approx(1.0)
    assert feat.out_of_range_fraction == 1.0
    assert feat.metrics["wasserstein"] == pytest.approx(100 / np.std(ref_raw), rel=1e-2)
    assert feat.drifted and result.verdict == "failed"


def test_fine_bins_track_the_raw_statistics():
    ref_raw, cur_raw = NUMERIC_CASES["skewed"]
    _, _, result = build({"x": _num(ref_raw)}, {"x": _num(cur_raw)})
    feat = result.feature("x")
    assert feat.metrics["ks"] == pytest.approx(stats.ks_2samp(ref_raw, cur_raw).statistic, abs=2e-3)
    assert feat.metrics["wasserstein_raw"] == pytest.approx(stats.wasserstein_distance(ref_raw, cur_raw), rel=1e-2)


def test_constant_reference_normalises_wasserstein_by_its_magnitude():
    _, _, result = build({"x": _num(np.full(N, 5.0))}, {"x": _num(np.full(N, 6.0))})
    feat = result.feature("x")
    assert feat.metrics["wasserstein"] == pytest.approx(1.0 / 5.0, rel=2.0**-11)  # within one fine bin
    assert feat.metrics["ks"] == pytest.approx(1.0)


def test_nulls_and_infinities_are_bins_not_dropped():
    ref_raw, cur_raw = NUMERIC_CASES["nan_and_inf"]
    _, _, result = build({"x": _num(ref_raw)}, {"x": _num(cur_raw)})
    feat = result.feature("x")
    bins = dict(zip(feat.bins.labels, zip(feat.bins.reference, feat.bins.current, strict=True), strict=True))
    assert bins["(missing)"] == (30, 300)
    assert bins["+inf"] == (5, 50)
    assert bins["-inf"] == (2, 0)
    assert feat.null_rate_current == pytest.approx(300 / cur_raw.size)
    assert feat.drifted


def test_all_null_columns():
    _, _, both = build({"x": _num(np.full(50, np.nan))}, {"x": _num(np.full(50, np.nan))})
    feat = both.feature("x")
    assert feat.metrics["psi"] == pytest.approx(0.0)
    assert feat.metrics["ks"] is None and feat.metrics["wasserstein"] is None
    assert not feat.drifted
    _, _, cur_null = build({"x": _num(RNG.normal(size=50))}, {"x": _num(np.full(50, np.nan))})
    assert cur_null.feature("x").drifted
    assert cur_null.feature("x").null_rate_current == 1.0


def test_one_row_is_insufficient_data_not_a_verdict():
    _, _, result = build({"x": _num([1.5])}, {"x": _num([99.0])}, settings=DriftSettings(min_rows=100))
    assert result.verdict == "insufficient_data"
    assert result.feature("x").status == "insufficient_data"
    assert result.feature("x").drifted is False
    assert result.feature("x").metrics["ks"] == pytest.approx(1.0)  # measured all the same


def test_empty_current_side():
    ref_raw = RNG.normal(size=500)
    empty = pa.table({"x": pa.array([], pa.float64()), "c": pa.array([], pa.string())})
    _, _, result = build({"x": _num(ref_raw), "c": ["a"] * 500}, empty, settings=DriftSettings(min_rows=10))
    assert result.verdict == "insufficient_data"
    assert result.rows_current == 0
    for feat in result.features:
        assert feat.value is None and feat.null_rate_current is None and not feat.drifted


def test_unseen_categories_are_a_bin():
    ref_raw = RNG.choice(["a", "b", "c"], N).tolist()
    cur_raw = RNG.choice(["a", "b", "c", "new1", "new2"], N, p=[0.3, 0.3, 0.2, 0.15, 0.05]).tolist()
    cur_raw[:40] = [None] * 40
    _, _, result = build({"c": ref_raw}, {"c": cur_raw})
    feat = result.feature("c")
    check_categorical(feat, ref_raw, cur_raw)
    unseen = sum(1 for v in cur_raw if v in ("new1", "new2"))
    assert feat.unseen_fraction == pytest.approx(unseen / (N - 40))
    assert feat.unseen_values == ["new1", "new2"]
    assert feat.largest_change == "(unseen)"
    assert feat.drifted


def test_categorical_with_100k_distinct_values():
    ref_raw = [f"id{v}" for v in RNG.permutation(np.repeat(np.arange(100_000), 2))]
    cur_raw = [f"id{v}" for v in RNG.integers(20_000, 120_000, 200_000)]
    _, _, result = build({"c": ref_raw}, {"c": cur_raw}, batch=50_000)
    feat = result.feature("c")
    check_categorical(feat, ref_raw, cur_raw)
    # Every value and (unseen); (missing) is empty on both sides so it is left out.
    assert feat.bins.truncated and feat.bins.total_bins == 100_000 + 1
    assert feat.drifted


def test_booleans_are_categorical():
    ref_raw = [True] * 700 + [False] * 300
    cur_raw = [True] * 300 + [False] * 600 + [None] * 100
    _, _, result = build({"b": ref_raw}, {"b": cur_raw})
    feat = result.feature("b")
    assert feat.kind == "categorical"
    assert set(feat.bins.labels) == {"(missing)", "true", "false"}
    check_categorical(feat, ["true" if v else "false" for v in ref_raw],
                      [None if v is None else ("true" if v else "false") for v in cur_raw])
