"""The Spark profile gives the Arrow engine's numbers on the same data."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from airflow_provider_parity.drift.compare import compare_profiles
from airflow_provider_parity.drift.profile import profile_batches
from airflow_provider_parity.drift.spark import profile_spark
from airflow_provider_parity.examples import customer_features

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def _approx_equal(a, b, path=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _approx_equal(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _approx_equal(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-6), path
    else:
        assert a == b, path


def test_spark_profile_equals_the_arrow_profile_and_gives_the_same_result(spark, tmp_path):
    table = customer_features(30_000, seed=4)
    rng = np.random.default_rng(0)
    table = table.append_column("score", pa.array(np.where(rng.random(30_000) < 0.01, np.nan,
                                                           rng.lognormal(0, 2, 30_000))))
    path = str(tmp_path / "features.parquet")
    import pyarrow.parquet as pq

    pq.write_table(table, path, row_group_size=7000)
    arrow = profile_batches(table.to_batches(max_chunksize=5000))
    frame = spark.read.parquet(path).repartition(3)
    spark = profile_spark(frame, like=arrow)
    assert spark.kinds == arrow.kinds
    _approx_equal(spark.to_dict(), arrow.to_dict())
    # The same numbers all the way to the verdict.
    current = customer_features(10_000, seed=5)
    current = current.append_column("score", pa.array(rng.lognormal(0.5, 2, 10_000)))
    cur_profile = profile_batches([current], like=arrow)
    by_arrow = compare_profiles(arrow, cur_profile).to_dict()
    by_spark = compare_profiles(spark, cur_profile).to_dict()
    by_arrow["reference"] = by_spark["reference"] = None
    _approx_equal(by_spark, by_arrow)
