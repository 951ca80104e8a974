"""Verdicts, thresholds, attribution, segments and profiles on generated data with injected drift."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from airflow_provider_parity.drift.checks import Thresholds
from airflow_provider_parity.drift.compare import (
    DriftSettings,
    Rule,
    compare_datasets,
    compare_profiles,
)
from airflow_provider_parity.drift.profile import (
    DatasetProfile,
    Profiler,
    profile_batches,
)
from airflow_provider_parity.exceptions import ConfigurationError, DataError

N = 20_000


def generate(seed: int, drift: bool) -> pa.Table:
    """Ten features; with ``drift`` four of them change: mean, scale, category mix, null rate."""
    rng = np.random.default_rng(seed)
    null_rate = 0.15 if drift else 0.0
    with_nulls = rng.normal(3, 1, N)
    with_nulls[rng.random(N) < null_rate] = np.nan
    mix = [0.2, 0.3, 0.5] if drift else [0.6, 0.3, 0.1]
    return pa.table({
        "mean_shift": rng.normal(1.0 if drift else 0.0, 1, N),
        "scale_change": rng.normal(50, 10 if drift else 4, N),
        "category_mix": rng.choice(["a", "b", "c"], N, p=mix),
        "null_increase": pa.array(with_nulls, from_pandas=True),
        "stable_normal": rng.normal(0, 1, N),
        "stable_skewed": rng.lognormal(0, 1, N),
        "stable_int": rng.integers(0, 30, N),
        "stable_category": rng.choice(["x", "y", "z", "w"], N),
        "stable_flag": rng.random(N) < 0.3,
        "region": rng.choice(["eu", "us"], N),
    })


DRIFTED = {"mean_shift", "scale_change", "category_mix", "null_increase"}


@pytest.mark.parametrize("numeric, categorical", [
    (Rule("psi", 0.2), Rule("jensen_shannon", 0.1)),  # the defaults
    (Rule("ks", 0.1), Rule("linf", 0.1)),
    (Rule("wasserstein", 0.1), Rule("psi", 0.2)),
    (Rule("jensen_shannon", 0.05), Rule("chi_square", 0.001)),
])
def test_exactly_the_drifted_features_are_flagged(numeric, categorical):
    settings = DriftSettings(numeric=numeric, categorical=categorical)
    result, _ = compare_datasets(generate(1, False).to_batches(4096), generate(2, True).to_batches(4096), settings)
    assert set(result.drifted_features) == DRIFTED
    assert result.verdict == "failed"
    assert {a.name for a in result.attribution[:4]} == DRIFTED


def test_no_drift_passes():
    result, _ = compare_datasets([generate(1, False)], [generate(3, False)])
    assert result.verdict == "passed", result.message
    assert result.drifted_features == []
    assert "no drift" in result.message


def test_failed_message_is_one_line_naming_check_and_values():
    result, _ = compare_datasets([generate(1, False)], [generate(2, True)])
    assert "\n" not in result.message
    assert "mean_shift: wasserstein_sd=" in result.message and "> 0.1" in result.message
    assert "null_increase: null_rate_change=0.15" in result.message and "> 0.02" in result.message


def test_every_measurement_is_in_the_result():
    result, _ = compare_datasets([generate(1, False)], [generate(3, False)])
    numeric = result.feature("stable_normal")
    assert {"psi", "jensen_shannon", "ks", "wasserstein", "chi_square"} <= set(numeric.metrics)
    categorical = result.feature("stable_category")
    assert {"linf", "jensen_shannon", "psi", "chi_square"} <= set(categorical.metrics)
    assert all(f.value is not None and f.threshold > 0 for f in result.features)


def test_importance_weights_the_attribution():
    importance = {"category_mix": 100.0}
    result, _ = compare_datasets([generate(1, False)], [generate(2, True)], DriftSettings(importance=importance))
    assert result.attribution[0].name == "category_mix"
    assert sum(a.share for a in result.attribution) == pytest.approx(1.0)


def test_sample_size_aware_threshold_tolerates_small_samples():
    rng = np.random.default_rng(0)
    ref = pa.table({"x": rng.normal(size=1000)})
    cur = pa.table({"x": rng.normal(size=1000)})
    plain, _ = compare_datasets([ref], [cur], DriftSettings(numeric=Rule("psi", 0.01), min_rows=10))
    aware, _ = compare_datasets([ref], [cur], DriftSettings(numeric=Rule("psi", 0.01), min_rows=10,
                                                            sample_size_aware=True))
    assert plain.feature("x").drifted  # sampling noise alone
    assert not aware.feature("x").drifted
    assert aware.feature("x").threshold > 0.01 == aware.feature("x").configured_threshold
    # A real shift still fails with the raised threshold.
    moved, _ = compare_datasets([ref], [pa.table({"x": rng.normal(1, 1, size=1000)})],
                                DriftSettings(numeric=Rule("psi", 0.01), min_rows=10, sample_size_aware=True))
    assert moved.feature("x").drifted


def test_minimum_rows_guard():
    result, _ = compare_datasets([generate(1, False)], [generate(2, True).slice(0, 50)])
    assert result.verdict == "insufficient_data"
    assert "min_rows" in result.message


def test_no_baseline():
    cur = profile_batches([generate(1, False)])
    result = compare_profiles(None, cur, DriftSettings(on_no_baseline="fail"))
    assert result.verdict == "no_baseline"
    assert "on_no_baseline=fail" in result.message


def test_row_count_change():
    settings = DriftSettings(row_count_change=(0.5, 2.0))
    result, _ = compare_datasets([generate(1, False)], [generate(3, False).slice(0, 5000)], settings)
    assert result.verdict == "failed"
    assert result.row_count is not None and result.row_count.ratio == 0.25 and not result.row_count.passed
    assert result.drifted_features == []


def test_a_metric_that_does_not_fit_the_kind_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="'stable_category' is categorical"):
        compare_datasets([generate(1, False)], [generate(3, False)],
                         DriftSettings(features={"stable_category": Rule("wasserstein", 0.1)}))


def test_missing_feature_on_the_current_side_is_bad_input():
    ref = profile_batches([generate(1, False)])
    with pytest.raises(DataError, match="no column 'mean_shift'"):
        profile_batches([generate(2, False).drop_columns(["mean_shift"])], like=ref)


def test_segments_by_column():
    ref = generate(1, False)
    cur = generate(2, False)
    # Drift in one region only.
    eu = pa.compute.equal(cur["region"], "eu")
    shifted = pa.compute.if_else(eu, pa.compute.add(cur["mean_shift"], 3.0), cur["mean_shift"])
    cur = cur.set_column(0, "mean_shift", shifted)
    result, _ = compare_datasets([ref], [cur], segment_by="region")
    segments = {s.segment: s for s in result.segments}
    assert set(segments) == {"region=eu", "region=us"}
    assert segments["region=eu"].drifted_features == ["mean_shift"]
    assert segments["region=us"].verdict == "passed"
    assert segments["region=eu"].rows_reference == pa.compute.sum(pa.compute.equal(ref["region"], "eu")).as_py()


def test_time_windows_are_judged_against_the_whole_reference():
    ref = generate(1, False)
    cur = generate(2, False)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ts = pa.array([start + timedelta(hours=48 * i / N) for i in range(N)], pa.timestamp("us", tz="UTC"))
    day2 = pa.compute.greater_equal(ts, pa.scalar(start + timedelta(days=1), pa.timestamp("us", tz="UTC")))
    cur = cur.set_column(0, "mean_shift", pa.compute.if_else(day2, pa.compute.add(cur["mean_shift"], 3.0),
                                                             cur["mean_shift"]))
    cur = cur.append_column("ts", ts)
    ref_profile = profile_batches([ref])
    cur_profile = profile_batches(cur.to_batches(5000), like=ref_profile, time_column="ts",
                                  time_window=timedelta(days=1))
    result = compare_profiles(ref_profile, cur_profile)
    windows = {s.segment: s.drifted_features for s in result.segments}
    assert windows == {"window=2026-01-01T00:00:00+00:00": [], "window=2026-01-02T00:00:00+00:00": ["mean_shift"]}


@pytest.mark.parametrize("values", [
    # A float64 of microseconds loses whole units after about 2255; dates before 1970 floor down.
    pa.array([date(2300, 1, 5), None, date(1950, 3, 1), date(2300, 1, 5)], pa.date32()),
    pa.array([datetime(2300, 1, 5, 7), None, datetime(1950, 3, 1, 23), datetime(2300, 1, 5, 23, 59)], pa.timestamp("us")),
    pa.array([datetime(2300, 1, 5, 7), None, datetime(1950, 3, 1, 23), datetime(2300, 1, 5, 23, 59)], pa.timestamp("s")),
])
def test_time_windows_of_any_date_are_exact(values):
    from airflow_provider_parity.drift.profile import _window_labels

    assert _window_labels(values, timedelta(days=1)).to_pylist() == [
        "window=2300-01-05T00:00:00+00:00", "window=<null>", "window=1950-03-01T00:00:00+00:00",
        "window=2300-01-05T00:00:00+00:00"]


def test_partition_profiles_merge_into_the_whole():
    table = generate(1, False)
    whole = profile_batches(table.to_batches(3000))
    grids = whole.grids
    parts = [profile_batches([table.slice(i, 5000)], grids=grids) for i in range(0, N, 5000)]
    merged = DatasetProfile()
    for part in parts:
        merged.merge(part)
    assert _approx_equal(merged.to_dict(), whole.to_dict())


def _approx_equal(a, b):
    # Counts and histograms are exact; float sums differ by summation order only.
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_approx_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_approx_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-12, abs=1e-9)
    return a == b


def test_merging_profiles_on_different_grids_is_refused():
    a = profile_batches([generate(1, False).slice(0, 1000)])
    b = profile_batches([pa.table({"mean_shift": np.arange(1000.0) + 1e6})])
    with pytest.raises(DataError, match="different grids"):
        a.merge(b)


def test_a_stored_profile_gives_the_same_result(tmp_path):
    ref = profile_batches(generate(1, False).to_batches(4096))
    path = tmp_path / "ref.profile.json"
    ref.save(path)
    loaded = DatasetProfile.load(path)
    cur = profile_batches([generate(2, True)], like=loaded)
    direct = compare_profiles(ref, profile_batches([generate(2, True)], like=ref))
    stored = compare_profiles(loaded, cur)
    assert stored.to_dict() == direct.to_dict()


def test_loading_a_broken_profile_is_bad_input(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"format": "something else"}')
    with pytest.raises(DataError, match="not a drift profile"):
        DatasetProfile.load(path)
    with pytest.raises(DataError, match="not found"):
        DatasetProfile.load(tmp_path / "missing.json")


def test_profile_memory_does_not_grow_with_rows():
    rng = np.random.default_rng(9)
    profiler = Profiler()
    sizes = []
    for i in range(30):
        profiler.update(pa.record_batch({"x": rng.normal(size=20_000), "c": rng.choice(["a", "b"], 20_000)}))
        if i in (4, 29):
            hist = profiler.profile.features["x"].hist
            sizes.append(hist.counts.nbytes)
    assert sizes[1] <= 2 * sizes[0]


def test_settings_from_contract(example_contract):
    from airflow_provider_parity.drift.compare import kinds_from_contract

    settings = DriftSettings.from_contract(example_contract)
    kinds = kinds_from_contract(example_contract)
    assert settings.min_rows == example_contract.drift.min_rows
    assert set(kinds) == {c.name for c in example_contract.drift_features()}
    assert settings.checks == Thresholds(**example_contract.drift.checks.model_dump())
    for name, kind in kinds.items():
        rule = settings.rule_for(name, kind)
        expected = example_contract.drift_rule_for(example_contract.column(name))
        if expected is None:
            assert rule is None
        else:
            assert rule is not None and (rule.metric, rule.threshold) == (expected.metric, expected.threshold)


def test_a_column_that_cannot_be_its_declared_kind_is_a_schema_mismatch():
    from airflow_provider_parity.exceptions import SchemaMismatchError

    table = pa.table({"plan": ["basic", "plus"] * 100})
    with pytest.raises(SchemaMismatchError, match="column 'plan' of type string cannot be compared as a numeric"):
        profile_batches([table], {"plan": "numeric"})


def test_dates_and_timestamps_are_numeric_in_their_ticks():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    table = pa.table({
        "day": pa.array([(start + timedelta(days=i % 30)).date() for i in range(600)], pa.date32()),
        "at": pa.array([start + timedelta(minutes=i) for i in range(600)], pa.timestamp("us", tz="UTC")),
    })
    later = pa.table({
        "day": pa.array([(start + timedelta(days=60 + i % 30)).date() for i in range(600)], pa.date32()),
        "at": pa.array([start + timedelta(minutes=i) for i in range(600)], pa.timestamp("us", tz="UTC")),
    })
    ref = profile_batches([table])
    assert ref.kinds == {"day": "numeric", "at": "numeric"}
    assert ref.features["day"].max - ref.features["day"].min == 29  # days since the epoch
    result = compare_profiles(ref, profile_batches([later], like=ref))
    assert result.drifted_features == ["day"]
    assert result.feature("day").out_of_range_fraction == 1.0


def test_profile_path_sits_beside_the_snapshot():
    from airflow_provider_parity.drift.gate import profile_path_for

    assert profile_path_for("/lake/customers/", 12) == "/lake/customers/_parity/drift-profile-v12.json"
