"""Value-by-value comparison: tolerances, nulls, NaN, mixed numeric types, entity counting."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import numpy as np
import pyarrow as pa
import pytest

from airflow_provider_parity.skew.compare import Joined, compare_feature
from airflow_provider_parity.skew.settings import FeatureRule, SkewSettings


def _compare(served: list, offline: list, rule: FeatureRule, served_type=None, offline_type=None,
             entity: list[int] | None = None):
    n = len(served)
    stamp = pa.array([0] * n, pa.timestamp("us", tz="UTC"))
    log = pa.table({"k": [f"E{e}" for e in (entity or range(n))], "served_at": stamp,
                    rule.name: pa.array(served, served_type)})
    off = pa.table({"t": stamp, rule.name: pa.array(offline, offline_type)})
    codes = np.array(entity or range(n), dtype="int64")
    settings = SkewSettings(keys=("k",), as_of_column="t", features=(rule,))
    return compare_feature(Joined(log, off, codes, len(set(codes.tolist())), settings), rule)


def test_float_tolerance_is_absolute_plus_relative_to_the_offline_value():
    rule = FeatureRule("x", "float", absolute=0.01, relative=0.001)
    # 1000 + 1.01 is within 0.01 + 0.001 * 1000 = 1.01; 1000 + 1.02 is not; 0.011 away from 0 is not.
    result = _compare([1001.01, 1001.02, 0.011, 5.0], [1000.0, 1000.0, 0.0, 5.0], rule)
    assert (result.mismatched_requests, result.mismatched_entities) == (2, 2)
    assert result.max_difference == pytest.approx(1.02)
    assert [e.entity["k"] for e in result.examples] == ["E1", "E2"]


def test_nulls_and_nans_match_their_own_kind_only():
    rule = FeatureRule("x", "float", absolute=1e-9, relative=1e-6)
    result = _compare([None, None, 1.0, math.nan, math.nan, math.inf, math.inf],
                      [None, 1.0, None, math.nan, 1.0, math.inf, 1.0], rule)
    assert result.mismatched_requests == 4 and result.null_mismatches == 2
    assert [e.entity["k"] for e in result.examples] == ["E1", "E2", "E4", "E6"]
    assert result.max_difference is None  # no finite difference among the pairs with two values
    json.dumps(asdict(result), allow_nan=False)  # the report stays strict JSON


def test_integers_are_exact_and_a_fraction_served_for_one_is_a_mismatch_not_bad_input():
    rule = FeatureRule("n", "integer")
    big = _compare([2**53 + 1, 2**53], [2**53, 2**53], rule, served_type=pa.int64(), offline_type=pa.int64())
    assert big.mismatched_requests == 1  # float64 would call 2**53 + 1 and 2**53 equal
    served_as_float = _compare([3.0, 3.5], [3, 3], rule, served_type=pa.float64(), offline_type=pa.int64())
    assert served_as_float.mismatched_requests == 1 and served_as_float.max_difference == 0.5
    ints = _compare([1, 2], [1, 2], rule, served_type=pa.int32(), offline_type=pa.int64())
    assert ints.mismatched_requests == 0


def test_strings_compare_exactly_and_incompatible_types_are_bad_input():
    from airflow_provider_parity.exceptions import SchemaMismatchError

    rule = FeatureRule("plan", "exact")
    result = _compare(["basic", "Basic", None], ["basic", "basic", None], rule)
    assert result.mismatched_requests == 1 and result.max_difference is None
    with pytest.raises(SchemaMismatchError, match="'plan' is bool in the serving log but date32"):
        _compare([True], [0], rule, served_type=pa.bool_(), offline_type=pa.date32())


def test_an_entity_with_many_mismatched_requests_counts_once():
    rule = FeatureRule("x", "float", absolute=0.0, relative=0.0)
    result = _compare([1.0, 1.0, 1.0, 2.0], [0.0, 0.0, 0.0, 2.0], rule, entity=[7, 7, 7, 8])
    assert (result.mismatched_requests, result.requests) == (3, 4)
    assert (result.mismatched_entities, result.entities, result.mismatch_rate) == (1, 2, 0.5)
