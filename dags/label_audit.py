"""label_audit: every week, a sample of recent labelled items goes back for re-annotation.

Samples the same number of recently labelled items per consensus class (``per_class``, default the
label contract's ``audit_sample``; the annotations of the last ``lookback_days``), writes the sample
to the lake for the annotation tool (``labels/audit/date=D/sample.parquet``), and judges the
annotators' agreement on those items by the label contract. The judgement is a gate outcome (gate
``label_audit``) in the results ledger: the audit's agreement over time, which the retraining
policy's label floor reads when a run has no label gate of its own. A failed audit alerts.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_parity.notifications.gate_alert import GateAlertNotifier
from airflow_provider_parity.operators.step import parity_step
from airflow_provider_parity.operators.verdict import GateVerdictOperator
from churn.dagdefaults import DAY, DAY_DAG_DEFAULTS, GATE_CALLBACKS, day_param
from churn.settings import load_settings

settings = load_settings()

with DAG(
    dag_id="label_audit",
    description="Sample recent labelled items per class for re-annotation; record the audit's agreement",
    schedule="@weekly",
    **DAY_DAG_DEFAULTS,
    tags=["parity", "churn", "labels"],
    params={
        "day": day_param("The audit's last day"),
        "per_class": Param(None, type=["null", "integer"], minimum=1,
                           description="Items per class to re-annotate (default: the contract's labels.audit_sample)."),
        "lookback_days": Param(7, type="integer", minimum=1, description="Days of annotations that count as recent."),
    },
    doc_md=__doc__,
) as dag:
    audit = parity_step(
        task_id="label_audit",
        step="churn.labels:run_audit",
        op_kwargs={"lake_uri": settings.lake_uri, "contract_path": settings.labels_contract_path, "day": DAY,
                   "lookback_days": "{{ params.lookback_days }}", "per_class": "{{ params.per_class }}"},
        gate="label_audit",
        on_failure_callback=[*GATE_CALLBACKS, GateAlertNotifier(alert_file=settings.alert_file)],
    )
    verdict = GateVerdictOperator(task_id="verdict", gates=["label_audit"])
    audit >> verdict
