"""Pinning, writing and gating inside real DAG runs (dag.test())."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from airflow_provider_parity.delta.demo import event_rows

pytestmark = pytest.mark.integration

PIN_DAG = """
import json
from datetime import timedelta
from airflow.sdk import DAG, task
from airflow_provider_parity.operators.delta import DeltaSnapshotOperator

class FlakyPin(DeltaSnapshotOperator):
    # Fails its first try after pinning, once the table has moved on.
    def execute(self, context):
        result = super().execute(context)
        if {flaky!r} and context["ti"].try_number == 1:
            import pyarrow as pa
            from deltalake import write_deltalake
            write_deltalake({uri!r}, pa.table({{"id": [999]}}), mode="append", schema_mode="merge")
            raise RuntimeError("flaky after pinning")
        return result

with DAG(dag_id={dag_id!r}, schedule=None, catchup=False) as dag:
    pin = FlakyPin(task_id="pin", table={uri!r}, pin={pin!r}, retries=1, retry_delay=timedelta(0))

    @task
    def record(snapshot):
        open({out!r}, "w").write(json.dumps(snapshot))

    record(pin.output)
"""


def _pin_dag(run_dag, tmp_path: Path, dag_id: str, uri: str, pin: str, flaky: bool = False, **test_kwargs):  # type: ignore[no-untyped-def]
    out = tmp_path / f"{dag_id}.json"
    out.unlink(missing_ok=True)
    run = run_dag(dag_id, PIN_DAG.format(dag_id=dag_id, uri=uri, pin=pin, flaky=flaky, out=str(out)), **test_kwargs)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    return states, (json.loads(out.read_text()) if out.exists() else None)


def test_a_rerun_of_the_same_dag_run_reuses_the_pin(run_dag, tmp_path: Path) -> None:
    uri = str(tmp_path / "events")
    write_deltalake(uri, event_rows([1, 2]))
    logical = datetime.now(UTC).replace(microsecond=0)
    # dag.test() names the run after run_after: the same run_after re-runs the same DAG run.
    states, first = _pin_dag(run_dag, tmp_path, "pin_rerun", uri, "latest", logical_date=logical, run_after=logical)
    assert states == {"pin": "success", "record": "success"}
    assert first["version"] == 0
    write_deltalake(uri, event_rows([3]), mode="append")  # the table moves on
    _, again = _pin_dag(run_dag, tmp_path, "pin_rerun", uri, "latest", logical_date=logical, run_after=logical)
    assert again == first
    later = logical + timedelta(seconds=1)
    _, other_run = _pin_dag(run_dag, tmp_path, "pin_rerun", uri, "latest", logical_date=later, run_after=later)
    assert other_run["version"] == 1


def test_a_retry_reuses_the_pin_of_the_failed_try(run_dag, tmp_path: Path) -> None:
    uri = str(tmp_path / "events")
    write_deltalake(uri, event_rows([1, 2]))
    states, snapshot = _pin_dag(run_dag, tmp_path, "pin_retry", uri, "latest", flaky=True)
    assert states == {"pin": "success", "record": "success"}
    assert DeltaTable(uri).version() == 1  # the first try appended before failing
    assert snapshot["version"] == 0
    assert snapshot["row_count"] == 2


def test_the_default_pin_is_as_of_the_data_interval_end(run_dag, tmp_path: Path) -> None:
    uri = str(tmp_path / "events")
    for i in range(3):
        write_deltalake(uri, event_rows([i]), mode="append")
    v1_ms = next(h["timestamp"] for h in DeltaTable(uri).history() if h["version"] == 1)
    logical = datetime.fromtimestamp(v1_ms / 1000, tz=UTC)
    states, snapshot = _pin_dag(run_dag, tmp_path, "pin_as_of", uri, "as_of", logical_date=logical)
    assert states["pin"] == "success"
    assert snapshot["version"] == 1
    assert set(snapshot) >= {"uri", "version", "commit_timestamp", "schema", "row_count", "fingerprint", "num_files"}


PIPELINE_DAG = """
import json
from airflow.sdk import DAG, task
from airflow_provider_parity.operators.delta import (
    DeltaCompletenessOperator, DeltaSnapshotOperator, DeltaWriteOperator)

