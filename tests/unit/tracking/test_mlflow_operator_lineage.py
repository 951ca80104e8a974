"""OpenLineage of the MLflow operators: recorded Delta inputs in, the registered model out."""

from __future__ import annotations

import pytest

from airflow_provider_parity.exceptions import PromotionBlocked
from airflow_provider_parity.operators.mlflow import (
    MlflowPromotionGateOperator,
    MlflowReproduceOperator,
    model_dataset_uri,
    model_version_url,
)
from airflow_provider_parity.tracking.record import PinnedInput


def test_model_uris() -> None:
    assert model_dataset_uri("http://mlflow:5000", "churn") == "mlflow://mlflow:5000/models/churn"
    assert model_dataset_uri("sqlite:////x.db", "churn") == "mlflow://local/models/churn"
    assert model_version_url("http://mlflow:5000/", "churn model", "3") == (
        "http://mlflow:5000/#/models/churn%20model/versions/3")
    assert model_version_url("sqlite:////x.db", "churn", "3") == ""


def test_gate_lineage_on_start_complete_and_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    op = MlflowPromotionGateOperator(task_id="promote", model_name="churn", policy={}, mlflow_conn_id=None)
    start = op.get_openlineage_facets_on_start()
    assert [(d.namespace, d.name) for d in start.outputs] == [("mlflow://mlflow:5000", "models/churn")]
    assert start.inputs == []
    op._inputs = [PinnedInput("/lake/features", 7, "f" * 64)]
    op._version = "4"
    done = op.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name, d.facets["version"].datasetVersion) for d in done.inputs] == [
        ("file", "/lake/features", "7")]
    assert done.outputs[0].facets["version"].datasetVersion == "4"
    op._error = PromotionBlocked("churn v4 not promoted over v3: auc on slice 'overall': 0.7 vs minimum 0.8")
    failed = op.get_openlineage_facets_on_failure(None)
    assert "auc on slice 'overall'" in failed.run_facets["errorMessage"].message
    assert failed.inputs[0].name == "/lake/features"


def test_reproduce_has_inputs_only() -> None:
    op = MlflowReproduceOperator(task_id="audit", model_name="churn", version=3, mlflow_conn_id=None)
    op._inputs = [PinnedInput("s3://lake/features", 2, "f" * 64)]
    lineage = op.get_openlineage_facets_on_complete(None)
    assert lineage.outputs == [] and [(d.namespace, d.name) for d in lineage.inputs] == [("s3://lake", "features")]


def test_gate_refuses_an_unknown_blocked_mode() -> None:
    with pytest.raises(ValueError, match="on_blocked must be 'fail' or 'skip'"):
        MlflowPromotionGateOperator(task_id="p", model_name="m", policy={}, on_blocked="warn")  # type: ignore[arg-type]
