"""DriftGateOperator inside real DAG runs: it blocks training on drift and lets it run otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import write_deltalake

from airflow_provider_parity.drift.gate import profile_path_for
from airflow_provider_parity.examples import customer_features, write_parquet

pytestmark = pytest.mark.integration

DAG_SOURCE = """
from airflow.sdk import DAG, task
from airflow_provider_parity.operators.drift import DriftGateOperator

with DAG(dag_id={dag_id!r}, schedule=None, catchup=False) as dag:
    gate = DriftGateOperator(task_id="drift_gate", reference={reference!r}, reference_version=0,
                             current={current!r}, contract_path={contract!r}, save_profile={profile!r})

    @task
    def train():
        open({marker!r}, "w").write("trained")

    gate >> train()
"""


def _features(seed: int, shift: int = 0) -> pa.Table:
    table = customer_features(2000, seed=seed)
    column = table.schema.get_field_index("tenure_days")
    return table.set_column(column, "tenure_days", pc.add(table["tenure_days"], shift))


def _run(run_dag, tmp_path: Path, contract: Path, name: str, shift: int):  # type: ignore[no-untyped-def]
    reference = str(tmp_path / "training")
    write_deltalake(reference, _features(1))
    write_deltalake(reference, _features(9, 5000), mode="overwrite")  # version 1 must not be used
    current = write_parquet(_features(2, shift), str(tmp_path / f"{name}.parquet"))
    marker = tmp_path / f"trained-{name}"
    profile = Path(profile_path_for(reference, 0))  # stored beside the snapshot
    dag_id = f"drift_{name}"
    run = run_dag(dag_id, DAG_SOURCE.format(dag_id=dag_id, reference=reference, current=current,
                                            contract=str(contract), profile=str(profile), marker=str(marker)))
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    return run, states, marker, profile


def test_no_drift_lets_training_run_and_stores_the_profile(run_dag, airflow_db, tmp_path, example_contract_path):
    run, states, marker, profile = _run(run_dag, tmp_path, example_contract_path, "clean", 0)
    assert states == {"drift_gate": "success", "train": "success"}
    assert marker.exists()
    stored = json.loads(profile.read_text())
    assert stored["format"] == "parity-drift-profile/1"
    assert stored["source"].endswith("training@v0")
    # The profile inside the table folder does not disturb Delta readers.
    from airflow_provider_parity.delta import read_arrow

    assert read_arrow(str(tmp_path / "training"), 0).num_rows == 2000
    report = next(Path(airflow_db / "reports" / run.dag_id).glob("*/drift_gate.json"))
    assert json.loads(report.read_text())["verdict"] == "passed"


def test_drift_blocks_training(run_dag, airflow_db, tmp_path, example_contract_path):
    run, states, marker, _ = _run(run_dag, tmp_path, example_contract_path, "shifted", 1500)
    assert states == {"drift_gate": "failed", "train": "upstream_failed"}
    assert not marker.exists()
    folder = next(Path(airflow_db / "reports" / run.dag_id).glob("*"))
    result = json.loads((folder / "drift_gate.json").read_text())
    assert result["verdict"] == "failed"
    assert result["drifted_features"] == ["tenure_days"]
    # The message names the check that fired, with observed versus threshold.
    tenure = next(f for f in result["features"] if f["name"] == "tenure_days")
    fired = [c for c in tenure["checks"] if c["fired"]]
    assert {"wasserstein_sd", "location_sd"} <= {c["check"] for c in fired}
    assert tenure["metric"] in {c["check"] for c in fired}
    assert f"tenure_days: {tenure['metric']}=" in result["message"] and " > " in result["message"]
    html = (folder / "drift_gate.html").read_text()
    assert html.count("<svg") == 1


SQL_DAG = """
from airflow.sdk import DAG
from airflow_provider_parity.operators.drift import DriftGateOperator

with DAG(dag_id={dag_id!r}, schedule=None, catchup=False) as dag:
    DriftGateOperator(task_id="drift_gate", reference={reference!r}, conn_id="serving_db",
                      sql="SELECT tenure_days, orders_30d, plan FROM serving_log", on_insufficient_data="fail")
"""


def test_current_data_from_sql(run_dag, airflow_db, tmp_path, monkeypatch):
    import json as _json
    import sqlite3

    reference = write_parquet(_features(1).select(["tenure_days", "orders_30d", "plan"]),
                              str(tmp_path / "reference.parquet"))
    db = tmp_path / "serving.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE serving_log (tenure_days INTEGER, orders_30d INTEGER, plan TEXT)")
        rows = _features(2, 1500).select(["tenure_days", "orders_30d", "plan"]).to_pylist()
        conn.executemany("INSERT INTO serving_log VALUES (:tenure_days, :orders_30d, :plan)", rows)
    monkeypatch.setenv("AIRFLOW_CONN_SERVING_DB", _json.dumps({"conn_type": "sqlite", "host": str(db)}))
    run = run_dag("drift_sql", SQL_DAG.format(dag_id="drift_sql", reference=reference))
    assert {ti.task_id: ti.state for ti in run.get_task_instances()} == {"drift_gate": "failed"}
    folder = next(Path(airflow_db / "reports" / run.dag_id).glob("*"))
    result = _json.loads((folder / "drift_gate.json").read_text())
    assert result["drifted_features"] == ["tenure_days"]
    assert result["rows_current"] == 2000
