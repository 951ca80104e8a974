"""The gate inside a real DAG run: downstream runs on clean data and is blocked on a violation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_parity.examples import customer_features, write_parquet

pytestmark = pytest.mark.integration


DAG_SOURCE = """
from airflow.sdk import DAG, task
from airflow_provider_parity.operators.contract_gate import DataContractGateOperator

with DAG(dag_id={dag_id!r}, schedule=None, catchup=False) as dag:
    gate = DataContractGateOperator(task_id="contract_gate", contract_path={contract!r}, data={data!r},
                                    environment="training", warn_only={warn_only!r})

    @task
    def train():
        open({marker!r}, "w").write("trained")

    gate >> train()
"""


def _run(run_dag, tmp_path: Path, contract_path: Path, fault: str, warn_only: bool = False):  # type: ignore[no-untyped-def]
    data = write_parquet(customer_features(500, fault=fault), str(tmp_path / f"{fault}.parquet"))
    marker = tmp_path / f"trained-{fault}"
    dag_id = f"gate_{fault}_{'warn' if warn_only else 'block'}"
    dag_run = run_dag(dag_id, DAG_SOURCE.format(dag_id=dag_id, contract=str(contract_path), data=data,
                                                 warn_only=warn_only, marker=str(marker)))
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    return dag_run, states, marker


def test_clean_data_lets_training_run(run_dag, airflow_db, tmp_path, example_contract_path):
    dag_run, states, marker = _run(run_dag, tmp_path, example_contract_path, "none")
    assert states == {"contract_gate": "success", "train": "success"}
    assert marker.read_text() == "trained"
    assert dag_run.state == "success"


@pytest.mark.parametrize("fault, rule", [("range", "between(orders_30d)"), ("nulls", "not_null(tenure_days)"),
                                         ("duplicates", "compound_unique(customer_id,feature_date)")])
def test_violation_blocks_training(run_dag, airflow_db, tmp_path, example_contract_path, fault, rule):
    dag_run, states, marker = _run(run_dag, tmp_path, example_contract_path, fault)
    assert states["contract_gate"] == "failed"
    assert states["train"] == "upstream_failed"
    assert not marker.exists()
    assert dag_run.state == "failed"
    reports = list(Path(airflow_db / "reports" / dag_run.dag_id).glob("*/contract_gate.json"))
    assert len(reports) == 1
    result = json.loads(reports[0].read_text())
    assert result["status"] == "failed"
    assert [r["rule"] for r in result["rules"] if not r["success"]] == [rule]
    assert (reports[0].parent / "contract_gate.html").read_text().count(rule) >= 1


def test_warn_only_lets_training_run(run_dag, airflow_db, tmp_path, example_contract_path):
    _, states, marker = _run(run_dag, tmp_path, example_contract_path, "range", warn_only=True)
    assert states == {"contract_gate": "success", "train": "success"}
    assert marker.exists()


def test_bad_input_fails_the_gate_with_its_reason(run_dag, airflow_db, tmp_path, example_contract_path):
    _, states, marker = _run(run_dag, tmp_path, example_contract_path, "schema")
    assert states == {"contract_gate": "failed", "train": "upstream_failed"}
    assert not marker.exists()
