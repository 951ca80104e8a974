"""Tables written by delta-spark (jars from Maven Central, cached by scripts/setup.sh) and read by the
project's delta-rs readers: the same rows, or a clear refusal for what delta-rs cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from airflow_provider_parity.cli import main as cli_main
from airflow_provider_parity.delta import read_arrow, read_pin, resolve_snapshot
from airflow_provider_parity.delta.spark_engine import read_spark
from airflow_provider_parity.delta.spark_session import delta_conf, delta_jars
from airflow_provider_parity.exceptions import EngineError

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def rows(table: pa.Table) -> list[dict]:
    return table.sort_by("id").to_pylist()


def test_delta_jars_come_from_the_env_override_and_need_delta_spark_itself(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "delta-storage-9.9.jar").touch()
    monkeypatch.setenv("PARITY_DELTA_JARS", str(tmp_path))
    assert delta_jars() == []  # delta-storage alone is no use: the session falls back
    assert delta_conf() == {}
    (tmp_path / "delta-spark_4.2_2.13-9.9.jar").touch()
    assert [Path(f).name for f in delta_jars()] == ["delta-spark_4.2_2.13-9.9.jar", "delta-storage-9.9.jar"]
    conf = delta_conf()
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.jars"].count(".jar") == 2


def test_spark_writes_and_sql_are_read_by_delta_rs_version_by_version(delta_spark, tmp_path: Path) -> None:
    uri = str(tmp_path / "written_by_spark")
    delta_spark.createDataFrame([(1, "a"), (2, "b")], "id long, name string").write.format("delta").save(uri)
    delta_spark.createDataFrame([(3, "c")], "id long, name string").write.format("delta").mode("append").save(uri)
    delta_spark.sql(f"DELETE FROM delta.`{uri}` WHERE id = 1")
    assert resolve_snapshot(uri).version == 2
    for version in range(3):
        by_spark = read_spark(delta_spark, uri, version, path="delta").toArrow()
        assert rows(read_arrow(uri, version)) == rows(by_spark), version
    assert rows(read_arrow(uri)) == [{"id": 2, "name": "b"}, {"id": 3, "name": "c"}]
    # Spark SQL time travel on the same table agrees with delta-rs's read of that version.
    count, total = delta_spark.sql(f"SELECT count(*), sum(id) FROM delta.`{uri}` VERSION AS OF 1").collect()[0]
    version_1 = read_arrow(uri, 1)
    assert (count, total) == (version_1.num_rows, sum(version_1.column("id").to_pylist()))


def test_delta_spark_reads_tables_written_by_delta_rs(delta_spark, evolving_table) -> None:
    latest = resolve_snapshot(evolving_table.uri)
    frame = delta_spark.sql(f"SELECT * FROM delta.`{evolving_table.uri}` VERSION AS OF {latest.version}")
    assert rows(frame.toArrow()) == rows(read_arrow(evolving_table.uri, latest.version))


@pytest.fixture(scope="module")
def deletion_vector_table(delta_spark, tmp_path_factory) -> str:
    uri = str(tmp_path_factory.mktemp("dv") / "events")
    delta_spark.range(10).selectExpr("id", "cast(id * 10 as int) as amount").write.format("delta") \
        .option("delta.enableDeletionVectors", "true").save(uri)
    delta_spark.sql(f"DELETE FROM delta.`{uri}` WHERE id < 3")  # a deletion vector, not a rewrite
    return uri


@pytest.fixture(scope="module")
def column_mapping_table(delta_spark, tmp_path_factory) -> str:
    uri = str(tmp_path_factory.mktemp("cm") / "events")
    delta_spark.sql(f"CREATE TABLE delta.`{uri}` (id BIGINT, name STRING) USING delta "
                    "TBLPROPERTIES ('delta.columnMapping.mode' = 'name')")
    delta_spark.sql(f"INSERT INTO delta.`{uri}` VALUES (1, 'a'), (2, 'b')")
    delta_spark.sql(f"ALTER TABLE delta.`{uri}` RENAME COLUMN name TO label")
    return uri


def test_deletion_vectors_are_read_by_spark_and_refused_in_one_line_by_delta_rs(delta_spark,
                                                                               deletion_vector_table) -> None:
    assert sorted(r.id for r in read_spark(delta_spark, deletion_vector_table).collect()) == list(range(3, 10))
    assert read_spark(delta_spark, deletion_vector_table, 0).count() == 10  # versionAsOf before the delete
    with pytest.raises(EngineError, match="deletionVectors") as refused:
        read_arrow(deletion_vector_table)
    assert "\n" not in str(refused.value)
    with pytest.raises(EngineError, match="uses deletionVectors"):
        read_spark(delta_spark, deletion_vector_table, path="parquet")


def test_column_mapping_is_read_by_spark_and_refused_by_delta_rs_instead_of_reading_nulls(
        delta_spark, column_mapping_table) -> None:
    frame = read_spark(delta_spark, column_mapping_table)
    assert frame.columns == ["id", "label"]
    assert sorted(map(tuple, frame.collect())) == [(1, "a"), (2, "b")]
    # delta-rs's pyarrow dataset would give [{'id': None, 'label': None}, ...]: the readers refuse.
    with pytest.raises(EngineError, match="uses column mapping, which delta-rs's pyarrow reader reads as nulls"):
        read_arrow(column_mapping_table)
    # The completeness check reads the log's statistics, else scans: right (no nulls here) or refused, never 0%.
    from airflow_provider_parity.delta.freshness import check_completeness

    try:
        result = check_completeness(column_mapping_table, {"label": 1.0})
    except EngineError as refused:
        assert "uses column mapping" in str(refused)
    else:
        assert [c.non_null_ratio for c in result.columns] == [1.0]


@pytest.mark.parametrize("fixture", ["deletion_vector_table", "column_mapping_table"])
def test_pins_and_parity_snapshot_work_on_tables_delta_rs_cannot_read(request, delta_spark, fixture,
                                                                     capsys) -> None:
    uri = request.getfixturevalue(fixture)
    snap = resolve_snapshot(uri)
    assert cli_main(["snapshot", uri, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["version"], printed["fingerprint"]) == (snap.version, snap.fingerprint)
    # The pin reads through Spark with the pinned version's rows; delta-rs refuses it clearly.
    by_pin = read_pin(snap.to_dict(), engine="spark", spark=delta_spark)
    assert by_pin.count() == read_spark(delta_spark, uri, snap.version).count()
    with pytest.raises(EngineError):
        read_pin(snap.to_dict())
