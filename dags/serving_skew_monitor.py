"""serving_skew_monitor: what serving sees versus what the champion was trained on, hourly.

Finds the champion's pinned training snapshot through MLflow, compares the recent serving
feature log with it feature by feature (drift report with attribution), compares every logged
request with the offline features of the same customer as of the request (per-entity skew:
``feature_skew``), and on a distribution breach emits the ``churn.serving_skew_breach`` asset,
which triggers daily_retraining, when the retraining policy (churn.retraining_policy) agrees: not
within its minimum interval of the last retraining nor the champion's evaluation window.
Distribution alerts (GateAlertNotifier's file) follow ``skew_alert_persistence`` (N
breached windows of the last M) and ``skew_alert_cooldown``; the breaches are kept in an Airflow
Variable per gate and dataset (the provider's notifications.cooldown). A per-entity mismatch alerts
at once: every mismatched value is a bug.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, get_current_context, task

from airflow_provider_parity.compat import AirflowSkipException
from airflow_provider_parity.notifications.gate_alert import GateAlertNotifier
from airflow_provider_parity.operators.feature_skew import FeatureSkewGateOperator
from airflow_provider_parity.operators.retraining import RetrainingPolicyOperator
from airflow_provider_parity.operators.verdict import GateVerdictOperator
from airflow_provider_parity.operators.watch import PostPromotionWatchOperator
from churn.assets import SKEW_BREACH
from churn.dagdefaults import DAG_DEFAULTS, GATE_ALERTS, GATE_CALLBACKS, skew_gate
from churn.retraining_policy import RETRAINING_POLICY, WATCH_POLICY
from churn.settings import load_settings

settings = load_settings()

with DAG(
    dag_id="serving_skew_monitor",
    description="Serving feature log vs the champion's training snapshot; alert and request retraining on skew",
    schedule="@hourly",
    **DAG_DEFAULTS,
    tags=["parity", "churn", "monitoring"],
    doc_md=__doc__,
) as dag:

    @task
    def find_champion() -> dict[str, Any]:
        """The champion's training input; skips the run when there is no champion yet."""
        from churn.serving import champion_training_input

        found = champion_training_input(model_name=settings.model_name, mlflow_conn_id=settings.mlflow_conn_id)
        if found is None:
            raise AirflowSkipException(f"no champion for {settings.model_name!r} yet: nothing to compare with")
        return found

    # Distribution alerts after N breached windows of the last M, once per cooldown; a window that
    # passes again closes the alert (so the notifier is the success callback too).
    skew_alert = GateAlertNotifier(alert_file=settings.alert_file, persistence=settings.skew_alert_persistence,
                                   cooldown=settings.skew_alert_cooldown)
    skew = skew_gate(
        task_id="serving_skew",
        reference="{{ ti.xcom_pull(task_ids='find_champion')['uri'] }}",
        reference_version="{{ ti.xcom_pull(task_ids='find_champion')['version'] }}",
        settings=settings,
        on_failure_callback=[*GATE_CALLBACKS, skew_alert],
        on_success_callback=[*GATE_ALERTS, skew_alert],
    )

    # Value by value: each logged request against the offline features of its customer as of the
    # request (a day's features hold from the start of that day). Distribution drift cannot see an
    # online path that rounds differently; this gate names the feature and the customers.
    entity_skew = FeatureSkewGateOperator(
        task_id="feature_skew",
        serving_log=settings.serving_log_table,
        offline=settings.features_table,
        contract_path=settings.contract_path,
        as_of_column="feature_date",
        log_lookback=settings.skew_lookback,
        on_failure_callback=[*GATE_CALLBACKS, GateAlertNotifier(alert_file=settings.alert_file)],
    )

    # The retraining policy decides whether a breach asks for a retraining (too soon after the last
    # one, or the champion still in its evaluation window: no), and records why.
    decide = RetrainingPolicyOperator(task_id="retraining_policy", policy=RETRAINING_POLICY, mode="request",
                                      drift_task="serving_skew", trigger_rule="one_failed")

    @task(outlets=[SKEW_BREACH])
    def request_retraining() -> str:
        """Ask for retraining (an asset event), as the policy decided."""
        context = get_current_context()
        reason = context["ti"].xcom_pull(task_ids="serving_skew", key="parity_block_reason")
        context["outlet_events"][SKEW_BREACH].extra = {"reason": reason, "run_id": context["run_id"]}
        return f"retraining requested: {reason}"

    # Within the evaluation window after a promotion: the new champion's live signals against the
    # previous champion's; a breached guardrail rolls back (and alerts) with the reason on the version.
    watch = PostPromotionWatchOperator(task_id="watch_champion", model_name=settings.model_name,
                                       mlflow_conn_id=settings.mlflow_conn_id, policy=WATCH_POLICY,
                                       serving_log=settings.serving_log_table,
                                       prometheus_url=settings.prometheus_url or None, alert_file=settings.alert_file,
                                       on_failure_callback=GATE_CALLBACKS)

    verdict = GateVerdictOperator(task_id="verdict",
                                  gates=["serving_skew", "feature_skew", "retraining_policy", "watch_champion"])
    champion = find_champion()
    champion >> skew >> decide >> request_retraining() >> verdict
    champion >> entity_skew >> verdict
    champion >> watch >> verdict
