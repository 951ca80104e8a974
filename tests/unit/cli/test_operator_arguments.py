"""Every operator refuses a wrong constructor argument while the DAG file is parsed, in one named line.

The error is an ``OperatorArgumentError``: a ``ConfigurationError`` (so the CLI and reports treat
it as bad input) that is also a ``ValueError``. Templated values are left to run time.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.operators.contract_gate import DataContractGateOperator
from airflow_provider_parity.operators.delta import (
    DeltaCompletenessOperator,
    DeltaSnapshotOperator,
    DeltaWriteOperator,
)
from airflow_provider_parity.operators.drift import DriftGateOperator
from airflow_provider_parity.operators.labels import LabelQualityGateOperator
from airflow_provider_parity.operators.mlflow import (
    MlflowPromotionGateOperator,
    MlflowRegisterModelOperator,
    MlflowReproduceOperator,
    MlflowRollbackOperator,
)
from airflow_provider_parity.operators.step import ParityStepOperator
from airflow_provider_parity.operators.verdict import GateVerdictOperator

GATE = {"contract_path": "contracts/c.yaml", "data": "/lake/x.parquet"}
DRIFT = {"reference": "/lake/ref.parquet", "current": "/lake/cur.parquet"}
WRITE = {"table": "/lake/t", "data_path": "/lake/x.parquet"}
MODEL = {"model_name": "churn"}
LABELS = {"contract_path": "contracts/labels.yaml", "annotations": "/lake/annotations"}

# (operator, good arguments, the wrong ones, a substring of the message)
CASES: list[tuple[type, dict[str, Any], dict[str, Any], str]] = [
    (DataContractGateOperator, GATE, {"data": None}, "exactly one of data= and sql="),
    (DataContractGateOperator, GATE, {"sql": "select 1"}, "exactly one of data= and sql="),
    (DataContractGateOperator, GATE, {"data": None, "sql": "select 1"}, "sql= needs conn_id="),
    (DataContractGateOperator, GATE, {"engine": "pandas"}, "engine must be one of"),
    (DataContractGateOperator, GATE, {"references": "customers.parquet"}, "references must be a mapping"),
    (DataContractGateOperator, GATE, {"references": {"customers": ""}}, "references['customers'] must be a non-empty"),
    (DataContractGateOperator, GATE, {"environment": "prod"}, "environment must be one of"),
    (DataContractGateOperator, GATE, {"version": -1}, "version must be a whole number from 0"),
    (DataContractGateOperator, GATE, {"version": "latest"}, "version must be a whole number"),
    (DataContractGateOperator, GATE, {"version": 1.5}, "version must be a whole number"),
    (DataContractGateOperator, GATE, {"contract_path": ""}, "contract_path must be a non-empty string"),
    (DataContractGateOperator, GATE, {"contract_path": None}, "contract_path must be a non-empty string"),
    (DriftGateOperator, DRIFT, {"current": None}, "exactly one of current= and sql="),
    (DriftGateOperator, DRIFT, {"engine": "duckdb"}, "engine must be one of"),
    (DriftGateOperator, DRIFT, {"spark_conn_id": "spark_local"}, "spark_conn_id= needs engine='spark'"),
    (DriftGateOperator, DRIFT, {"reference_version": -1}, "reference_version must be a whole number"),
    (DriftGateOperator, DRIFT, {"current_version": "x"}, "current_version must be a whole number"),
    (DriftGateOperator, DRIFT, {"time_column": "t", "time_window": "0s"}, "longer than zero"),
    (DriftGateOperator, DRIFT, {"time_column": "t", "time_window": "99999999999999999999d"}, "out of range"),
    (DriftGateOperator, DRIFT, {"time_column": "t", "time_window": "daily"}, "invalid duration"),
    (DriftGateOperator, DRIFT, {"time_window": "1d"}, "need time_column="),
    (DriftGateOperator, DRIFT, {"current_lookback": "1d"}, "need time_column="),
    (DriftGateOperator, DRIFT, {"time_column": "t", "current_lookback": "-1d"}, "invalid duration"),
    (DriftGateOperator, DRIFT, {"on_no_baseline": "warn"}, "on_no_baseline must be one of"),
    (DriftGateOperator, DRIFT, {"on_insufficient_data": None}, "on_insufficient_data must be one of"),
    (DriftGateOperator, DRIFT, {"reference_format": "csv"}, "reference_format must be one of"),
    (DriftGateOperator, DRIFT, {"current_format": "profile"}, "current_format must be one of"),
    (DriftGateOperator, DRIFT, {"feature_importance": {"a": float("nan")}}, "feature_importance['a']"),
    (DriftGateOperator, DRIFT, {"feature_importance": {"a": -1}}, "feature_importance['a']"),
    (DriftGateOperator, DRIFT, {"feature_importance": ["a"]}, "must be a mapping"),
    (DeltaSnapshotOperator, {"table": "/lake/t"}, {"pin": "oldest"}, "pin must be one of"),
    (DeltaSnapshotOperator, {"table": "/lake/t"}, {"pin": "version"}, "pin='version' needs version="),
    (DeltaSnapshotOperator, {"table": "/lake/t"}, {"pin": "version", "version": -3}, "version must be a whole number"),
    (DeltaSnapshotOperator, {"table": "/lake/t"}, {"table": ""}, "table must be a non-empty string"),
    (DeltaWriteOperator, WRITE, {"data_path": None}, "exactly one of data="),
    (DeltaWriteOperator, WRITE, {"data": lambda context: None}, "exactly one of data="),
    (DeltaWriteOperator, WRITE, {"data_path": None, "data": "not callable"}, "data= must be a callable"),
    (DeltaWriteOperator, WRITE, {"mode": "upsert"}, "mode must be one of"),
    (DeltaWriteOperator, WRITE, {"schema_mode": "replace"}, "schema_mode must be one of"),
    (DeltaWriteOperator, WRITE, {"partition_by": "region"}, "partition_by must be a list of names"),
    (DeltaWriteOperator, WRITE, {"partition_by": ["region", ""]}, "partition_by item must be a non-empty string"),
    (DeltaCompletenessOperator, {"table": "/lake/t", "minimums": {"a": 0.9}}, {"minimums": None}, "minimums="),
    (DeltaCompletenessOperator, {"table": "/lake/t", "minimums": {"a": 0.9}}, {"minimums": {"a": 1.5}},
     "minimums['a'] must be between 0 and 1"),
    (DeltaCompletenessOperator, {"table": "/lake/t", "minimums": {"a": 0.9}}, {"minimums": {"a": "high"}},
     "minimums['a']"),
    (DeltaCompletenessOperator, {"table": "/lake/t", "minimums": {"a": 0.9}}, {"version": "v2"}, "version must be"),
    (MlflowRegisterModelOperator, {**MODEL, "run_id": "abc"}, {"model_name": ""}, "model_name must be a non-empty"),
    (MlflowRegisterModelOperator, {**MODEL, "run_id": "abc"}, {"run_id": None}, "run_id must be a non-empty"),
    (MlflowRegisterModelOperator, {**MODEL, "run_id": "abc"}, {"alias": " "}, "alias must be a non-empty"),
    (MlflowPromotionGateOperator, {**MODEL, "policy": {}}, {"on_blocked": "warn"}, "on_blocked must be"),
    (MlflowPromotionGateOperator, {**MODEL, "policy": {}}, {"challenger_version": 0}, "challenger_version must be"),
    (MlflowRollbackOperator, {**MODEL, "reason": "bad model"}, {"reason": ""}, "reason must be a non-empty"),
    (MlflowRollbackOperator, {**MODEL, "reason": "bad model"}, {"to_version": "two"}, "to_version must be"),
    (MlflowReproduceOperator, {**MODEL, "version": 3}, {"version": None}, "version must be a whole number from 1"),
    (MlflowReproduceOperator, {**MODEL, "version": 3}, {"version": "abc"}, "version must be a whole number from 1"),
    (MlflowReproduceOperator, {**MODEL, "version": 3}, {"version": -1}, "version must be a whole number from 1"),
    (ParityStepOperator, {"step": "pkg.mod:fn"}, {"step": "pkg.mod"}, "must be 'package.module:function'"),
    (ParityStepOperator, {"step": "pkg.mod:fn"}, {"step": ":fn"}, "must be 'package.module:function'"),
    (ParityStepOperator, {"step": "pkg.mod:fn"}, {"step": "pkg.mod:1fn"}, "must be 'package.module:function'"),
    (ParityStepOperator, {"step": "pkg.mod:fn"}, {"op_kwargs": [1, 2]}, "op_kwargs must be a mapping"),
    (GateVerdictOperator, {"gates": ["a"]}, {"gates": "contract_gate"}, "gates must be a list of names"),
    (GateVerdictOperator, {"gates": ["a"]}, {"gates": ["a", None]}, "gates item must be a non-empty string"),
    (LabelQualityGateOperator, LABELS, {"features_where": "feature_date=2026-11-30"}, "features_where must be a mapping"),
    (LabelQualityGateOperator, LABELS, {"features_where": {"feature_date": None}}, "must be one value"),
]


def _ids() -> list[str]:
    return [f"{op.__name__}-{'-'.join(bad)}-{i}" for i, (op, _, bad, _) in enumerate(CASES)]


@pytest.mark.parametrize(("operator", "good", "bad", "needle"), CASES, ids=_ids())
def test_a_wrong_argument_fails_at_parse_time(operator: type, good: dict[str, Any], bad: dict[str, Any],
                                              needle: str) -> None:
    operator(task_id="ok", **good)  # the good arguments alone construct: the bad one is what fails
    with pytest.raises(ConfigurationError) as info:
        operator(task_id="bad", **{**good, **bad})
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert needle in message and "\n" not in message and len(message) < 400
    assert operator.__name__ in message


@pytest.mark.parametrize(("operator", "arguments"), [
    (DataContractGateOperator, {**GATE, "version": "{{ ti.xcom_pull('pin')['version'] }}"}),
    (DriftGateOperator, {**DRIFT, "time_column": "t", "current_lookback": "{{ params.lookback }}"}),
    (DeltaSnapshotOperator, {"table": "/lake/t", "pin": "version", "version": "{{ params.v }}"}),
    (MlflowReproduceOperator, {**MODEL, "version": "{{ params.version }}"}),
    (DataContractGateOperator, {**GATE, "version": "7"}),
])
def test_templated_values_wait_for_run_time(operator: type, arguments: dict[str, Any]) -> None:
    operator(task_id="templated", **arguments)


def test_an_xcom_argument_waits_for_run_time() -> None:
    from airflow.sdk import DAG

    with DAG("xcom_arguments", schedule=None):
        pin = DeltaSnapshotOperator(task_id="pin", table="/lake/t", pin="latest")
        DataContractGateOperator(task_id="gate", **GATE, version=pin.output["version"])
        MlflowReproduceOperator(task_id="reproduce", model_name=pin.output["model"], version=pin.output["v"])
