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


def test_the_drift_gate_on_spark_gives_the_arrow_engines_verdict_on_delta_versions(spark, example_contract, tmp_path):
    from deltalake import write_deltalake

    from airflow_provider_parity.drift.gate import run_drift

    uri = str(tmp_path / "features")
    write_deltalake(uri, customer_features(3000, seed=1))
    shifted = customer_features(3000, seed=2)
    tenure = shifted.column("tenure_days")
    shifted = shifted.set_column(shifted.schema.get_field_index("tenure_days"), "tenure_days",
                                 pa.array([None if v is None else v * 3 for v in tenure.to_pylist()], tenure.type))
    write_deltalake(uri, shifted, mode="overwrite")
    results = {}
    for engine in ("arrow", "spark"):
        result, reference = run_drift(uri, uri, contract=example_contract, reference_version=0, current_version=1,
                                      engine=engine, spark=spark if engine == "spark" else None)
        results[engine] = (result.to_dict(), reference.to_dict() if reference else None)
    (by_arrow, ref_arrow), (by_spark, ref_spark) = results["arrow"], results["spark"]
    assert by_spark["verdict"] == by_arrow["verdict"] == "failed"
    assert "tenure_days" in {f["name"] for f in by_spark["features"] if f["drifted"]}
    for report in (by_arrow, by_spark, ref_arrow, ref_spark):
        for key in ("reference", "current", "source", "duration_seconds"):
            report.pop(key, None)
    _approx_equal(ref_spark, ref_arrow)
    _approx_equal(by_spark, by_arrow)


def test_the_drift_gate_operator_on_spark_blocks_on_the_same_checks_as_on_arrow(spark, tmp_path, task_context,
                                                                                example_contract_path):
    import pyarrow.compute as pc

    from airflow_provider_parity.compat import AirflowFailException
    from airflow_provider_parity.examples import write_parquet
    from airflow_provider_parity.operators.drift import DriftGateOperator

    ref = write_parquet(customer_features(5000, seed=1), str(tmp_path / "ref.parquet"))
    cur = customer_features(5000, seed=2)
    cur = cur.set_column(cur.schema.get_field_index("orders_30d"), "orders_30d", pc.add(cur["orders_30d"], 10))
    cur_path = write_parquet(cur, str(tmp_path / "cur.parquet"))
    checks = {}
    for engine in ("arrow", "spark"):
        op = DriftGateOperator(task_id=f"drift_{engine}", reference=ref, current=cur_path, engine=engine,
                               contract_path=str(example_contract_path))
        context = task_context(f"drift_{engine}")
        with pytest.raises(AirflowFailException, match="orders_30d"):
            op.execute(context)
        outcome = context["ti"].pushed["parity_outcome"]
        checks[engine] = sorted((c["name"], c["success"], round(c["value"], 9) if isinstance(c.get("value"), float)
                                 else c.get("value")) for c in outcome["checks"])
    assert checks["spark"] == checks["arrow"]
    assert any(not ok for _, ok, _ in checks["spark"])


def test_spark_conn_id_needs_the_spark_engine():
    from airflow_provider_parity.operators.drift import DriftGateOperator

    with pytest.raises(ValueError, match="spark_conn_id= needs engine='spark'"):
        DriftGateOperator(task_id="t", reference="r", current="c", spark_conn_id="spark_local")
    with pytest.raises(ValueError, match="engine"):
        DriftGateOperator(task_id="t", reference="r", current="c", engine="pandas")  # type: ignore[arg-type]
