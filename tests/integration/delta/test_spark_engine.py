"""Both engines read the same rows for the same pin: Spark through delta-spark's reader and through the
parquet fallback (the version's file list from delta-rs), pyspark in local mode."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, TableFeatures, write_deltalake

from airflow_provider_parity.delta import read_arrow, resolve_snapshot
from airflow_provider_parity.delta.spark_engine import has_delta_jars, read_spark
from airflow_provider_parity.exceptions import DataError, EngineError

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def spark_rows(frame) -> pa.Table:  # type: ignore[no-untyped-def]
    return frame.toArrow()


def comparable(table: pa.Table) -> list[dict]:
    """Rows sorted by id; aware datetimes compare as instants, whatever their zone label."""
    return table.sort_by("id").to_pylist()


def test_the_session_has_delta_spark_exactly_when_setup_cached_its_jars(spark) -> None:
    from airflow_provider_parity.delta.spark_session import delta_jars

    assert has_delta_jars(spark) == bool(delta_jars())


def test_a_local_session_listens_on_loopback_only_and_draws_no_progress_bars(spark) -> None:
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.driver.bindAddress") == conf.get("spark.driver.host") == "127.0.0.1"
    assert conf.get("spark.ui.showConsoleProgress") == "false"


@pytest.mark.parametrize("path", ["parquet", "delta"])
@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_both_engines_return_the_same_rows_through_overwrite_append_and_evolution(spark, evolving_table,
                                                                                  version: int, path) -> None:
    if path == "delta" and not has_delta_jars(spark):
        pytest.skip("no delta-spark jars cached")
    snap = resolve_snapshot(evolving_table.uri, version)
    arrow_rows = read_arrow(snap.uri, snap.version)
    # path="delta" reads with versionAsOf through delta-spark; "parquet" is the fallback without jars.
    frame = read_spark(spark, snap.uri, snap.version, path=path)
    assert frame.columns == [name for name, _ in snap.schema]
    assert frame.count() == snap.row_count
    assert comparable(spark_rows(frame)) == comparable(arrow_rows)
    assert comparable(arrow_rows) == comparable(evolving_table.versions[version])


def test_partitioned_table_keeps_its_partition_values(spark, tmp_path: Path) -> None:
    uri = str(tmp_path / "parts")
    data = pa.table({
        "id": [1, 2, 3, 4],
        "region": ["eu west", "us", None, "us"],
        "day": pa.array([date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 2), date(2024, 1, 3)], pa.date32()),
    })
    write_deltalake(uri, data, partition_by=["region", "day"])
    frame = read_spark(spark, uri, 0, path="parquet")
    assert frame.columns == ["id", "region", "day"]
    assert sorted(map(tuple, frame.collect())) == sorted(tuple(r.values()) for r in data.to_pylist())


def test_columns_are_selected(spark, evolving_table) -> None:
    frame = read_spark(spark, evolving_table.uri, 3, columns=["score", "id"])
    assert frame.columns == ["score", "id"]
    with pytest.raises(DataError, match="no column 'nope'"):
        read_spark(spark, evolving_table.uri, 3, columns=["nope"])


def test_an_empty_version_reads_as_an_empty_frame(spark, tmp_path: Path) -> None:
    uri = str(tmp_path / "empty")
    write_deltalake(uri, pa.table({"id": pa.array([], pa.int64())}))
    frame = read_spark(spark, uri, path="parquet")
    assert frame.count() == 0
    assert frame.columns == ["id"]


def test_deletion_vectors_are_refused_by_the_parquet_path(spark, tmp_path: Path) -> None:
    uri = str(tmp_path / "dv")
    write_deltalake(uri, pa.table({"id": [1, 2]}))
    DeltaTable(uri).alter.add_feature(TableFeatures.DeletionVectors, allow_protocol_versions_increase=True)
    with pytest.raises(EngineError, match="uses deletionVectors, which reading its parquet files directly cannot"):
        read_spark(spark, uri, path="parquet")


def test_column_mapping_is_refused_by_the_parquet_path(spark, tmp_path: Path) -> None:
    uri = str(tmp_path / "cm")
    write_deltalake(uri, pa.table({"id": [1, 2]}), configuration={"delta.columnMapping.mode": "name"})
    with pytest.raises(EngineError, match="uses columnMapping"):
        read_spark(spark, uri, path="parquet")


def test_asking_for_the_delta_reader_without_jars_is_refused(spark, evolving_table) -> None:
    if has_delta_jars(spark):
        pytest.skip("this session has the delta-spark jars")
    with pytest.raises(EngineError, match="no delta-spark jars"):
        read_spark(spark, evolving_table.uri, 1, path="delta")


def test_read_pin_through_either_engine(spark, evolving_table) -> None:
    from airflow_provider_parity.delta import read_pin

    pin = resolve_snapshot(evolving_table.uri, 3).to_dict()
    assert comparable(spark_rows(read_pin(pin, engine="spark", spark=spark))) == comparable(read_pin(pin))


def test_session_hook_reads_the_master_from_a_connection(spark, monkeypatch, evolving_table) -> None:
    import json

    from airflow_provider_parity.hooks.spark import SparkSessionHook

    monkeypatch.setenv("AIRFLOW_CONN_SPARK_LOCAL", json.dumps(
        {"conn_type": "parity_spark", "host": "local[1]", "extra": {"conf": {"spark.sql.shuffle.partitions": "1"}}}))
    session = SparkSessionHook("spark_local").get_conn()
    assert session.sparkContext.master == "local[1]"
    assert read_spark(session, evolving_table.uri, 0).count() == 3
