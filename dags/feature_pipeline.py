"""feature_pipeline: raw orders and customers -> dbt -> contract gate -> a new Delta version.

Daily. Lands the day's raw extract, builds the features with dbt (its data tests, compiled
from the data contract, are the first gate), checks the built table against the contract
(Great Expectations), and only then commits it as a new version of the feature table, which
emits the asset event daily_retraining listens to, and materialises that version into the online
store ``parity serve`` reads. A failed gate stops the run before the
write: the feature table never holds a day that broke its contract.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_parity.notifications.gate_alert import GateAlertNotifier
from airflow_provider_parity.operators.contract_gate import DataContractGateOperator
from airflow_provider_parity.operators.delta import DeltaWriteOperator
from airflow_provider_parity.operators.ledger import CompactLedgerOperator
from airflow_provider_parity.operators.materialize import MaterializeOperator
from airflow_provider_parity.operators.step import parity_step
from airflow_provider_parity.operators.verdict import GateVerdictOperator
from churn.assets import features_asset
from churn.dagdefaults import AS_OF, DAY, DAY_DAG_DEFAULTS, GATE_CALLBACKS, day_param
from churn.settings import load_settings

settings = load_settings()
BUILT = "{{ ti.xcom_pull(task_ids='dbt_build')['features_path'] }}"

with DAG(
    dag_id="feature_pipeline",
    description="Raw orders and customers -> dbt -> contract gate -> customer_features (Delta)",
    schedule="@daily",
    **DAY_DAG_DEFAULTS,
    tags=["parity", "churn", "features"],
    params={
        "day": day_param("The day to build"),
        "faults": Param("", type="string",
                        description="Synthetic source only: comma-separated faults to inject "
                                    "(schema_break, null_spike, range_violation, duplicate_keys, stale)."),
    },
    doc_md=__doc__,
) as dag:
    ingest = parity_step(
        task_id="ingest_raw",
        step="churn.features:ingest_raw",
        op_kwargs={"day": DAY, "lake_uri": settings.lake_uri, "faults": "{{ params.faults }}"},
    )
    dbt_build = parity_step(
        task_id="dbt_build",
        step="churn.features:build_features",
        op_kwargs={"day": DAY, "lake_uri": settings.lake_uri, "dbt_project_dir": settings.dbt_project_dir,
                   "dbt_target": settings.dbt_target},
        # dbt's data tests, compiled from the contract, make this step a gate.
        gate="dbt",
        inputs=[f"{settings.lake_uri}/raw/{table}/date={DAY}/part-0.parquet" for table in ("customers", "orders")],
        outputs=[f"{settings.lake_uri}/staging/customer_features/date={DAY}.parquet"],
        on_failure_callback=GATE_CALLBACKS,
    )
    contract_gate = DataContractGateOperator(
        task_id="contract_gate",
        contract_path=settings.contract_path,
        data=BUILT,
        as_of=AS_OF,
        on_failure_callback=GATE_CALLBACKS,
    )
    write = DeltaWriteOperator(
        task_id="write_features",
        table=settings.features_table,
        data_path=BUILT,
        contract=settings.contract_path,
        mode="overwrite",
        replace_where="feature_date = '" + DAY + "'",
        partition_by=["feature_date"],
        outlets=[features_asset(settings)],
    )
    # The version just written passed the contract gate: it is what the online service may serve.
    materialize = MaterializeOperator(
        task_id="materialize",
        table=settings.features_table,
        version="{{ ti.xcom_pull(task_ids='write_features')['snapshot']['version'] }}",
        contract_path=settings.contract_path,
        online_store=settings.online_store,
    )
    # Once a day, whatever the gates decided: the ledger's small files (one per outcome) into a few,
    # so the Parity view and the metrics read it fast. Before the verdict, which stays the run's last
    # task and so still decides whether the run failed.
    compact = CompactLedgerOperator(task_id="compact_ledger", trigger_rule="all_done")
    verdict = GateVerdictOperator(
        task_id="verdict",
        gates=["dbt_build", "contract_gate"],
        on_failure_callback=[GateAlertNotifier(alert_file=settings.alert_file)],
    )
    ingest >> dbt_build >> contract_gate >> write >> materialize >> compact >> verdict
