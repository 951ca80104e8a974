"""daily_retraining: fresh, contract-clean, skew-free data -> a challenger -> champion, or nothing.

Runs daily and whenever feature_pipeline commits a new feature version or the serving
monitor reports skew. Every step that judges the data or the model is a gate: the
freshness sensor, the contract gate on the pinned snapshot, the skew gate (training snapshot
versus recent serving traffic) and the promotion gate. A gate that blocks fails its task,
nothing downstream runs, and the verdict task fails the run with "blocked at <gate>: <why>".
The model trains on one pinned Delta version; MLflow records the pin, its fingerprint, the
contract and the gate results, so the training set can be recreated exactly.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, AssetOrTimeSchedule, CronTriggerTimetable, Param

from airflow_provider_parity.notifications.gate_alert import GateAlertNotifier
from airflow_provider_parity.operators.approval import MlflowPromotionApprovalOperator
from airflow_provider_parity.operators.contract_gate import DataContractGateOperator
from airflow_provider_parity.operators.delta import DeltaSnapshotOperator
from airflow_provider_parity.operators.labels import LabelQualityGateOperator
from airflow_provider_parity.operators.mlflow import MlflowPromotionGateOperator, MlflowRegisterModelOperator
from airflow_provider_parity.operators.retraining import RetrainingPolicyOperator
from airflow_provider_parity.operators.step import parity_step
from airflow_provider_parity.operators.verdict import GateVerdictOperator
from airflow_provider_parity.sensors.delta import DeltaFreshnessSensor
from churn.assets import SKEW_BREACH, features_asset
from churn.dagdefaults import AS_OF, DAY, DAY_DAG_DEFAULTS, GATE_CALLBACKS, day_param, skew_gate
from churn.datagen import annotations_path
from churn.policy import PROMOTION_POLICY
from churn.retraining_policy import RETRAINING_POLICY
from churn.settings import load_settings

settings = load_settings()
PIN = "{{ ti.xcom_pull(task_ids='pin_snapshot')['version'] }}"
GATES = ["features_fresh", "contract_gate", "skew_gate", "label_gate", "retraining_policy", "promotion_gate",
         "promotion_approval"]

with DAG(
    dag_id="daily_retraining",
    description="Pinned snapshot -> contract and skew gates -> train -> evaluate -> register -> promotion gate",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 2 * * *", timezone="UTC"),
                                 assets=features_asset(settings) | SKEW_BREACH),
    **DAY_DAG_DEFAULTS,
    tags=["parity", "churn", "training"],
    params={"promotion_policy": Param(PROMOTION_POLICY, type="object",
                                      description="What a challenger must show to become champion."),
            "retraining_policy": Param(RETRAINING_POLICY, type="object",
                                       description="When to retrain, skip or refuse (intervals, drift, labels)."),
            "day": day_param("The feature day this run trains after; freshness is judged at its end")},
    doc_md=__doc__,
) as dag:
    fresh = DeltaFreshnessSensor(
        task_id="features_fresh",
        table=settings.features_table,
        contract=settings.contract_path,
        reference=AS_OF,
        timeout=settings.freshness_timeout,
        poke_interval=max(1, min(300, settings.freshness_timeout // 10)),
        mode="reschedule" if settings.freshness_timeout > 600 else "poke",
        on_failure_callback=GATE_CALLBACKS,
    )
    pin = DeltaSnapshotOperator(task_id="pin_snapshot", table=settings.features_table, pin="latest")
    contract_gate = DataContractGateOperator(
        task_id="contract_gate",
        contract_path=settings.contract_path,
        data=settings.features_table,
        version=PIN,
        environment="training",
        as_of=AS_OF,
        on_failure_callback=GATE_CALLBACKS,
    )
    skew = skew_gate(
        task_id="skew_gate",
        reference=settings.features_table,
        reference_version=PIN,
        settings=settings,
        as_of=AS_OF,
        on_failure_callback=GATE_CALLBACKS,
    )
    # The day's labelled items: annotators who disagree (or one who flips a class) block training.
    label_gate = LabelQualityGateOperator(
        task_id="label_gate",
        contract_path=settings.labels_contract_path,
        annotations=annotations_path(settings.lake_uri, DAY),
        reference=settings.features_table,
        reference_version=PIN,
        # The labelled customers' features on the day they were labelled: identical features with
        # different labels are items the model cannot learn (a labelling rule, not the data, changed).
        features=settings.features_table,
        features_version=PIN,
        features_where={"feature_date": DAY},
        on_failure_callback=GATE_CALLBACKS,
    )
    # Retrain, skip (too soon, or the champion is in its evaluation window) or forbid (labels under the floor).
    decide = RetrainingPolicyOperator(task_id="retraining_policy", policy="{{ params.retraining_policy }}",
                                      as_of=AS_OF, drift_task="skew_gate", labels_task="label_gate",
                                      on_failure_callback=GATE_CALLBACKS)
    train = parity_step(
        task_id="train",
        step="churn.training:train",
        op_kwargs={
            "table_uri": settings.features_table,
            "version": PIN,
            "contract_path": settings.contract_path,
            # The gates' outcomes travel through XCom (never a path on one worker's disk).
            "gate_outcomes": {"contract": "{{ ti.xcom_pull(task_ids='contract_gate', key='parity_outcome') }}",
                              "skew": "{{ ti.xcom_pull(task_ids='skew_gate', key='parity_outcome') }}",
                              "labels": "{{ ti.xcom_pull(task_ids='label_gate', key='parity_outcome') }}"},
            "mlflow_conn_id": settings.mlflow_conn_id,
            "airflow": {"dag_id": "{{ dag.dag_id }}", "run_id": "{{ run_id }}", "task_id": "train",
                        "try_number": "{{ ti.try_number }}"},
        },
    )
    evaluate = parity_step(
        task_id="evaluate",
        step="churn.training:evaluate",
        op_kwargs={"run_id": "{{ ti.xcom_pull(task_ids='train')['run_id'] }}", "table_uri": settings.features_table,
                   "version": PIN, "mlflow_conn_id": settings.mlflow_conn_id},
    )
    register = MlflowRegisterModelOperator(
        task_id="register",
        model_name=settings.model_name,
        run_id="{{ ti.xcom_pull(task_ids='train')['run_id'] }}",
        mlflow_conn_id=settings.mlflow_conn_id,
    )
    # The gate and the approval judge the same challenger under the same policy.
    challenger: dict[str, Any] = {"model_name": settings.model_name, "policy": "{{ params.promotion_policy }}",
                                  "challenger_version": "{{ ti.xcom_pull(task_ids='register')['version'] }}",
                                  "mlflow_conn_id": settings.mlflow_conn_id, "on_failure_callback": GATE_CALLBACKS}
    promote = MlflowPromotionGateOperator(task_id="promotion_gate", **challenger)
    # Returns at once under the default policy (approval: none); with approval: required it waits for a person.
    approval = MlflowPromotionApprovalOperator(task_id="promotion_approval", **challenger)
    verdict = GateVerdictOperator(
        task_id="verdict",
        gates=GATES,
        on_failure_callback=[GateAlertNotifier(alert_file=settings.alert_file)],
    )
    fresh >> pin >> [contract_gate, skew, label_gate] >> decide >> train >> evaluate >> register >> promote >> approval
    approval >> verdict