def rows(context):
    import pyarrow as pa
    from airflow_provider_parity.delta.demo import event_rows
    table = event_rows([1, 2, 3, 4, 5, 6])
    if {break_schema!r}:
        table = table.drop_columns(["event_time"])
    return table

with DAG(dag_id={dag_id!r}, schedule=None, catchup=False) as dag:
    write = DeltaWriteOperator(task_id="write", table={uri!r}, data=rows, contract={contract!r})
    pin = DeltaSnapshotOperator(task_id="pin", table={uri!r}, pin="latest")
    gate = DeltaCompletenessOperator(task_id="completeness", table={uri!r}, contract={contract!r},
                                     version="{{{{ ti.xcom_pull(task_ids='pin')['version'] }}}}")

    @task
    def train(snapshot):
        from airflow_provider_parity.delta import read_arrow
        table = read_arrow(snapshot["uri"], snapshot["version"])
        open({out!r}, "w").write(json.dumps({{"rows": table.num_rows, "version": snapshot["version"]}}))

    trained = train(pin.output)
    write >> pin >> gate >> trained
"""


def _pipeline(run_dag, events_contract, tmp_path: Path, dag_id: str, min_name: float,  # type: ignore[no-untyped-def]
              break_schema: bool = False):
    contract = events_contract(min_name)
    uri, out = str(tmp_path / "events"), tmp_path / "trained.json"
    run = run_dag(dag_id, PIPELINE_DAG.format(dag_id=dag_id, uri=uri, contract=str(contract), out=str(out),
                                              break_schema=break_schema))
    return uri, out, {ti.task_id: ti.state for ti in run.get_task_instances()}, run


def test_write_pin_gate_train(run_dag, events_contract, tmp_path: Path) -> None:
    uri, out, states, run = _pipeline(run_dag, events_contract, tmp_path, "delta_pipeline_ok", 0.5)
    assert states == {"write": "success", "pin": "success", "completeness": "success", "train": "success"}
    assert json.loads(out.read_text()) == {"rows": 6, "version": 0}
    commit = DeltaTable(uri).history(1)[0]
    assert commit["parity.dag_id"] == "delta_pipeline_ok"
    assert commit["parity.run_id"] == run.run_id
    assert commit["parity.contract"] == "events"
    assert len(commit["parity.contract_hash"]) == 64


def test_completeness_gate_blocks_training(run_dag, events_contract, tmp_path: Path) -> None:
    # ids 3 and 6 have no name: 4/6 = 0.67 < 0.9
    _, out, states, _ = _pipeline(run_dag, events_contract, tmp_path, "delta_pipeline_incomplete", 0.9)
    assert states["completeness"] == "failed"
    assert states["train"] == "upstream_failed"
    assert not out.exists()


def test_data_breaking_the_contract_is_not_written(run_dag, events_contract, tmp_path: Path) -> None:
    uri, out, states, _ = _pipeline(run_dag, events_contract, tmp_path, "delta_pipeline_bad_schema", 0.5, break_schema=True)
    assert states["write"] == "failed"
    assert not DeltaTable.is_deltatable(uri)
    assert not out.exists()


def test_the_pin_emits_lineage_with_the_version(tmp_path: Path) -> None:
    from airflow_provider_parity.delta import resolve_snapshot
    from airflow_provider_parity.operators.delta import DeltaSnapshotOperator

    uri = str(tmp_path / "events")
    write_deltalake(uri, pa.table({"id": [1]}))
    operator = DeltaSnapshotOperator(task_id="pin", table=uri, pin="latest")
    start = operator.get_openlineage_facets_on_start()
    assert [(d.namespace, d.name) for d in start.inputs] == [("file", uri)]
    operator._snapshot = resolve_snapshot(uri)
    complete = operator.get_openlineage_facets_on_complete(None)
    [dataset] = complete.inputs
    assert dataset.facets["version"].datasetVersion == "0"
    assert [f.name for f in dataset.facets["schema"].fields] == ["id"]
    operator._error = RuntimeError("boom")
    failed = operator.get_openlineage_facets_on_failure(None)
    assert failed.run_facets["errorMessage"].message == "boom"
