"""The reference DAG bundle parses cleanly, cheaply, and every DAG carries what operators of it expect."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DAGS = REPO / "dags"
EXPECTED = {"feature_pipeline", "daily_retraining", "serving_skew_monitor", "reproduce_training_set"}
HEAVY = ("great_expectations", "pyspark", "mlflow", "deltalake", "dbt", "sklearn", "pandas", "kubernetes", "scipy")


@pytest.fixture(scope="module")
def dagbag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_every_dag_file_imports_without_errors(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_each_dag_has_owner_retries_tags_and_docs(dagbag, dag_id: str) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags[dag_id]
    assert "parity" in dag.tags and len(dag.tags) >= 2
    assert dag.doc_md and dag.description
    for task in dag.tasks:
        assert task.owner == "ml-platform", task.task_id
        assert task.retries >= 1, task.task_id


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_no_cycles(dagbag, dag_id: str) -> None:  # type: ignore[no-untyped-def]
    dagbag.dags[dag_id].check_cycle()  # raises AirflowDagCycleException


def test_gates_come_before_the_model_and_the_verdict_runs_whatever_happens(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["daily_retraining"]
    upstream_of_train = dag.get_task("train").get_flat_relative_ids(upstream=True)
    assert {"features_fresh", "pin_snapshot", "contract_gate", "skew_gate"} <= upstream_of_train
    assert "promotion_gate" in dag.get_task("promotion_approval").upstream_task_ids
    assert "promotion_approval" in dag.get_task("verdict").upstream_task_ids
    assert dag.get_task("verdict").trigger_rule == "all_done"
    assert dag.get_task("register").get_flat_relative_ids(upstream=True) >= {"evaluate", "train"}
    pipeline = dagbag.dags["feature_pipeline"]
    assert {"dbt_build", "contract_gate"} <= pipeline.get_task("write_features").get_flat_relative_ids(upstream=True)


def test_assets_connect_the_pipeline_to_retraining(dagbag) -> None:  # type: ignore[no-untyped-def]
    written = {a.name for a in dagbag.dags["feature_pipeline"].get_task("write_features").outlets}
    requested = {a.name for a in dagbag.dags["serving_skew_monitor"].get_task("request_retraining").outlets}
    assert written == {"churn.customer_features"}
    assert requested == {"churn.serving_skew_breach"}
    schedule = dagbag.dags["daily_retraining"].timetable
    watched = {a.name for a in schedule.asset_condition.objects}
    assert {"churn.customer_features", "churn.serving_skew_breach"} <= watched


def test_parsing_the_bundle_imports_no_heavy_library() -> None:
    # A fresh interpreter: what the dag-processor pays for each parse of these files.
    code = textwrap.dedent(f"""
        import sys
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(DAGS)!r})
        assert not bag.import_errors, bag.import_errors
        print("HEAVY=" + ",".join(m for m in {HEAVY!r} if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(DAGS)})
    assert "HEAVY=\n" in out.stdout + "\n", out.stdout


def test_kubernetes_mode_turns_heavy_steps_into_pods(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    monkeypatch.setenv("AIRFLOW__PARITY__EXECUTION_MODE", "kubernetes")
    monkeypatch.setenv("AIRFLOW__PARITY__POD_IMAGE", "registry.example.com/parity-airflow:0.1.0")
    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    pods = {(d, t.task_id) for d in bag.dag_ids for t in bag.dags[d].tasks if isinstance(t, KubernetesPodOperator)}
    assert pods == {("feature_pipeline", "ingest_raw"), ("feature_pipeline", "dbt_build"),
                    ("daily_retraining", "train"), ("daily_retraining", "evaluate")}
