"""Writing versions with commit metadata, under a contract."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from airflow_provider_parity.contracts.model import Contract
from airflow_provider_parity.delta import read_arrow
from airflow_provider_parity.delta.writer import (
    commit_metadata,
    history_with_metadata,
    write_version,
)
from airflow_provider_parity.exceptions import SchemaMismatchError


def good_rows(ids: list[int]) -> pa.Table:
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "name": pa.array([f"n{i}" for i in ids]),
        "event_time": pa.array([datetime(2024, 1, 1, tzinfo=UTC)] * len(ids), pa.timestamp("us", tz="UTC")),
    })


def test_commit_metadata_names_the_run_and_contract(tmp_path, contract: Contract) -> None:
    uri = str(tmp_path / "t")
    meta = commit_metadata(dag_id="daily", run_id="manual__1", task_id="write", contract=contract)
    result = write_version(uri, good_rows([1, 2]), contract=contract, metadata=meta)
    assert result.written
    assert result.snapshot.version == 0
    assert result.snapshot.row_count == 2
    [entry] = history_with_metadata(uri)
    assert entry["version"] == 0
    assert entry["metadata"]["parity.dag_id"] == "daily"
    assert entry["metadata"]["parity.run_id"] == "manual__1"
    assert entry["metadata"]["parity.contract"] == "events"
    assert entry["metadata"]["parity.contract_hash"] == contract.fingerprint
    assert entry["metadata"]["parity.write_id"]


def test_same_write_id_writes_once(tmp_path, contract: Contract) -> None:
    uri = str(tmp_path / "t")
    first = write_version(uri, good_rows([1]), write_id="run-1:write")
    write_version(uri, good_rows([2]), write_id="run-2:write")
    again = write_version(uri, good_rows([1]), write_id="run-1:write")
    assert not again.written
    assert again.snapshot == first.snapshot
    assert DeltaTable(uri).version() == 1
    assert sorted(read_arrow(uri).column("id").to_pylist()) == [1, 2]


def test_pandas_input_and_overwrite(tmp_path) -> None:
    uri = str(tmp_path / "t")
    write_version(uri, pd.DataFrame({"id": [1, 2]}))
    result = write_version(uri, pd.DataFrame({"id": [3]}), mode="overwrite")
    assert result.snapshot.version == 1
    assert read_arrow(uri).column("id").to_pylist() == [3]


@pytest.mark.parametrize(
    ("table", "match"),
    [
        (pa.table({"id": [1], "name": ["a"]}), r"exists\(event_time\): observed column missing"),
        (good_rows([1]).set_column(0, "id", pa.array(["1"])), r"type\(id\): observed type string .* expected type integer"),
        (good_rows([1]).set_column(0, "id", pa.array([None], pa.int64())), "not nullable but 'id' has 1 null"),
    ],
)
def test_data_breaking_the_contract_is_not_written(tmp_path, contract: Contract, table: pa.Table, match: str) -> None:
    uri = str(tmp_path / "t")
    write_version(uri, good_rows([1]), contract=contract)
    with pytest.raises(SchemaMismatchError, match=match):
        write_version(uri, table, contract=contract)
    assert DeltaTable(uri).version() == 0


def test_extra_columns_follow_the_policy(tmp_path, contract: Contract) -> None:
    strict = contract.model_copy(update={"schema_policy": contract.schema_policy.model_copy(
        update={"extra_columns": "forbid"})})
    extra = good_rows([1]).append_column("debug", pa.array([1]))
    write_version(str(tmp_path / "ok"), extra, contract=contract)
    with pytest.raises(SchemaMismatchError, match=r"undeclared\(debug\)"):
        write_version(str(tmp_path / "no"), extra, contract=strict)


def test_replace_where_replaces_one_slice_and_keeps_the_rest(tmp_path) -> None:
    uri = str(tmp_path / "t")
    write_version(uri, good_rows([1, 2]).append_column("day", pa.array(["d1", "d1"])), partition_by=["day"])
    write_version(uri, good_rows([3]).append_column("day", pa.array(["d2"])))
    rerun = good_rows([10]).append_column("day", pa.array(["d1"]))
    result = write_version(uri, rerun, mode="overwrite", replace_where="day = 'd1'")
    assert result.snapshot.version == 2
    rows = read_arrow(uri).sort_by("id")
    assert rows.column("id").to_pylist() == [3, 10]


def test_replace_where_needs_overwrite(tmp_path) -> None:
    from airflow_provider_parity.exceptions import DataError

    with pytest.raises(DataError, match="replace_where needs mode='overwrite'"):
        write_version(str(tmp_path / "t"), good_rows([1]), replace_where="id = 1")


def test_the_writer_and_the_gate_agree_on_the_schema(tmp_path, contract: Contract) -> None:
    """One schema check: what the contract gate accepts (an integer in a float column), the writer
    writes, as the contract's type; and both list every problem, not the first."""
    from airflow_provider_parity.validation.preflight import schema_results

    float_contract = contract.model_copy(update={"columns": [
        c.model_copy(update={"type": "float"}) if c.name == "id" else c for c in contract.columns]})
    rows = good_rows([1, 2])
    assert schema_results(float_contract, rows.schema) == []
    result = write_version(str(tmp_path / "t"), rows, contract=float_contract)
    assert DeltaTable(str(tmp_path / "t")).schema().to_arrow().field("id").type == pa.float64()
    assert result.snapshot.version == 0
    broken = rows.drop_columns(["event_time"]).set_column(0, "id", pa.array(["a", "b"]))
    with pytest.raises(SchemaMismatchError) as info:
        write_version(str(tmp_path / "u"), broken, contract=float_contract)
    assert "type(id)" in str(info.value) and "exists(event_time)" in str(info.value)
    assert len(schema_results(float_contract, broken.schema)) == 2
