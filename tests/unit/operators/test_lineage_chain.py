"""Lineage without gaps: daily files as one dataset plus a partition, a step gate's FAIL event with its
datasets and outcome, and customer_features' upstream chain back to the raw tables."""

from __future__ import annotations

import pytest

from airflow_provider_parity.compat import AirflowFailException
from airflow_provider_parity.operators.delta import DeltaWriteOperator
from airflow_provider_parity.operators.step import ParityStepOperator

LAKE = "s3://lake/churn"
RAW = [f"{LAKE}/raw/{t}/date=2026-11-29/part-0.parquet" for t in ("customers", "orders")]
STAGED = f"{LAKE}/staging/customer_features/date=2026-11-29.parquet"

STEPS = '''
from airflow_provider_parity.exceptions import DbtTestFailed

def failing(day):
    raise DbtTestFailed("dbt test not_null on customer_features.plan failed: 669 null rows (expected 0)")

def passing(day):
    return {"summary": "dbt build: 3 models, 24 tests passed", "outputs": [{"uri": STAGED}]}
'''.replace("STAGED", repr(STAGED))


@pytest.fixture
def steps_module(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    (tmp_path / "parity_test_steps.py").write_text(STEPS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "parity_test_steps"


def _step(module: str, function: str) -> ParityStepOperator:
    return ParityStepOperator(task_id="dbt_build", step=f"{module}:{function}", op_kwargs={"day": "2026-11-29"},
                              gate="dbt", inputs=RAW, outputs=[STAGED])


def test_daily_files_are_one_dataset_with_a_partition(steps_module) -> None:
    start = _step(steps_module, "passing").get_openlineage_facets_on_start()
    assert [(d.namespace, d.name) for d in start.inputs] == [("s3://lake", "churn/raw/customers"),
                                                              ("s3://lake", "churn/raw/orders")]
    subset = start.inputs[0].inputFacets["inputSubset"].inputCondition
    assert subset.partitions[0].dimensions == {"date": "2026-11-29"}
    [output] = start.outputs
    assert (output.name, output.outputFacets["outputSubset"].outputCondition.partitions[0].identifier) == (
        "churn/staging/customer_features", "date=2026-11-29")


def test_a_blocked_step_gate_reports_its_datasets_and_outcome(steps_module, task_context) -> None:
    op = _step(steps_module, "failing")
    context = task_context("dbt_build")
    with pytest.raises(AirflowFailException, match="not_null on customer_features.plan"):
        op.execute(context)
    outcome = context["ti"].pushed["parity_outcome"]
    assert (outcome["gate"], outcome["status"], outcome["blocking"]) == ("dbt", "failed", True)
    failure = op.get_openlineage_facets_on_failure(None)
    assert [d.name for d in failure.inputs] == ["churn/raw/customers", "churn/raw/orders"]
    assert [d.name for d in failure.outputs] == ["churn/staging/customer_features"]
    assert failure.run_facets["parity_outcome"].status == "failed"
    assert "669 null rows" in failure.run_facets["errorMessage"].message


def test_a_passing_step_gate_publishes_a_passed_outcome(steps_module, task_context) -> None:
    op = _step(steps_module, "passing")
    context = task_context("dbt_build")
    result = op.execute(context)
    assert result["summary"].startswith("dbt build")
    outcome = context["ti"].pushed["parity_outcome"]
    assert (outcome["status"], outcome["reason"]) == ("passed", "dbt build: 3 models, 24 tests passed")


def test_customer_features_has_upstream_lineage_back_to_the_raw_data(steps_module) -> None:
    """The write's input is the dataset the dbt step outputs, whose inputs are the raw tables."""
    write = DeltaWriteOperator(task_id="write_features", table=f"{LAKE}/features/customer_features",
                               data_path=STAGED, replace_where="feature_date = '2026-11-29'")
    write_lineage = write.get_openlineage_facets_on_start()
    step_lineage = _step(steps_module, "passing").get_openlineage_facets_on_start()
    assert [d.name for d in write_lineage.outputs] == ["churn/features/customer_features"]
    assert [d.name for d in write_lineage.inputs] == [d.name for d in step_lineage.outputs]
    assert {d.name for d in step_lineage.inputs} == {"churn/raw/customers", "churn/raw/orders"}
