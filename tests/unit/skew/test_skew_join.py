"""The as-of join against a brute-force loop, composite keys, and ambiguous offline rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from airflow_provider_parity.skew.join import asof_match, entity_codes


def _brute(log_keys, log_times, off_keys, off_times):
    out = []
    for key, moment in zip(log_keys, log_times, strict=True):
        best = -1
        for i, (k, t) in enumerate(zip(off_keys, off_times, strict=True)):
            if k == key and t <= moment and (best < 0 or t > off_times[best]):
                best = i
        out.append(best)
    return out


@pytest.mark.parametrize(("seed", "scale"), [(0, 1), (1, 1), (2, 1), (3, 10**15), (4, 10**15)])
def test_the_join_picks_the_newest_row_at_or_before_each_request(seed, scale):
    # scale 10**15: a time span too wide to sit beside the entity codes, so the join ranks the times.
    rng = np.random.default_rng(seed)
    off_keys = [f"E{k}" for k in rng.integers(0, 30, 200)]
    # Distinct times per entity (the ambiguity check is tested below); many equal across entities.
    off_times = [int(t) * 10 + int(k[1:]) % 10 for t, k in zip(rng.integers(0, 50, 200), off_keys, strict=True)]
    seen = {}
    keep = [i for i, pair in enumerate(zip(off_keys, off_times, strict=True)) if seen.setdefault(pair, i) == i]
    off_keys, off_times = [off_keys[i] for i in keep], [off_times[i] for i in keep]
    log_keys = [f"E{k}" for k in rng.integers(0, 35, 300)]  # E30..E34: never offline
    log_times = [int(t) for t in rng.integers(-20, 520, 300)]
    log = pa.table({"k": log_keys})
    off = pa.table({"k": off_keys})
    log_entity, off_entity = entity_codes(log, off, ["k"])
    match = asof_match(log_entity, np.array(log_times) * scale, off_entity, np.array(off_times) * scale)
    expected = _brute(log_keys, log_times, off_keys, off_times)
    assert match.offline_row.tolist() == expected
    assert 0 < sum(r >= 0 for r in expected) < len(expected)  # both hits and misses were exercised


def test_composite_keys_match_only_the_full_pair():
    off = pa.table({"a": ["x", "x", "y"], "b": [1, 2, 1]})
    log = pa.table({"a": ["x", "y", "y", "z"], "b": [2, 1, 2, 1]})
    log_entity, off_entity = entity_codes(log, off, ["a", "b"])
    match = asof_match(log_entity, np.zeros(4, "int64"), off_entity, np.zeros(3, "int64"))
    assert match.offline_row.tolist() == [1, 2, -1, -1]


def test_two_offline_rows_of_one_entity_at_one_time_are_ambiguous():
    from airflow_provider_parity.exceptions import DataError

    off = pa.table({"k": ["a", "a", "b"]})
    log_entity, off_entity = entity_codes(pa.table({"k": ["a"]}), off, ["k"])
    with pytest.raises(DataError, match="1 row.*ambiguous"):
        asof_match(log_entity, np.array([5]), off_entity, np.array([1, 1, 1]), as_of_column="updated_at")


def test_an_empty_offline_table_leaves_every_request_missing():
    off = pa.table({"k": pa.array([], pa.string())})
    log_entity, off_entity = entity_codes(pa.table({"k": ["a", "b"]}), off, ["k"])
    match = asof_match(log_entity, np.array([1, 2]), off_entity, np.array([], "int64"))
    assert match.offline_row.tolist() == [-1, -1]
