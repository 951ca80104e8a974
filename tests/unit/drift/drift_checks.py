"""Helpers for the drift tests: build profiles from columns and recompute every metric independently.

The independent side uses only numpy, scipy and the raw values; from the code
under test it takes just the bins a result says it used (their edges), which
is what "the same bins" means.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from airflow_provider_parity.drift.compare import DriftSettings, compare_profiles
from airflow_provider_parity.drift.histogram import bin_bounds, bin_midpoints
from airflow_provider_parity.drift.metrics import PSI_EPSILON
from airflow_provider_parity.drift.profile import profile_batches


def build(ref_cols, cur_cols, kinds=None, settings=None, batch=1000):
    """Profiles of both sides (current on the reference's grids) and their comparison."""
    ref_t, cur_t = pa.table(ref_cols), pa.table(cur_cols)
    ref = profile_batches(ref_t.to_batches(max_chunksize=batch) or [ref_t], kinds)
    cur = profile_batches(cur_t.to_batches(max_chunksize=batch) or [cur_t], like=ref)
    return ref, cur, compare_profiles(ref, cur, settings or DriftSettings(min_rows=1))


def independent_binned(ref_counts, cur_counts):
    p = np.asarray(ref_counts, float)
    q = np.asarray(cur_counts, float)
    out = {}
    if p.sum() == 0 or q.sum() == 0:
        return {"psi": None, "jensen_shannon": None, "chi_square": None, "linf": None}
    pp, qq = p / p.sum(), q / q.sum()
    pe, qe = np.where(pp == 0, PSI_EPSILON, pp), np.where(qq == 0, PSI_EPSILON, qq)
    out["psi"] = float(np.sum((qe - pe) * np.log(qe / pe)))
    out["jensen_shannon"] = float(jensenshannon(p, q, base=2) ** 2)
    table = np.array([p, q])[:, (p + q) > 0]
    out["chi_square"] = 1.0 if table.shape[1] < 2 else float(stats.chi2_contingency(table, correction=False).pvalue)
    out["linf"] = float(np.max(np.abs(pp - qq)))
    return out


def assert_close(actual, expected, tol=1e-9):
    if expected is None:
        assert actual is None
    else:
        assert actual == pytest.approx(expected, abs=tol, rel=tol)


def raw_numeric_bins(feat, ref_raw, cur_raw):
    """Recount both raw columns into the result's numeric bins (edges taken from the result)."""
    regular = [i for i, lo in enumerate(feat.bins.lower) if lo is not None]
    lowest = feat.bins.lower[regular[0]] if regular else None
    highest = feat.bins.upper[regular[-1]] if regular else None
    out = []
    for raw in (ref_raw, cur_raw):
        vals = np.asarray(raw, dtype=float)
        finite = vals[np.isfinite(vals)]
        counts = []
        for i, label in enumerate(feat.bins.labels):
            if label == "(missing)":
                counts.append(int(np.isnan(vals).sum()))
            elif label == "-inf":
                counts.append(int((vals == -np.inf).sum()))
            elif label == "+inf":
                counts.append(int((vals == np.inf).sum()))
            elif label == "(below reference min)":
                counts.append(int((finite < lowest).sum()))
            elif label == "(above reference max)":
                counts.append(int((finite > highest).sum()))
            elif label == "(values; reference has none)":
                counts.append(int(finite.size))
            else:
                lo, hi = feat.bins.lower[i], feat.bins.upper[i]
                counts.append(int(((finite >= lo) & (finite <= hi)).sum()))
        out.append(counts)
    return out


def check_numeric(feat, ref_prof, cur_prof, ref_raw, cur_raw):
    """Every numeric metric of ``feat`` against an independent computation on the same bins."""
    ref_counts, cur_counts = raw_numeric_bins(feat, ref_raw, cur_raw)
    assert feat.bins.reference == ref_counts
    assert feat.bins.current == cur_counts
    expected = independent_binned(ref_counts, cur_counts)
    for name in ("psi", "jensen_shannon", "chi_square"):
        assert_close(feat.metrics[name], expected[name])
    bits = feat.fine_bits
    rk, rc = ref_prof.hist.at_bits(bits)
    ck, cc = cur_prof.hist.at_bits(bits)
    grid = ref_prof.grid or cur_prof.grid
    # KS: the raw values' empirical CDFs at every fine-bin edge (and before the first).
    ref_v = np.sort(np.asarray(ref_raw, float)[~np.isnan(np.asarray(ref_raw, float))])
    cur_v = np.sort(np.asarray(cur_raw, float)[~np.isnan(np.asarray(cur_raw, float))])
    if ref_v.size == 0 or cur_v.size == 0:
        assert feat.metrics["ks"] is None
    else:
        keys = np.union1d(rk, ck)
        edges = np.concatenate([[-np.inf], bin_bounds(keys, grid, bits)[1] if keys.size else []])
        f_ref = np.searchsorted(ref_v, edges, side="right") / ref_v.size
        f_cur = np.searchsorted(cur_v, edges, side="right") / cur_v.size
        assert_close(feat.metrics["ks"], float(np.max(np.abs(f_ref - f_cur))))
    ref_f = ref_v[np.isfinite(ref_v)]
    cur_f = cur_v[np.isfinite(cur_v)]
    if ref_f.size == 0 or cur_f.size == 0:
        assert feat.metrics["wasserstein"] is None
    else:
        raw_w = stats.wasserstein_distance(bin_midpoints(rk, grid, bits), bin_midpoints(ck, grid, bits), rc, cc)
        std = float(np.std(ref_f))
        denom = std if std > 0 else max(abs(float(np.mean(ref_f))), 1.0)
        assert_close(feat.metrics["wasserstein"], raw_w / denom, tol=1e-9)


def check_categorical(feat, ref_raw, cur_raw):
    """Every categorical metric of ``feat`` against counts taken from the raw values."""
    ref_c = Counter(v for v in ref_raw if v is not None)
    cur_c = Counter(v for v in cur_raw if v is not None)
    values = sorted(ref_c)
    ref_counts = [sum(1 for v in ref_raw if v is None)] + [ref_c[v] for v in values] + [0]
    cur_counts = ([sum(1 for v in cur_raw if v is None)] + [cur_c.get(v, 0) for v in values]
                  + [sum(n for v, n in cur_c.items() if v not in ref_c)])
    expected = independent_binned(ref_counts, cur_counts)
    for name in ("psi", "jensen_shannon", "chi_square", "linf"):
        assert_close(feat.metrics[name], expected[name])
