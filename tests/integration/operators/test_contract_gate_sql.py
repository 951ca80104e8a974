"""The gate reading through a common-sql connection (SQLite), inside a real DAG run."""

from __future__ import annotations

import json
import sqlite3

import pytest

from airflow_provider_parity.examples import customer_features

pytestmark = pytest.mark.integration

DAG = """
from airflow.sdk import DAG
from airflow_provider_parity.operators.contract_gate import DataContractGateOperator

with DAG(dag_id="gate_sql", schedule=None, catchup=False) as dag:
    DataContractGateOperator(task_id="good", contract_path={contract!r}, conn_id="parity_sqlite",
                             sql="select * from features where fault = 'none'", environment="serving",
                             engine="arrow")
    DataContractGateOperator(task_id="bad", contract_path={contract!r}, conn_id="parity_sqlite",
                             sql="select * from features where fault = 'category'", environment="serving",
                             engine="arrow")
"""


def test_sql_source_through_a_connection(run_dag, tmp_path, example_contract_path, monkeypatch):
    db = tmp_path / "features.db"
    with sqlite3.connect(db) as conn:
        for fault in ("none", "category"):
            frame = customer_features(200, fault=fault).drop_columns(["feature_date", "updated_at", "churned"])
            frame.to_pandas().assign(fault=fault).to_sql("features", conn, if_exists="append", index=False)
    monkeypatch.setenv("AIRFLOW_CONN_PARITY_SQLITE", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    # SQLite has no date types: this contract keeps the columns SQLite can type.
    contract = tmp_path / "contract.yaml"
    text = example_contract_path.read_text()
    text = text.replace("primary_key: [customer_id, feature_date]", "primary_key: [customer_id]")
    text = text.replace("freshness: {column: updated_at, max_age: 12h}", "")
    text = text.replace("  freshness: {objective: 0.95, window: 28d}\n", "")  # no freshness, so no freshness SLO
    lines = text.splitlines()
    keep, skip = [], False
    for line in lines:
        if line.startswith("  - name: "):
            skip = line.split(": ")[1] in ("feature_date", "updated_at", "churned")
        elif not line.startswith("    "):
            skip = False
        if not skip:
            keep.append(line)
    contract.write_text("\n".join(keep).replace("training_only: [churned]", "training_only: []") + "\n")
    dag_run = run_dag("gate_sql", DAG.format(contract=str(contract)))
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states == {"good": "success", "bad": "failed"}
