"""Register and gate inside real DAG runs (``dag.test()``): a passing challenger ships, a blocked one skips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_parity.tracking import keys
from airflow_provider_parity.tracking.client import aliases_of

pytestmark = pytest.mark.integration

DAG_SOURCE = """
from airflow.sdk import DAG, task
from airflow_provider_parity.operators.mlflow import MlflowPromotionGateOperator, MlflowRegisterModelOperator

POLICY = {{"metrics": [{{"metric": "auc", "slices": ["overall", "country=FR"], "max_drop": 0.005}}]}}

with DAG(dag_id={dag_id!r}, schedule=None, catchup=False) as dag:
    register = MlflowRegisterModelOperator(task_id="register", model_name={model!r}, run_id={run_id!r},
                                           mlflow_conn_id={conn_id!r})
    gate = MlflowPromotionGateOperator(task_id="promote", model_name={model!r}, policy=POLICY,
                                       challenger_version="{{{{ ti.xcom_pull('register')['version'] }}}}",
                                       on_blocked="skip", mlflow_conn_id={conn_id!r})

    @task
    def deploy():
        open({marker!r}, "w").write("deployed")

    register >> gate >> deploy()
"""


def _run(run_dag: Any, store: Any, model: str, role: str, marker: Path) -> dict[str, str]:
    dag_id = f"mlflow_{model.replace('-', '_')}_{role}"
    dag_run = run_dag(dag_id, DAG_SOURCE.format(dag_id=dag_id, model=model, run_id=store.runs[role],
                                                 conn_id=store.conn_id, marker=str(marker)))
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def test_gate_in_a_dag_ships_a_better_model_and_skips_a_worse_one(trained: Any, run_dag: Any, airflow_db: Any,
                                                                  tmp_path: Path) -> None:
    if trained.kind != "server":
        pytest.skip("one DAG run against the server is enough: the operators are the same")
    model = trained.model_name("dag")
    states = _run(run_dag, trained, model, "base", tmp_path / "first")
    assert states == {"register": "success", "promote": "success", "deploy": "success"}
    states = _run(run_dag, trained, model, "worse_fr", tmp_path / "second")
    assert states == {"register": "success", "promote": "skipped", "deploy": "skipped"}
    assert not (tmp_path / "second").exists()
    client = trained.client()
    assert aliases_of(client, model) == {keys.CHAMPION: "1", keys.CHALLENGER: "2"}
    assert client.get_model_version(model, "2").tags[keys.PROMOTION_STATUS] == "blocked"


TRAIN_DAG_SOURCE = """
from airflow.sdk import DAG, get_current_context, task
from airflow_provider_parity.operators.mlflow import MlflowRegisterModelOperator

with DAG(dag_id={dag_id!r}, schedule=None, catchup=False) as dag:

    @task
    def train():
        import mlflow
        from sklearn.linear_model import LogisticRegression

        from airflow_provider_parity.delta import read_arrow, resolve_snapshot
        from airflow_provider_parity.hooks.mlflow import MlflowHook
        from airflow_provider_parity.tracking.record import record_training

        hook = MlflowHook({conn_id!r})
        snapshot = resolve_snapshot({table!r})
        data = read_arrow(snapshot.uri, snapshot.version)
        experiment_id = hook.ensure_experiment("dag-training")
        with hook.environment(), mlflow.start_run(experiment_id=experiment_id) as run:
            model = LogisticRegression().fit(data.column("x").to_numpy().reshape(-1, 1), data.column("y").to_numpy())
            mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"],
                                     serialization_format="cloudpickle")
            record_training(inputs=[snapshot], gates={{"validation": {{"status": "passed"}}}},
                            airflow_context=get_current_context())
        return run.info.run_id

    register = MlflowRegisterModelOperator(task_id="register", model_name={model!r},
                                           run_id="{{{{ ti.xcom_pull('train') }}}}", mlflow_conn_id={conn_id!r})
    train() >> register
"""


def test_a_training_task_records_its_airflow_identity(trained: Any, run_dag: Any, airflow_db: Any,
                                                      shared_table: str) -> None:
    if trained.kind != "server":
        pytest.skip("one DAG run against the server is enough: the operators are the same")
    model = trained.model_name("dagtrain")
    dag_id = f"mlflow_train_{model.replace('-', '_')}"
    dag_run = run_dag(dag_id, TRAIN_DAG_SOURCE.format(dag_id=dag_id, conn_id=trained.conn_id, table=shared_table,
                                                       model=model))
    assert {ti.task_id: ti.state for ti in dag_run.get_task_instances()} == {"train": "success",
                                                                             "register": "success"}
    tags = trained.client().get_model_version(model, "1").tags
    assert tags[keys.AIRFLOW_DAG_ID] == dag_id
    assert tags[keys.AIRFLOW_RUN_ID] == dag_run.run_id
    assert (tags[keys.AIRFLOW_TASK_ID], tags[keys.AIRFLOW_TRY_NUMBER]) == ("train", "1")
    assert tags[keys.GATES_STATUS] == "passed"
