"""What every DAG of the bundle shares: owner, retries, tags, the day a run is about, gate callbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Param

from airflow_provider_parity.operators.drift import DriftGateOperator
from airflow_provider_parity.operators.verdict import record_block_reason
from churn.settings import Settings, gate_alerts, load_settings

OWNER = "ml-platform"
DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    # Transient failures (a busy store, a pod eviction) get one more try; gates fail without retry.
    "retries": 1,
    "retry_delay": timedelta(minutes=2),
}
START = datetime(2026, 1, 1)
# Every DAG of the bundle: no backfill of missed intervals on deploy, one run at a time per DAG
# (a run pins, trains and promotes: two at once would race for the champion alias).
DAG_DEFAULTS: dict[str, Any] = {"start_date": START, "catchup": False, "max_active_runs": 1,
                                "default_args": DEFAULT_ARGS}
# Gates keep their one-line reason for the run's verdict task, and page (and resolve) through
# Slack/PagerDuty when [parity] alert_*_conn_id name connections.
GATE_ALERTS = gate_alerts(load_settings())
GATE_CALLBACKS = [record_block_reason, *GATE_ALERTS]
if GATE_ALERTS:  # a gate that passes again resolves its alert; other tasks publish no outcome and send nothing
    DEFAULT_ARGS["on_success_callback"] = GATE_ALERTS


def feature_day(dag_run: Any) -> str:
    """The day a run builds or trains on: the day before the run's logical date (or run_after).

    Daily runs at 00:00 process the day that just ended; manual and asset-triggered runs have
    no logical date in Airflow 3, so their run_after stands in.
    """
    moment: datetime = getattr(dag_run, "logical_date", None) or dag_run.run_after
    return (moment - timedelta(days=1)).date().isoformat()


def day_end(day: str) -> str:
    """The end of ``day`` (the next midnight, UTC) as ISO 8601: the one "now" every freshness
    judgement of a run uses, so a day processed late (a manual run the next afternoon, a backfill)
    is judged as its scheduled run would have been."""
    start = datetime.fromisoformat(str(day)).replace(tzinfo=UTC)
    return (start + timedelta(days=1)).isoformat()


MACROS = {"feature_day": feature_day, "day_end": day_end}
DAY = "{{ params.day or feature_day(dag_run) }}"
"""The day a run processes: the ``day`` param when given (``conf={"day": ...}``), else the day before its date."""
AS_OF = "{{ day_end(params.day or feature_day(dag_run)) }}"
"""That day's end: the run's moment for freshness, snapshot pins and serving lookbacks."""
DAY_DAG_DEFAULTS: dict[str, Any] = {**DAG_DEFAULTS, "user_defined_macros": MACROS,
                                    "render_template_as_native_obj": True}
"""The DAGs that process a day (:data:`DAY`): its macros, and native rendering, so a task gets a pulled
dict as a dict; their ``params`` start with :func:`day_param`."""


def day_param(meaning: str) -> Param:
    """The ``day`` param: ``meaning`` (what the day is to this DAG), by default the day before the run's date."""
    return Param(None, type=["null", "string"], format="date",
                 description=f"{meaning} (default: the day before the run's date).")


def skew_gate(*, task_id: str, reference: str, reference_version: str, settings: Settings,
              **kwargs: Any) -> DriftGateOperator:
    """Training data (a pinned Delta version) versus the recent serving log, by the contract's drift policy.

    The one definition of training-versus-serving skew for the bundle: the retraining gate and
    the hourly monitor compare the same way, only their reference differs.
    """
    return DriftGateOperator(
        task_id=task_id,
        reference=reference,
        reference_version=reference_version,
        reference_format="delta",
        current=settings.serving_log_table,
        current_format="delta",
        contract_path=settings.contract_path,
        time_column="served_at",
        current_lookback=settings.skew_lookback,
        gate_kind="skew",
        **kwargs,
    )
