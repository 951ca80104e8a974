"""The fine-bin grid: ordered keys, bins that contain their values, consistent coarsening."""

from __future__ import annotations

import numpy as np
import pytest

from airflow_provider_parity.drift.histogram import (
    FineHistogram,
    Grid,
    bin_bounds,
    bin_keys,
    bin_midpoints,
    coarsen_keys,
)

DATA = {
    "normal": np.random.default_rng(0).normal(5, 2, 20_000),
    "lognormal": np.random.default_rng(1).lognormal(0, 2, 20_000),
    "offset": 1e9 + np.random.default_rng(2).normal(0, 1, 20_000),
    "integers": np.random.default_rng(3).integers(-50, 50, 20_000).astype(float),
    "extreme": np.array([-1e300, -1e-300, -5.0, 0.0, 1e-12, 3.0, 1e300]),
}


@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize("bits", [12, 7, 2, 0])
def test_keys_ascend_with_values_and_bins_hold_their_values(name, bits):
    values = np.sort(DATA[name])
    grid = Grid.infer(values)
    keys = bin_keys(values, grid, bits)
    assert np.all(np.diff(keys) >= 0)
    lower, upper = bin_bounds(keys, grid, bits)
    assert np.all((values >= lower) & (values <= upper))
    mids = bin_midpoints(keys, grid, bits)
    assert np.all((mids >= lower) & (mids <= upper))


@pytest.mark.parametrize("name", sorted(DATA))
def test_coarsening_equals_binning_with_fewer_bits(name):
    values = DATA[name]
    grid = Grid.infer(values)
    fine = bin_keys(values, grid, 12)
    for bits in (11, 8, 3, 0):
        assert np.array_equal(coarsen_keys(fine, grid, 12, 12 - bits), bin_keys(values, grid, bits))


def test_resolution_is_relative_to_distance_from_centre():
    values = DATA["offset"]
    grid = Grid.infer(values)
    assert grid.center == pytest.approx(1e9, abs=1.0)
    keys = bin_keys(values, grid, 12)
    lower, upper = bin_bounds(keys, grid, 12)
    # |x - 1e9| ~ 1 here, so bins are ~1/4096 wide, not 1e9/4096.
    assert np.max(upper - lower) < 2e-3 * 4


def test_one_signed_skewed_data_is_binned_around_zero():
    assert Grid.infer(DATA["lognormal"]).center == 0.0
    assert Grid.infer(DATA["normal"]).center != 0.0


def test_histogram_merge_of_parts_equals_the_whole():
    values = DATA["normal"]
    grid = Grid.infer(values)
    whole = FineHistogram(grid=grid)
    whole.add_values(values)
    parts = [FineHistogram(grid=grid) for _ in range(3)]
    for part, chunk in zip(parts, np.array_split(values, 3), strict=True):
        part.add_values(chunk)
    parts[1].coarsen(9)  # merging coarsens to the common resolution
    merged = FineHistogram(grid=grid)
    for part in parts:
        merged.merge(part)
    assert merged.bits == 9
    assert np.array_equal(merged.sparse()[0], whole.at_bits(9)[0])
    assert np.array_equal(merged.sparse()[1], whole.at_bits(9)[1])
    assert merged.total == values.size


def test_compact_bounds_the_number_of_bins():
    hist = FineHistogram(max_bins=500, grid=Grid.infer(DATA["normal"]))
    hist.add_values(DATA["normal"])
    hist.compact()
    assert 0 < np.count_nonzero(hist.counts) <= 500
    assert hist.total == DATA["normal"].size
