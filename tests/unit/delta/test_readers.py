"""The deltalake engine reads exactly the pinned version's rows."""

from __future__ import annotations

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from airflow_provider_parity.delta import iter_batches, read_arrow, read_pandas
from airflow_provider_parity.exceptions import DataError, SnapshotError


@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_read_arrow_returns_the_rows_of_each_version(evolving_table, version: int) -> None:
    expected = evolving_table.versions[version].sort_by("id")
    got = read_arrow(evolving_table.uri, version).sort_by("id")
    assert got.schema == expected.schema
    assert got.equals(expected)


def test_latest_is_the_default(evolving_table) -> None:
    assert read_arrow(evolving_table.uri).num_rows == evolving_table.versions[3].num_rows


def test_iter_batches_streams_bounded_batches(evolving_table) -> None:
    batches = list(iter_batches(evolving_table.uri, 3, batch_size=2))
    assert all(isinstance(b, pa.RecordBatch) for b in batches)
    assert max(b.num_rows for b in batches) <= 2
    assert sum(b.num_rows for b in batches) == 6


def test_columns_are_selected_in_order(evolving_table) -> None:
    table = read_arrow(evolving_table.uri, 3, columns=["score", "id"])
    assert table.column_names == ["score", "id"]


def test_unknown_column_is_a_data_error(evolving_table) -> None:
    with pytest.raises(DataError, match="version 1 has no column 'score'"):
        read_arrow(evolving_table.uri, 1, columns=["score"])


def test_read_pandas(evolving_table) -> None:
    frame = read_pandas(evolving_table.uri, 2)
    assert sorted(frame["id"]) == [10, 11, 12, 13]


def test_reading_a_vacuumed_version_fails_with_the_version(tmp_path) -> None:
    from deltalake import write_deltalake

    uri = str(tmp_path / "t")
    write_deltalake(uri, pa.table({"id": [1]}))
    write_deltalake(uri, pa.table({"id": [2]}), mode="overwrite")
    DeltaTable(uri).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    with pytest.raises(SnapshotError, match="version 0 was vacuumed"):
        read_arrow(uri, 0)


def test_read_pin_reads_the_pinned_version_from_its_xcom_dict(evolving_table) -> None:
    from airflow_provider_parity.delta import read_pin, resolve_snapshot

    pin = resolve_snapshot(evolving_table.uri, 1).to_dict()
    table = read_pin(pin, columns=["id"])
    assert sorted(table.column("id").to_pylist()) == [1, 2, 3, 4, 5]


def test_read_pin_refuses_a_table_rewritten_since_the_pin(tmp_path) -> None:
    import shutil

    from deltalake import write_deltalake

    from airflow_provider_parity.delta import read_pin, resolve_snapshot
    from airflow_provider_parity.exceptions import ReproducibilityMismatch

    uri = str(tmp_path / "t")
    write_deltalake(uri, pa.table({"id": [1, 2]}))
    pin = resolve_snapshot(uri, 0)
    shutil.rmtree(uri)
    write_deltalake(uri, pa.table({"id": [7]}))  # same path, same version number, other data
    with pytest.raises(ReproducibilityMismatch, match="version 0: fingerprint .* recorded; the table was rewritten"):
        read_pin(pin)


def test_read_pin_with_spark_needs_a_session(evolving_table) -> None:
    from airflow_provider_parity.delta import read_pin, resolve_snapshot
    from airflow_provider_parity.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="needs a SparkSession"):
        read_pin(resolve_snapshot(evolving_table.uri), engine="spark")


def test_a_process_that_read_a_local_table_exits_cleanly(tmp_path) -> None:
    # Through delta-rs's Python filesystem, such a process aborted at exit about one time in two
    # ("terminate called without an active exception"); twelve clean exits in a row rule it out.
    import subprocess
    import sys

    from deltalake import write_deltalake

    uri = str(tmp_path / "t")
    write_deltalake(uri, pa.table({"a": list(range(100))}))
    script = ("from deltalake import DeltaTable\n"
              "from airflow_provider_parity.delta.readers import arrow_dataset\n"
              f"assert arrow_dataset(DeltaTable({uri!r})).to_table(columns=['a']).num_rows == 100\n")
    codes = [subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60).returncode
             for _ in range(12)]
    assert codes == [0] * 12
